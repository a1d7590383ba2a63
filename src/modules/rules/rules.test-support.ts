import { ruleFields, type RegistrantFacts } from '../registry/registry.rule-catalogue.js';
import { checkRule } from './rules.checker.js';
import type { RuleSubject, SymbolTable } from './rules.types.js';
import { standardVariables } from './rules.variables.js';

/** The symbol table a fresh deployment has, plus two custom fields, without a database. */
export function testSymbols(subject: RuleSubject): SymbolTable {
  return {
    subject,
    fields: ruleFields,
    customFields: { individual: { school_grade: 'int', nickname: 'string' }, group: { dwelling_rooms: 'int', poverty_score: 'double' } },
    variables: Object.fromEntries(standardVariables.filter((variable) => variable.subject === subject).map((variable) => [variable.code, variable])),
  };
}

export const checkFor = (subject: RuleSubject, expression: string) => checkRule(expression, testSymbols(subject));

export function person(overrides: Partial<RegistrantFacts> = {}): RegistrantFacts {
  return {
    birthDate: null, gender: null, civilStatus: null, groupType: null, areaCode: null, areaPath: [], hasDisability: null, disabilityTypes: null,
    income: null, incomeCurrency: null, isActive: true, registeredAt: '2024-01-01T00:00:00.000Z', custom: {}, identifiers: [], ...overrides,
  };
}

export function household(members: RegistrantFacts[], overrides: Partial<RegistrantFacts> = {}): RegistrantFacts {
  return person({ groupType: 'household', members, ...overrides });
}
