// npm run demo:interop — Commonweal with the reference CRVS, IBR and DR registries wired as data
// sources, and the scripted story of issue 6, step by step, over real HTTP (a throw-away database).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createSystem } from '../src/app.js';
import { loadConfig } from '../src/platform/config.js';
import { systemActor } from '../src/platform/auth/access-tokens.js';
import { wireSimulator } from '../src/modules/dci/client/client.test-support.js';

const step = (title: string, detail: unknown) => console.log(`\n▶ ${title}\n  ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
const context = { actor: systemActor('demo') };

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'commonweal-interop-'));
const config = loadConfig({ DATA_DIR: dataDir, SEED_DEMO_DATA: 'false', JOB_WORKERS: '0', LOG_LEVEL: 'silent', PUBLIC_URL: 'http://127.0.0.1', RATE_LIMIT_PER_MINUTE: '0', ENCRYPTION_KEK: crypto.randomBytes(32).toString('base64'), DCI_SENDER_ID: 'commonweal.test' });
const system = await createSystem(config, { logger: pino({ level: 'silent' }) });
await system.http.listen({ port: 0, host: '127.0.0.1' });
const address = system.http.server.address();
const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
const sims = [await wireSimulator(system, 'crvs', url), await wireSimulator(system, 'ibr', url), await wireSimulator(system, 'dr', url)];
try {
  step('Commonweal and the reference registries are running', { commonweal: url, crvs: sims[0]!.url, ibr: sims[1]!.url, dr: sims[2]!.url });
  for (const code of ['crvs_main', 'ibr_main', 'dr_main']) {
    const report = await system.dciClients.test(code);
    step(`Test connection ${code}`, report.steps.map((item) => `${item.ok ? 'ok' : 'FAIL'} ${item.step}`).join(', '));
  }
  const registry = system.services.registry;
  const grace = await registry.createIndividual(context, { name: { given: 'Grace', family: 'Okello' }, birthDate: '1985-06-02', gender: '2', identifiers: [{ type: 'national-id', value: '100000001' }] } as never);
  const joseph = await registry.createIndividual(context, { name: { given: 'Joseph', family: 'Okello' }, birthDate: '1982-01-20', gender: '1', identifiers: [{ type: 'national-id', value: '100000002' }] } as never);
  const household = await registry.createGroup(context, { groupType: 'household', name: 'Okello household', members: [{ individual: grace.id, role: 'head' }, { individual: joseph.id, role: 'spouse' }] } as never);
  step('A household applies for the child benefit for its newborn (birth registration BR-2024-0042)', `household ${household.id}: Grace (head), Joseph`);
  const birth = await system.dciClients.crvs.verifyBirth('BR-2024-0042');
  step('The child\'s birth is verified against the CRVS', birth ? `found: born ${birth.person.birthDate}, parents ${birth.person.parents.map((parent) => parent.value).join(' & ')}` : 'NOT FOUND');
  const child = await registry.createIndividual(context, { name: { given: birth!.person.givenName!, family: birth!.person.familyName! }, birthDate: birth!.person.birthDate!, identifiers: [{ type: 'birth-registration', value: 'BR-2024-0042' }] } as never);
  await registry.addMember(context, household.id, { individual: child.id, role: 'child' });
  const duplicate = await system.dciClients.ibr.checkDuplication(grace.id);
  step('IBR check for the applicant (Grace): enrolled elsewhere?', duplicate.isDuplicate ? `DUPLICATE in ${duplicate.matchedPrograms.join(', ')}` : 'no duplicate');
  const disability = await system.dciClients.dr.getDisabilityStatus(grace.id);
  step('Grace\'s disability status comes from the DR', disability);
  await system.dciClients.dr.enqueueSync(context, [grace.id]);
  await system.jobs.drain();
  step('Stored on the registrant by the DR sync job', (await registry.getIndividual(context, grace.id)).disability);
  const subscriptions = await system.dciClients.crvs.subscribe(['death']);
  step('Commonweal subscribes to CRVS death notifications', subscriptions.map((item) => `${item.subscriptionCode} ${item.status}`).join(', '));
  await sims[0]!.recordEvent('death', { identifier: [{ identifier_type: 'UIN', identifier_value: '100000002' }], name: { given_name: 'Joseph', surname: 'Okello' }, death_date: '2026-11-20' });
  step('The CRVS registers Joseph\'s death and notifies', (await system.dciClients.crvs.listEvents()).map((event) => `${event.eventType}: ${event.status}`).join(', '));
  await system.jobs.drain();
  const after = await registry.getIndividual(context, joseph.id);
  step('The event job deactivates the registrant (audited; a manager can reactivate)', `Joseph active: ${after.isActive}, reason: ${after.deactivation?.reason}; event ${(await system.dciClients.crvs.listEvents())[0]?.status}`);
  console.log('\nDone.');
} finally {
  for (const sim of sims) await sim.stop();
  await system.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
