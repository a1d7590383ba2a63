import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import { customFieldDefinitions, memberships, registrants } from '../registry/registry.tables.js';
import { RegistryRuleQuery } from '../registry/registry.rule-query.js';
import { RegistryEncryption } from '../registry/registry.encryption.js';
import type { RegistrantFacts } from '../registry/registry.rule-catalogue.js';
import { evaluateRule } from './rules.evaluate.js';
import type { RuleSubject } from './rules.types.js';

/**
 * Two executions, one meaning: for generated small registries (NULLs, households without members
 * or without a head, ended memberships, 29 February birthdays, incomes whose float sums are
 * inexact) and generated expressions, the registrants the compiled SQL selects are exactly those
 * the in-memory evaluator says match, at generated instants in several time zones.
 */

const AREAS = [
  { code: 'C', name: 'Country', kind: 'country' },
  { code: 'R1', name: 'North', kind: 'region', parentCode: 'C' },
  { code: 'D1', name: 'Riverside', kind: 'district', parentCode: 'R1' },
  { code: 'R2', name: 'South', kind: 'region', parentCode: 'C' },
];
const AREA_PATHS: Record<string, string[]> = { C: ['C'], R1: ['R1', 'C'], D1: ['D1', 'R1', 'C'], R2: ['R2', 'C'] };

const birthDates = ['1960-02-29', '1960-03-01', '1964-02-28', '1965-03-01', '2000-02-29', '2007-02-28', '2019-03-01', '2020-02-29', '2021-02-28', '2024-02-29', '2025-03-01'];
const instants = ['2024-02-29T23:30:00Z', '2025-02-28T12:00:00Z', '2025-03-01T00:30:00Z', '2025-02-28T23:59:00Z'];
const timeZones = ['UTC', 'Pacific/Kiritimati', 'America/Los_Angeles', 'Asia/Manila'];
const incomes = [0.1, 0.2, 0.3, 100, 150.5, 999.99, 0];

interface PersonModel { facts: RegistrantFacts; uuid: string }
interface HouseholdModel { facts: RegistrantFacts; uuid: string; members: Array<{ person: number; role: string; isActive: boolean }> }
interface RegistryModel { people: PersonModel[]; households: HouseholdModel[] }

const orNull = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: null, freq: 4 });

const personArb = fc.record({
  birthDate: orNull(fc.constantFrom(...birthDates)),
  gender: orNull(fc.constantFrom('1', '2', '0')),
  civilStatus: orNull(fc.constantFrom('married', 'single', 'widowed')),
  area: orNull(fc.constantFrom('C', 'R1', 'D1', 'R2')),
  hasDisability: orNull(fc.boolean()),
  disabilityTypes: orNull(fc.subarray(['visual', 'hearing', 'mobility'])),
  income: orNull(fc.constantFrom(...incomes)),
  grade: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
  registeredAt: fc.constantFrom('2024-01-01T00:00:00.000Z', '2025-02-01T10:00:00.000Z'),
});

const registryArb = fc.record({
  people: fc.array(personArb, { minLength: 1, maxLength: 9 }),
  households: fc.array(fc.record({
    area: orNull(fc.constantFrom('R1', 'D1', 'R2')),
    income: orNull(fc.constantFrom(...incomes)),
    rooms: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    members: fc.array(fc.record({ pick: fc.nat(), role: fc.constantFrom('head', 'spouse', 'child'), isActive: fc.boolean() }), { maxLength: 5 }),
  }), { minLength: 1, maxLength: 4 }),
}).map(({ people, households }): RegistryModel => {
  const peopleModels = people.map((p): PersonModel => ({
    uuid: crypto.randomUUID(),
    facts: {
      birthDate: p.birthDate, gender: p.gender, civilStatus: p.civilStatus, groupType: null, areaCode: p.area, areaPath: p.area ? AREA_PATHS[p.area]! : [],
      hasDisability: p.hasDisability, disabilityTypes: p.disabilityTypes, income: p.income, incomeCurrency: p.income === null ? null : 'PHP',
      isActive: true, registeredAt: p.registeredAt, custom: p.grade === undefined ? {} : { school_grade: p.grade }, identifiers: [],
    },
  }));
  const used = new Set<number>();
  const householdModels = households.map((h): HouseholdModel => {
    const members: HouseholdModel['members'] = [];
    let hasHead = false;
    for (const member of h.members) {
      const index = member.pick % peopleModels.length;
      // One membership per person here; one active head per household (as the registry enforces).
      if (used.has(index)) continue;
      const role = member.role === 'head' && (hasHead || !member.isActive) ? 'child' : member.role;
      if (role === 'head') hasHead = true;
      used.add(index);
      members.push({ person: index, role, isActive: member.isActive });
    }
    return {
      uuid: crypto.randomUUID(),
      members,
      facts: {
        birthDate: null, gender: null, civilStatus: null, groupType: 'household', areaCode: h.area, areaPath: h.area ? AREA_PATHS[h.area]! : [],
        hasDisability: null, disabilityTypes: null, income: h.income, incomeCurrency: h.income === null ? null : 'PHP', isActive: true,
        registeredAt: '2024-06-01T00:00:00.000Z', custom: h.rooms === undefined ? {} : { dwelling_rooms: h.rooms }, identifiers: [],
        members: members.filter((m) => m.isActive).map((m) => ({ ...peopleModels[m.person]!.facts, role: m.role })),
      },
    };
  });
  return { people: peopleModels, households: householdModels };
});

// ---- expressions -------------------------------------------------------------------------------

const cmp = fc.constantFrom('<', '<=', '>', '>=', '==', '!=');
const personAtom = (p: string): fc.Arbitrary<string> => fc.oneof(
  fc.tuple(cmp, fc.constantFrom(0, 1, 4, 5, 17, 18, 59, 60, 61, 64, 65)).map(([op, n]) => `${p}age ${op} ${n}`),
  fc.tuple(cmp, fc.constantFrom(...birthDates)).map(([op, d]) => `${p}birth_date ${op} date("${d}")`),
  fc.constantFrom(`${p}gender == "2"`, `${p}gender != "1"`, `${p}gender in ["1", "2"]`, `has(${p}gender)`, `${p}gender == null`),
  fc.constantFrom(`${p}has_disability`, `!${p}has_disability`, `"visual" in ${p}disability_types`, `size(${p}disability_types) >= 1`),
  fc.tuple(cmp, fc.constantFrom(...incomes)).map(([op, x]) => `${p}income ${op} ${x.toFixed(2)}`),
  fc.constantFrom(`${p}income * 2.0 > 300.0`, `${p}income / 0.0 > 1.0`, `${p}age / 0 > 1`, `${p}age % 7 == 3`, `${p}age + 1 > 60`, `double(${p}age) / 3.0 < 6.5`),
  fc.constantFrom(`${p}civil_status.startsWith("m")`, `${p}civil_status.contains("ngl")`, `${p}civil_status.matches("^w.*d$")`, `${p}civil_status < "single"`),
  fc.constantFrom(`${p}custom.school_grade >= 3`, `has(${p}custom.school_grade)`, `${p}registered_at > timestamp("2024-06-01T00:00:00Z")`, `${p}birth_date <= today`),
  fc.constantFrom(`${p}area == "R1"`),
);

function boolean(atom: fc.Arbitrary<string>, depth: number): fc.Arbitrary<string> {
  if (depth === 0) return atom;
  const next = boolean(atom, depth - 1);
  return fc.oneof(
    { arbitrary: atom, weight: 3 },
    fc.tuple(next, next).map(([a, b]) => `(${a} && ${b})`),
    fc.tuple(next, next).map(([a, b]) => `(${a} || ${b})`),
    next.map((a) => `!(${a})`),
    fc.tuple(next, next, next).map(([a, b, c]) => `(${a} ? ${b} : ${c})`),
  );
}

const individualExpression = boolean(fc.oneof(
  { arbitrary: personAtom(''), weight: 5 },
  fc.constantFrom('in_area("R1")', '!in_area("D1")', 'is_elderly', '(has(birth_date) ? age : 0 - 1) >= 18'),
), 2);

const memberPredicate = boolean(personAtom('m.'), 1);
const groupAtom = fc.oneof(
  fc.tuple(cmp, fc.constantFrom(0, 1, 2, 3)).map(([op, n]) => `size ${op} ${n}`),
  memberPredicate.map((p) => `members.exists(m, ${p})`),
  memberPredicate.map((p) => `members.all(m, ${p})`),
  memberPredicate.map((p) => `members.exists_one(m, ${p})`),
  fc.tuple(memberPredicate, cmp, fc.constantFrom(0, 1, 2)).map(([p, op, n]) => `members.count(m, ${p}) ${op} ${n}`),
  fc.tuple(memberPredicate, fc.constantFrom(0, 1, 2)).map(([p, n]) => `members.filter(m, ${p}).size() >= ${n}`),
  fc.constantFrom(
    'members.sum(m, m.age) > 60', 'members.sum(m, m.income) <= 0.3', 'members.sum(m, m.income) == 0.6', 'members.avg(m, m.age) > 10.0',
    'members.avg(m, m.income) < 100.0', 'members.min(m, m.birth_date) < date("2000-01-01")', 'members.max(m, m.age) >= 60',
    'head.gender == "2"', 'head.age >= 60', 'has(head)', '!has(head)', 'female_headed', 'elderly_headed', 'has_disabled_member',
    'per_capita_income < 100.0', 'per_capita_income >= 0.1', 'dependency_ratio > 1.0', 'dependency_ratio <= 1.0', 'child_count >= 1',
    'working_age_count == 0', '"2" in members.map(m, m.gender)', 'income > 100.0', 'in_area("R1")', 'custom.dwelling_rooms >= 2',
    'members.exists(m, m.role == "head" && m.age < 18)', 'members.filter(m, m.age < 18).sum(c, c.income) > 0.0', 'head.income / double(size) > 50.0',
  ),
);
const groupExpression = boolean(groupAtom, 2);

// ---- the property ------------------------------------------------------------------------------

describe('rules: SQL and in-memory evaluation agree', () => {
  let system: TestSystem;
  let query: RegistryRuleQuery;
  const actor = systemActor('parity');
  const areaIds = new Map<string, number>();

  before(async () => {
    system = await createTestSystem();
    await system.services.areas.importAreas({ actor }, AREAS);
    for (const area of AREAS) areaIds.set(area.code, (await system.services.areas.findAreaByCode(area.code))!.id);
    await system.database.db.insert(customFieldDefinitions).values([
      { appliesTo: 'individual', name: 'school_grade', label: 'School grade', valueSchema: { type: 'integer' } },
      { appliesTo: 'group', name: 'dwelling_rooms', label: 'Rooms', valueSchema: { type: 'integer' } },
    ]);
    query = new RegistryRuleQuery(system.database.db, system.services.registry, new RegistryEncryption(system.encryption.keyRing));
  });
  after(async () => { await system.close(); });

  async function load(model: RegistryModel): Promise<void> {
    const db = system.database.db;
    await db.execute(sql`delete from ${memberships}`);
    await db.execute(sql`delete from ${registrants}`);
    const row = (kind: 'individual' | 'group', uuid: string, facts: RegistrantFacts) => ({
      uuid, kind, displayName: 'x', nameSearch: 'x', groupType: facts.groupType, birthDate: facts.birthDate, gender: facts.gender, civilStatus: facts.civilStatus,
      areaId: facts.areaCode ? areaIds.get(facts.areaCode)! : null, hasDisability: facts.hasDisability, disabilityTypes: facts.disabilityTypes,
      monthlyIncome: facts.income === null ? null : facts.income.toFixed(2), incomeCurrency: facts.incomeCurrency, custom: facts.custom,
      createdAt: new Date(facts.registeredAt),
    });
    const people = await db.insert(registrants).values(model.people.map((p) => row('individual', p.uuid, p.facts))).returning({ id: registrants.id });
    const groups = await db.insert(registrants).values(model.households.map((h) => row('group', h.uuid, h.facts))).returning({ id: registrants.id });
    const links = model.households.flatMap((h, index) => h.members.map((m) => ({
      uuid: crypto.randomUUID(), groupId: groups[index]!.id, individualId: people[m.person]!.id, role: m.role, startDate: '2020-01-01', isActive: m.isActive,
    })));
    if (links.length > 0) await db.insert(memberships).values(links);
  }

  async function agree(subject: RuleSubject, model: RegistryModel, expressions: string[], at: string, timeZone: string): Promise<void> {
    await load(model);
    const subjects = subject === 'individual' ? model.people : model.households;
    // The facts the registry loads equal the generated ones (so evaluating either is the same).
    for (const s of subjects) {
      const loaded = await query.facts(actor, subject, s.uuid);
      assert.deepEqual(normalise(loaded!), normalise(s.facts), `facts of ${s.uuid}`);
    }
    for (const expression of expressions) {
      const input = { expression, subject, at, timeZone };
      const compiled = await system.services.rules.compile(input);
      const matched = new Set<string>();
      for await (const batch of query.uuidBatches(actor, subject, compiled.condition, 3)) for (const uuid of batch) matched.add(uuid);
      const expected = new Set(subjects.filter((s) => evaluateRule(compiled.checked, s.facts, compiled.evaluation) === true).map((s) => s.uuid));
      assert.deepEqual([...matched].sort(), [...expected].sort(), `${expression} at ${at} in ${timeZone} (today ${compiled.evaluation.today})`);
      assert.equal(await query.count(actor, subject, compiled.condition), expected.size, `count of ${expression}`);
    }
  }

  test('individual rules', async () => {
    await fc.assert(fc.asyncProperty(registryArb, fc.array(individualExpression, { minLength: 4, maxLength: 8 }), fc.constantFrom(...instants), fc.constantFrom(...timeZones),
      (model, expressions, at, timeZone) => agree('individual', model, expressions, at, timeZone)), { numRuns: 40 });
  });

  test('group rules (members, head, aggregates, standard variables)', async () => {
    await fc.assert(fc.asyncProperty(registryArb, fc.array(groupExpression, { minLength: 4, maxLength: 8 }), fc.constantFrom(...instants), fc.constantFrom(...timeZones),
      (model, expressions, at, timeZone) => agree('group', model, expressions, at, timeZone)), { numRuns: 40 });
  });

  test('a count honours its predicate: a household of adults has no children (the reference bug matched everyone)', async () => {
    const adult = (birthDate: string) => ({ ...model.people[0]!.facts, birthDate });
    const model: RegistryModel = { people: [], households: [] };
    model.people = ['1980-01-01', '1985-01-01', '2020-01-01'].map((birthDate) => ({ uuid: crypto.randomUUID(), facts: { ...emptyFacts(), birthDate } }));
    model.households = [
      { uuid: crypto.randomUUID(), members: [{ person: 0, role: 'head', isActive: true }, { person: 1, role: 'spouse', isActive: true }], facts: { ...emptyFacts(), groupType: 'household', members: [] } },
      { uuid: crypto.randomUUID(), members: [{ person: 2, role: 'head', isActive: true }], facts: { ...emptyFacts(), groupType: 'household', members: [] } },
    ];
    model.households[0]!.facts.members = [adult('1980-01-01'), adult('1985-01-01')];
    model.households[1]!.facts.members = [adult('2020-01-01')];
    await load(model);
    const compiled = await system.services.rules.compile({ expression: 'members.count(m, m.age < 18) >= 1', subject: 'group', at: '2025-01-01T00:00:00Z' });
    const matched: string[] = [];
    for await (const batch of query.uuidBatches(actor, 'group', compiled.condition)) matched.push(...batch);
    assert.deepEqual(matched, [model.households[1]!.uuid]);
    assert.equal(await query.count(actor, 'group', compiled.condition), 1);
    const sizeOnly = await system.services.rules.compile({ expression: 'members.count(m, m.age < 18) == size', subject: 'group', at: '2025-01-01T00:00:00Z' });
    assert.equal(await query.count(actor, 'group', sizeOnly.condition), 1);
  });
});

/** Members in a stable order; empty custom documents and identifiers as the registry returns them. */
function normalise(facts: RegistrantFacts): unknown {
  const { members, ...rest } = facts;
  return { ...rest, ...(members ? { members: members.map(normalise).map((m) => JSON.stringify(m)).sort() } : {}) };
}

function emptyFacts(): RegistrantFacts {
  return {
    birthDate: null, gender: null, civilStatus: null, groupType: null, areaCode: null, areaPath: [], hasDisability: null, disabilityTypes: null,
    income: null, incomeCurrency: null, isActive: true, registeredAt: '2024-01-01T00:00:00.000Z', custom: {}, identifiers: [],
  };
}
