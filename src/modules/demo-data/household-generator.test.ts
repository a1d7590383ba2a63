import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidPhoneNumber, parsePhoneNumberWithError } from 'libphonenumber-js';
import { createBodyValidator } from '../../platform/http/validation.js';
import { GroupInput, IndividualInput } from '../registry/registry.schemas.js';
import * as vocabularies from '../vocabularies/system-vocabularies.data.js';
import type { SystemVocabulary } from '../vocabularies/system-vocabularies.js';
import { ageOn, DEMO_REFERENCE_DATE, generateHouseholds, type HouseholdPlan } from './household-generator.js';
import { hasValidCheckCharacter } from './identifiers.js';
import { DEMO_VILLAGES } from './areas.js';

const codesOf = (vocabulary: SystemVocabulary) => new Set(vocabulary.codes.map((code) => code.code));
const generate = (households: number, seed: number, firstIndex?: number) => [...generateHouseholds({ households, seed, firstIndex })];

describe('generateHouseholds: determinism', () => {
  it('gives identical output for the same seed and different output for another', () => {
    assert.deepEqual(generate(300, 42), generate(300, 42));
    assert.notDeepEqual(generate(300, 42), generate(300, 43));
  });

  it('makes a household independent of how many are generated, so a dataset can be extended or sliced', () => {
    const full = generate(120, 9);
    assert.deepEqual(generate(60, 9), full.slice(0, 60));
    assert.deepEqual(generate(20, 9, 100), full.slice(100));
  });

  it('never uses Math.random', () => {
    const original = Math.random;
    Math.random = () => { throw new Error('Math.random was called'); };
    try {
      assert.equal(generate(200, 5).length, 200);
    } finally {
      Math.random = original;
    }
  });

  it('refuses seeds and counts it cannot keep unique', () => {
    assert.throws(() => generate(1, -1), RangeError);
    assert.throws(() => generate(1, 1.5), RangeError);
    assert.throws(() => generate(1, 2 ** 32), RangeError);
    assert.throws(() => generate(-1, 1), RangeError);
    assert.throws(() => generate(2, 1, 10 ** 9 - 1), RangeError);
  });
});

describe('generateHouseholds: 2,000 households', () => {
  const plans: HouseholdPlan[] = generate(2_000, 2024);
  const people = plans.flatMap((plan) => plan.members);
  const age = (member: HouseholdPlan['members'][number]) => ageOn(member.individual.birthDate, DEMO_REFERENCE_DATE);

  it('passes the registry\'s request schemas', () => {
    const checkIndividual = createBodyValidator(IndividualInput);
    const checkGroup = createBodyValidator(GroupInput);
    for (const plan of plans) {
      assert.deepEqual(checkGroup({ ...plan.group, members: plan.members.map((m) => ({ individual: '00000000-0000-4000-8000-000000000000', role: m.role, startDate: m.startDate })) }, ''), []);
      for (const member of plan.members) assert.deepEqual(checkIndividual(member.individual, ''), [], JSON.stringify(member.individual));
    }
  });

  it('gives each household exactly one head, listed first, and 1 to 9 members mostly around 4 to 5', () => {
    const sizes = new Map<number, number>();
    for (const plan of plans) {
      assert.equal(plan.members.filter((m) => m.role === 'head').length, 1);
      assert.equal(plan.members[0]!.role, 'head');
      assert.ok(plan.members.filter((m) => m.role === 'spouse').length <= 1);
      assert.ok(plan.members.length >= 1 && plan.members.length <= 9);
      sizes.set(plan.members.length, (sizes.get(plan.members.length) ?? 0) + 1);
    }
    const mean = people.length / plans.length;
    assert.ok(mean > 3.8 && mean < 5.2, `mean size ${mean}`);
    const commonest = [...sizes].sort((a, b) => b[1] - a[1])[0]![0];
    assert.ok(commonest === 4 || commonest === 5, `commonest size ${commonest}`);
  });

  it('keeps identifiers unique across the dataset: national ids for adults, birth registrations for children', () => {
    const values = new Set<string>();
    for (const plan of plans) {
      assert.deepEqual(plan.group.identifiers, [{ type: 'household-id', value: plan.householdId }]);
      for (const member of plan.members) {
        const [identifier, ...others] = member.individual.identifiers!;
        assert.equal(others.length, 0);
        assert.equal(identifier!.type, age(member) >= 18 ? 'national-id' : 'birth-registration');
        if (identifier!.type === 'national-id') {
          assert.match(identifier!.value, /^[A-Z0-9]{6,20}$/);
          assert.ok(hasValidCheckCharacter(identifier!.value));
        }
        values.add(`${identifier!.type}|${identifier!.value}`);
      }
      values.add(`household-id|${plan.householdId}`);
    }
    assert.equal(values.size, people.length + plans.length);
    // Another seed never reuses an identifier of this one.
    const otherSeed = generate(50, 2025).flatMap((plan) => [plan.householdId, ...plan.members.map((m) => m.individual.identifiers![0]!.value)]);
    assert.ok(otherSeed.every((value) => !values.has(`national-id|${value}`) && !values.has(`birth-registration|${value}`) && !values.has(`household-id|${value}`)));
  });

  it('has plausible ages: adult couples, children younger than their parents, parents older than the head', () => {
    for (const plan of plans) {
      const head = plan.members[0]!;
      const couple = plan.members.filter((m) => m.role === 'head' || m.role === 'spouse');
      for (const member of plan.members) {
        const years = age(member);
        assert.ok(years >= 0 && years <= 100, `age ${years}`);
        assert.ok(member.individual.birthDate <= DEMO_REFERENCE_DATE);
        assert.ok(member.startDate >= member.individual.birthDate && member.startDate <= DEMO_REFERENCE_DATE);
        if (member.role === 'head' || member.role === 'spouse') assert.ok(years >= 18, `${member.role} aged ${years}`);
        if (member.role === 'child') for (const parent of couple) assert.ok(age(parent) - years >= 15, `child ${years}, parent ${age(parent)}`);
        if (member.role === 'grandchild') assert.ok(age(head) - years >= 30, `grandchild ${years}, head ${age(head)}`);
        if (member.role === 'parent') assert.ok(years - age(head) >= 15, `parent ${years}, head ${age(head)}`);
      }
    }
    const heads = plans.map((plan) => age(plan.members[0]!));
    assert.ok(heads.filter((years) => years >= 25 && years <= 70).length / heads.length > 0.85);
  });

  it('heads about 30% of households with a woman, and most heads live with a spouse of the other sex', () => {
    const femaleHeaded = plans.filter((plan) => plan.members[0]!.individual.gender === '2').length / plans.length;
    assert.ok(femaleHeaded > 0.25 && femaleHeaded < 0.35, `female-headed ${femaleHeaded}`);
    const withSpouse = plans.filter((plan) => plan.members.some((m) => m.role === 'spouse'));
    assert.ok(withSpouse.length / plans.length > 0.55);
    for (const plan of withSpouse) {
      const spouse = plan.members.find((m) => m.role === 'spouse')!;
      assert.notEqual(spouse.individual.gender, plan.members[0]!.individual.gender);
    }
  });

  it('keeps civil status consistent with a spouse in the household', () => {
    for (const plan of plans) {
      const head = plan.members[0]!.individual;
      const spouse = plan.members.find((m) => m.role === 'spouse')?.individual;
      const coupled = head.civilStatus === 'married' || head.civilStatus === 'cohabiting';
      assert.equal(coupled, spouse !== undefined, `${head.civilStatus} with${spouse ? '' : 'out'} a spouse`);
      if (spouse) assert.equal(spouse.civilStatus, head.civilStatus);
    }
  });

  it('uses only codes of the system vocabularies and demo villages', () => {
    const allowed = {
      gender: codesOf(vocabularies.gender),
      civilStatus: codesOf(vocabularies.civilStatus),
      role: codesOf(vocabularies.membershipRole),
      relationship: codesOf(vocabularies.relationship),
      disability: codesOf(vocabularies.disabilityType),
      idType: codesOf(vocabularies.idType),
      groupType: codesOf(vocabularies.groupType),
      village: new Set(DEMO_VILLAGES.map((village) => village.code)),
    };
    for (const plan of plans) {
      assert.ok(allowed.groupType.has(plan.group.groupType));
      assert.ok(allowed.village.has(plan.group.area!));
      assert.ok(plan.group.identifiers!.every((identifier) => allowed.idType.has(identifier.type)));
      for (const { role, individual } of plan.members) {
        assert.ok(allowed.role.has(role), role);
        assert.ok(['1', '2'].includes(individual.gender), individual.gender);
        assert.ok(allowed.gender.has(individual.gender));
        if (individual.civilStatus) assert.ok(allowed.civilStatus.has(individual.civilStatus), individual.civilStatus);
        assert.ok(individual.disability!.types!.every((type) => allowed.disability.has(type)));
        assert.ok(individual.identifiers!.every((identifier) => allowed.idType.has(identifier.type)));
        assert.equal(individual.area, plan.group.area);
      }
      for (const relationship of plan.relationships) {
        assert.ok(allowed.relationship.has(relationship.type));
        assert.notEqual(relationship.source, relationship.target);
        assert.ok(plan.members[relationship.source] && plan.members[relationship.target]);
      }
    }
    assert.ok(plans.some((plan) => plan.relationships.length > 0) && plans.some((plan) => plan.relationships.length === 0));
  });

  it('gives mobile phones to some adults only, as valid Philippine numbers in E.164', () => {
    const phones = people.flatMap((member) => (member.individual.phones ?? []).map((phone) => ({ phone, years: age(member) })));
    const adults = people.filter((member) => age(member) >= 18).length;
    assert.ok(phones.length / adults > 0.4 && phones.length / adults < 0.8);
    for (const { phone, years } of phones) {
      assert.ok(years >= 18);
      assert.equal(phone.use, 'mobile');
      assert.ok(isValidPhoneNumber(phone.value), phone.value);
      const parsed = parsePhoneNumberWithError(phone.value);
      assert.equal(parsed.number, phone.value);
      assert.equal(parsed.country, 'PH');
    }
  });

  it('records a disability for about 5% of people and a skewed income in PHP for every household', () => {
    const disabled = people.filter((member) => member.individual.disability!.hasDisability);
    assert.ok(disabled.length / people.length > 0.03 && disabled.length / people.length < 0.08, `${disabled.length / people.length}`);
    assert.ok(disabled.every((member) => member.individual.disability!.types!.length > 0));
    const incomes = plans.map((plan) => plan.group.income!).sort((a, b) => a.monthly - b.monthly);
    assert.ok(incomes.every((income) => income.currency === 'PHP' && income.monthly >= 0));
    const median = incomes[incomes.length / 2]!.monthly;
    const mean = incomes.reduce((sum, income) => sum + income.monthly, 0) / incomes.length;
    assert.ok(mean > median, 'income is skewed to the right');
  });

  it('includes accented names so accent-insensitive search can be shown', () => {
    const accented = people.filter((member) => /[^\x20-\x7e]/.test(`${member.individual.name.given} ${member.individual.name.family}`));
    assert.ok(accented.length / people.length > 0.05);
    assert.ok(people.some((member) => member.individual.name.family === 'Peña'));
  });
});
