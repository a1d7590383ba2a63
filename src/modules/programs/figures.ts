import { sql } from 'drizzle-orm';
import { queryRows, type Db } from '../../platform/database/database.js';
import { areas } from '../areas/areas.tables.js';
import { registrants } from '../registry/registry.tables.js';
import { normaliseAmount } from './money.js';
import { fundsOf } from './programs.repository.js';
import type { ProgramService } from './programs.service.js';
import { cycles, entitlements, paymentBatches, payments, programMemberships } from './programs.tables.js';

/** A program's figures for the dashboard, every one an SQL aggregate (nothing counted in memory). */
export async function programFigures(db: Db, programs: ProgramService, ref: string) {
  const program = await programs.getRow(db, ref);
  const byState = await queryRows<{ state: string; count: number }>(db, sql`
    select state, count(*)::int as count from ${programMemberships} where program_id = ${program.id} group by state order by state`);
  const byArea = await queryRows<{ area: string | null; count: number }>(db, sql`
    select a.code as area, count(*)::int as count from ${programMemberships} pm
    join ${registrants} r on r.id = pm.registrant_id left join ${areas} a on a.id = r.area_id
    where pm.program_id = ${program.id} and pm.state = 'enrolled' group by a.code order by a.code nulls last`);
  const perCycle = await queryRows<{ id: string; sequence: number; name: string; state: string; planned: string; approved: string; paid: string; failed: string; beneficiaries: number }>(db, sql`
    select c.uuid::text as id, c.sequence, c.name, c.state,
      coalesce((select sum(e.amount) from ${entitlements} e where e.cycle_id = c.id and e.kind = 'cash'), 0)::text as planned,
      coalesce((select sum(e.amount) from ${entitlements} e where e.cycle_id = c.id and e.kind = 'cash' and e.state = 'approved'), 0)::text as approved,
      coalesce((select sum(p.amount) from ${payments} p join ${paymentBatches} b on b.id = p.batch_id where b.cycle_id = c.id and p.state = 'paid'), 0)::text as paid,
      coalesce((select sum(p.amount) from ${payments} p join ${paymentBatches} b on b.id = p.batch_id where b.cycle_id = c.id and p.state = 'failed'), 0)::text as failed,
      (select count(distinct e.membership_id)::int from ${entitlements} e where e.cycle_id = c.id) as beneficiaries
    from ${cycles} c where c.program_id = ${program.id} order by c.sequence`);
  const funds = await fundsOf(db, program.id);
  return {
    resourceType: 'ProgramFigures' as const, program: program.code, currency: program.currency,
    memberships: Object.fromEntries(byState.map((row) => [row.state, Number(row.count)])),
    enrolledByArea: byArea.map((row) => ({ area: row.area, count: Number(row.count) })),
    cycles: perCycle.map((row) => ({
      id: row.id, sequence: Number(row.sequence), name: row.name, state: row.state, beneficiaries: Number(row.beneficiaries),
      planned: normaliseAmount(row.planned), approved: normaliseAmount(row.approved), paid: normaliseAmount(row.paid), failed: normaliseAmount(row.failed),
    })),
    funds: { deposited: normaliseAmount(funds.deposited), committed: normaliseAmount(funds.committed), balance: normaliseAmount(funds.balance) },
  };
}
