import type { RuleVariable } from './rules.types.js';

/**
 * The standard variables every deployment starts with (installed at start, like the system
 * vocabularies). Constants can be overridden per program: `RuleService` takes overrides by code
 * (programs do not exist yet; when they do, they pass their own). ISO 5218: "2" is female.
 */
export const standardVariables: RuleVariable[] = [
  { code: 'child_age_limit', subject: 'group', kind: 'constant', value: 18, resultType: 'int', description: 'A member younger than this is a child' },
  { code: 'elderly_age', subject: 'group', kind: 'constant', value: 60, resultType: 'int', description: 'A member this old or older is elderly' },
  { code: 'elderly_age', subject: 'individual', kind: 'constant', value: 60, resultType: 'int', description: 'Someone this old or older is elderly' },
  { code: 'is_elderly', subject: 'individual', kind: 'computed', definition: 'age >= elderly_age', resultType: 'bool', description: 'Aged elderly_age or more' },
  { code: 'household_size', subject: 'group', kind: 'aggregate', definition: 'members.size()', resultType: 'int', description: 'Number of active members' },
  { code: 'child_count', subject: 'group', kind: 'aggregate', definition: 'members.count(m, m.age < child_age_limit)', resultType: 'int', description: 'Members younger than child_age_limit' },
  { code: 'elderly_count', subject: 'group', kind: 'aggregate', definition: 'members.count(m, m.age >= elderly_age)', resultType: 'int', description: 'Members aged elderly_age or more' },
  {
    code: 'working_age_count', subject: 'group', kind: 'aggregate', definition: 'members.count(m, m.age >= child_age_limit && m.age < elderly_age)',
    resultType: 'int', description: 'Members from child_age_limit to below elderly_age',
  },
  { code: 'female_headed', subject: 'group', kind: 'computed', definition: 'head.gender == "2"', resultType: 'bool', description: 'The head is female (unknown without a head)' },
  { code: 'elderly_headed', subject: 'group', kind: 'computed', definition: 'head.age >= elderly_age', resultType: 'bool', description: 'The head is aged elderly_age or more' },
  { code: 'has_disabled_member', subject: 'group', kind: 'aggregate', definition: 'members.exists(m, m.has_disability)', resultType: 'bool', description: 'At least one member has a disability' },
  {
    code: 'dependency_ratio', subject: 'group', kind: 'computed', definition: 'double(child_count + elderly_count) / double(working_age_count)',
    resultType: 'double', description: 'Children and elderly per working-age member (unknown when none is of working age)',
  },
  {
    code: 'per_capita_income', subject: 'group', kind: 'computed', definition: 'income / double(household_size)',
    resultType: 'double', description: 'Household monthly income per member (unknown without income or members)',
  },
];

/** Constant values by code that replace the defined ones (a program's own thresholds). */
export type ConstantOverrides = Record<string, unknown>;

export function withOverrides(variables: RuleVariable[], overrides: ConstantOverrides = {}): RuleVariable[] {
  return variables.map((variable) => (variable.kind === 'constant' && Object.hasOwn(overrides, variable.code) ? { ...variable, value: overrides[variable.code] } : variable));
}
