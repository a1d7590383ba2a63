import type { GroupInput, IndividualInput } from '../registry/registry.schemas.js';
import { Random } from './random.js';
import { FAMILY_NAMES, FEMALE_GIVEN_NAMES, MALE_GIVEN_NAMES } from './names.js';
import { DEMO_VILLAGES } from './areas.js';
import { demoBirthRegistration, demoHouseholdId, demoNationalId, MAX_HOUSEHOLDS_PER_SEED, MAX_SEED } from './identifiers.js';

// Pure and deterministic: a household depends only on (seed, index, reference date), never on how
// many households are generated, so seeding 500 after 300 with the same seed extends the dataset.

/** Ages are computed against this fixed date (not today) so the same seed gives the same data every day. */
export const DEMO_REFERENCE_DATE = '2025-01-01';
export const DEMO_CURRENCY = 'PHP';

const MALE = '1';
const FEMALE = '2';
type Sex = typeof MALE | typeof FEMALE;
export type MemberRole = 'head' | 'spouse' | 'child' | 'parent' | 'sibling' | 'grandchild' | 'other-relative' | 'non-relative';

export interface MemberPlan {
  role: MemberRole;
  startDate: string;
  individual: IndividualInput & { birthDate: string; gender: Sex };
}

/** `source` is the `type` of `target` (e.g. source is parent of target); both index `members`. */
export interface RelationshipPlan {
  source: number;
  type: 'spouse' | 'parent';
  target: number;
}

export interface HouseholdPlan {
  index: number;
  householdId: string;
  group: Omit<GroupInput, 'members'>;
  /** The head first. */
  members: MemberPlan[];
  relationships: RelationshipPlan[];
}

export interface GeneratorOptions {
  households: number;
  seed: number;
  /** Index of the first household, to generate a later slice of the same dataset. */
  firstIndex?: number;
  /** Ages are counted to this date; it must not be in the future (birth dates would be). */
  referenceDate?: string;
}

// Household sizes 1–9, most often 4–5; head ages mostly 25–70.
const SIZE_WEIGHTS: Array<[number, number]> = [[1, 6], [2, 11], [3, 16], [4, 20], [5, 18], [6, 12], [7, 8], [8, 5], [9, 4]];
const HEAD_AGE_BANDS: Array<[[number, number], number]> = [[[18, 24], 3], [[25, 34], 20], [[35, 44], 26], [[45, 54], 22], [[55, 64], 17], [[65, 70], 8], [[71, 85], 4]];
const OTHER_MEMBER_ROLES = (headAge: number): Array<[MemberRole, number]> => [
  ['child', 86], ['grandchild', headAge >= 45 ? 8 : 0], ['sibling', 3], ['other-relative', 2], ['non-relative', 1],
];
const DISABILITY_TYPES = ['seeing', 'hearing', 'walking', 'cognition', 'self-care', 'communication'] as const;
// Real Philippine mobile prefixes (9XX), so the numbers are valid for libphonenumber.
const MOBILE_PREFIXES = ['905', '906', '915', '916', '917', '918', '919', '920', '921', '926', '927', '928', '929', '935', '936', '939', '945', '947', '949', '951', '955', '956', '961', '965', '966', '975', '977', '995', '997', '998', '999'] as const;

interface Person {
  role: MemberRole;
  sex: Sex;
  age: number;
  given: string;
  additional?: string;
  family: string;
  civilStatus?: string;
}

/** Plans `households` households of the dataset `seed`; checks the options at once, generates lazily. */
export function generateHouseholds(options: GeneratorOptions): Generator<HouseholdPlan> {
  const { households, seed, firstIndex = 0, referenceDate = DEMO_REFERENCE_DATE } = options;
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) throw new RangeError(`The seed must be an integer from 0 to ${MAX_SEED}`);
  if (!Number.isInteger(households) || households < 0) throw new RangeError('The number of households must be a non-negative integer');
  if (!Number.isInteger(firstIndex) || firstIndex < 0 || firstIndex + households > MAX_HOUSEHOLDS_PER_SEED) {
    throw new RangeError(`Household indexes must stay below ${MAX_HOUSEHOLDS_PER_SEED}`);
  }
  return plans(seed, firstIndex, households, referenceDate);
}

function* plans(seed: number, firstIndex: number, households: number, referenceDate: string): Generator<HouseholdPlan> {
  for (let index = firstIndex; index < firstIndex + households; index += 1) yield planHousehold(seed, index, referenceDate);
}

/** One household of the dataset, on its own (its random stream is seeded by seed and index). */
export function planHousehold(seed: number, index: number, referenceDate = DEMO_REFERENCE_DATE): HouseholdPlan {
  const random = new Random(seed, index);
  const people = planPeople(random);
  const village = random.pick(DEMO_VILLAGES);
  const registeredOn = random.dateBetween(addYears(referenceDate, -4), referenceDate);
  const householdId = demoHouseholdId(seed, index);

  const members = people.map((person, memberIndex): MemberPlan => {
    const birthDate = birthDateForAge(random, person.age, referenceDate);
    const identifier = person.age >= 18
      ? { type: 'national-id', value: demoNationalId(seed, index, memberIndex) }
      : { type: 'birth-registration', value: demoBirthRegistration(seed, index, memberIndex, Number(birthDate.slice(0, 4))) };
    const individual: MemberPlan['individual'] = {
      name: { given: person.given, ...(person.additional ? { additional: person.additional } : {}), family: person.family },
      birthDate,
      gender: person.sex,
      ...(person.civilStatus ? { civilStatus: person.civilStatus } : {}),
      area: village.code,
      disability: planDisability(random, person.age),
      identifiers: [identifier],
    };
    const phone = planMobile(random, person.age);
    if (phone) individual.phones = [{ value: phone, use: 'mobile' }];
    return { role: person.role, startDate: birthDate > registeredOn ? birthDate : registeredOn, individual };
  });

  const head = people[0]!;
  const group: HouseholdPlan['group'] = {
    groupType: 'household',
    name: `Household of ${head.given} ${head.family}`,
    identifiers: [{ type: 'household-id', value: householdId }],
    area: village.code,
    addresses: [{ use: 'home', line: [`Purok ${random.int(1, 7)}`, `Barangay ${village.name}`], city: village.municipality, district: village.province }],
    income: { monthly: planIncome(random, people), currency: DEMO_CURRENCY },
  };
  const relationships = random.chance(0.5) ? planRelationships(people) : [];
  return { index, householdId, group, members, relationships };
}

function planPeople(random: Random): Person[] {
  const size = random.weighted(SIZE_WEIGHTS);
  const headSex: Sex = random.chance(0.3) ? FEMALE : MALE;
  const [low, high] = random.weighted(HEAD_AGE_BANDS);
  const headAge = random.int(low, high);
  const hasSpouse = size >= 2 && random.chance(headSex === MALE ? 0.88 : 0.4);
  const used = new Set<string>();
  const given = (sex: Sex) => uniqueGivenName(random, sex, used);
  const surname = () => random.pick(FAMILY_NAMES);
  const middle = () => (random.chance(0.85) ? surname() : undefined);

  // Filipino naming: a wife takes her husband's surname and keeps her maiden name as middle name;
  // children take the father's surname and the mother's maiden name as middle name.
  const family = surname();
  const people: Person[] = [];
  let mothersMaidenName: string | undefined;
  let headBirthFamily = family;
  if (hasSpouse) {
    const coupleStatus = random.chance(0.8) ? 'married' : 'cohabiting';
    const spouseAge = clamp(headAge + (headSex === MALE ? -1 : 1) * random.int(-3, 8), 18, 95);
    const wifeMaiden = surname();
    mothersMaidenName = wifeMaiden;
    const husband = (role: MemberRole, age: number): Person => ({ role, sex: MALE, age, given: given(MALE), ...opt(middle()), family, civilStatus: coupleStatus });
    const wife = (role: MemberRole, age: number): Person => ({ role, sex: FEMALE, age, given: given(FEMALE), additional: wifeMaiden, family, civilStatus: coupleStatus });
    if (headSex === MALE) people.push(husband('head', headAge), wife('spouse', spouseAge));
    else {
      headBirthFamily = wifeMaiden;
      people.push(wife('head', headAge), husband('spouse', spouseAge));
    }
  } else {
    people.push({ role: 'head', sex: headSex, age: headAge, given: given(headSex), ...opt(middle()), family, civilStatus: singleHeadStatus(random, headAge) });
    // A single mother's children carry her surname and no middle name.
    if (headSex === MALE && random.chance(0.7)) mothersMaidenName = surname();
  }

  let free = size - people.length;
  // Some households keep an elderly parent (more often the mother) or both parents of the head.
  if (free >= 1 && headAge <= 58 && random.chance(0.14)) {
    const both = free >= 2 && random.chance(0.35);
    const sexes: Sex[] = both ? [MALE, FEMALE] : [random.chance(0.35) ? MALE : FEMALE];
    for (const sex of sexes) {
      const age = Math.min(headAge + random.int(20, 36), 98);
      people.push({ role: 'parent', sex, age, given: given(sex), ...opt(middle()), family: headBirthFamily, civilStatus: both ? 'married' : 'widowed' });
    }
    free = size - people.length;
  }

  const youngestParentAge = Math.min(...people.filter((p) => p.role === 'head' || p.role === 'spouse').map((p) => p.age));
  for (let slot = 0; slot < free; slot += 1) {
    const role = random.weighted(OTHER_MEMBER_ROLES(headAge));
    const sex: Sex = random.chance(0.51) ? MALE : FEMALE;
    let age: number;
    let person: Omit<Person, 'civilStatus'>;
    if (role === 'child') {
      // Born when the younger parent was 17 to 48.
      const oldest = Math.min(youngestParentAge - 17, 40);
      age = random.int(Math.max(0, Math.min(youngestParentAge - 48, oldest)), oldest);
      person = { role, sex, age, given: given(sex), ...opt(mothersMaidenName), family };
    } else if (role === 'grandchild') {
      age = random.int(0, clamp(headAge - 36, 0, 17));
      person = { role, sex, age, given: given(sex), ...opt(middle()), family: random.chance(0.5) ? family : surname() };
    } else if (role === 'sibling') {
      age = clamp(headAge + random.int(-12, 12), 12, 90);
      person = { role, sex, age, given: given(sex), ...opt(middle()), family: headBirthFamily };
    } else {
      age = role === 'non-relative' ? random.int(18, 60) : random.int(3, 75);
      person = { role, sex, age, given: given(sex), ...opt(middle()), family: surname() };
    }
    people.push({ ...person, ...optStatus(otherMemberStatus(random, role, age)) });
  }
  return people;
}

function singleHeadStatus(random: Random, age: number): string {
  if (age < 30) return random.weighted([['single', 75], ['separated', 15], ['divorced', 3], ['widowed', 2], ['unknown', 5]]);
  if (age < 60) return random.weighted([['single', 25], ['separated', 35], ['widowed', 25], ['divorced', 10], ['unknown', 5]]);
  return random.weighted([['widowed', 70], ['separated', 15], ['single', 10], ['divorced', 5]]);
}

/** Members other than the couple: no status for young children; their partners may live elsewhere. */
function otherMemberStatus(random: Random, role: MemberRole, age: number): string | undefined {
  if (age < 15) return undefined;
  if (role === 'child' || role === 'grandchild' || age < 20) return random.weighted([['single', 92], ['separated', 5], ['married', 3]]);
  return random.weighted([['single', 55], ['married', 20], ['separated', 10], ['widowed', 10], ['unknown', 5]]);
}

function planDisability(random: Random, age: number): NonNullable<IndividualInput['disability']> {
  const probability = age >= 60 ? 0.18 : age >= 18 ? 0.05 : 0.025;
  if (!random.chance(probability)) return { hasDisability: false, types: [] };
  const first = random.pick(DISABILITY_TYPES);
  const second = random.chance(0.25) ? random.pick(DISABILITY_TYPES) : first;
  return { hasDisability: true, types: first === second ? [first] : [first, second] };
}

/** A Philippine mobile number in E.164 (+63 9XX XXX XXXX) for most adults. */
function planMobile(random: Random, age: number): string | undefined {
  if (age < 18 || !random.chance(age >= 70 ? 0.3 : 0.65)) return undefined;
  return `+63${random.pick(MOBILE_PREFIXES)}${String(random.int(0, 9_999_999)).padStart(7, '0')}`;
}

// Monthly household income brackets in PHP: right-skewed, as incomes are. Plain arithmetic only
// (no exp/log), so the values are bit-identical on every platform.
const INCOME_BRACKETS: Array<[[number, number], number]> = [
  [[500, 5_000], 22], [[5_000, 10_000], 28], [[10_000, 20_000], 26], [[20_000, 40_000], 15], [[40_000, 80_000], 6], [[80_000, 200_000], 3],
];

/** Skewed monthly household income, rounded to 50, higher with more working-age adults; some have none. */
function planIncome(random: Random, people: Person[]): number {
  if (random.chance(0.06)) return 0;
  const earners = Math.max(1, people.filter((p) => p.age >= 18 && p.age < 65).length);
  const [low, high] = random.weighted(INCOME_BRACKETS);
  const income = (low + random.next() * (high - low)) * (1 + 0.15 * (earners - 1));
  return Math.round(income / 50) * 50;
}

function planRelationships(people: Person[]): RelationshipPlan[] {
  const relationships: RelationshipPlan[] = [];
  const indexesOf = (role: MemberRole) => people.flatMap((p, i) => (p.role === role ? [i] : []));
  const couple = [0, ...indexesOf('spouse')];
  if (couple.length === 2) relationships.push({ source: 0, type: 'spouse', target: couple[1]! });
  for (const child of indexesOf('child')) for (const parent of couple) relationships.push({ source: parent, type: 'parent', target: child });
  const parents = indexesOf('parent');
  for (const parent of parents) relationships.push({ source: parent, type: 'parent', target: 0 });
  if (parents.length === 2) relationships.push({ source: parents[0]!, type: 'spouse', target: parents[1]! });
  return relationships;
}

function uniqueGivenName(random: Random, sex: Sex, used: Set<string>): string {
  const names = sex === MALE ? MALE_GIVEN_NAMES : FEMALE_GIVEN_NAMES;
  let name = random.pick(names);
  for (let tries = 0; used.has(name) && tries < 10; tries += 1) name = random.pick(names);
  used.add(name);
  return name;
}

/** A birth date at which the person is exactly `age` on the reference date. */
function birthDateForAge(random: Random, age: number, referenceDate: string): string {
  const latest = addYears(referenceDate, -age);
  const earliest = addDays(addYears(referenceDate, -age - 1), 1);
  return random.dateBetween(earliest, latest);
}

/** Whole years between a birth date and a reference date. */
export function ageOn(birthDate: string, referenceDate: string): number {
  const years = Number(referenceDate.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return referenceDate.slice(5) < birthDate.slice(5) ? years - 1 : years;
}

function addYears(date: string, years: number): string {
  const value = new Date(`${date}T00:00:00Z`);
  value.setUTCFullYear(value.getUTCFullYear() + years);
  return value.toISOString().slice(0, 10);
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));
const opt = (additional: string | undefined) => (additional ? { additional } : {});
const optStatus = (civilStatus: string | undefined) => (civilStatus ? { civilStatus } : {});
