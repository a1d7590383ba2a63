import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { comparison, entityOf, expressionCriterion, idTypeValueCriterion, predicateCriterion, QueryError, sortAttribute } from './query-translation.js';
import { group, member } from './mapping.js';

const context = { isIdentifierType: (name: string) => name === 'national-id' || name === 'urn:commonweal:id:national-id' };

describe('DCI query translation', () => {
  test('idtype-value becomes an identifier comparison; malformed ones are refused', () => {
    assert.deepEqual(idTypeValueCriterion({ type: 'national-id', value: 12345678 }), { attribute: 'identifier', operator: 'eq', value: { type: 'national-id', value: '12345678' } });
    for (const bad of [undefined, {}, { type: 'national-id' }, { type: '', value: 'x' }, { type: 'national-id', value: { nested: true } }]) {
      assert.throws(() => idTypeValueCriterion(bad), QueryError);
    }
  });

  test('predicate: conditions, seq_num order, not as "and not", and a single item unwrapped', () => {
    const e = (attribute_name: string, operator: string, attribute_value: unknown) => ({ attribute_name, operator, attribute_value });
    assert.deepEqual(predicateCriterion([{ expression1: e('age', 'lt', '25') }], context), { attribute: 'age', operator: 'lt', value: '25' });
    assert.deepEqual(predicateCriterion([{ expression1: e('sex', 'eq', 'female'), condition: 'or', expression2: e('is_disabled', 'eq', true) }], context),
      { or: [{ attribute: 'gender', operator: 'eq', value: '2' }, { attribute: 'has_disability', operator: 'eq', value: true }] });
    assert.deepEqual(predicateCriterion([{ expression1: e('age', 'ge', 18), condition: 'not', expression2: e('marital_status', 'eq', 'S') }], context),
      { and: [{ attribute: 'age', operator: 'ge', value: 18 }, { not: { attribute: 'civil_status', operator: 'eq', value: 'single' } }] });
    assert.deepEqual(predicateCriterion([{ seq_num: 2, expression1: e('age', 'lt', 60) }, { seq_num: 1, expression1: e('age', 'gt', 5) }], context),
      { and: [{ attribute: 'age', operator: 'gt', value: 5 }, { attribute: 'age', operator: 'lt', value: 60 }] });
    assert.deepEqual(predicateCriterion([{ expression1: e('national-id', 'eq', 'AB123456') }], context), { attribute: 'identifier', operator: 'eq', value: { type: 'national-id', value: 'AB123456' } });
    for (const bad of [[], {}, [{ expression1: e('age', 'lt', 1), condition: 'and' }], [{ expression1: e('age', 'like', 1) }], [{ expression1: e('age', 'lt', 1), condition: 'xor', expression2: e('age', 'gt', 0) }], [{ expression1: { attribute_name: 'age' } }]]) {
      assert.throws(() => predicateCriterion(bad, context), QueryError, JSON.stringify(bad));
    }
  });

  test('expression: Mongo operators with and without $, nested logic, implicit eq, JSON strings; unknown $ refused', () => {
    const { criterion, collection } = expressionCriterion({ type: 'ns:org:QueryType:expression', value: { expression: { collection: 'Group', query: { $and: [{ poverty_score: { $lt: 5 } }, { location: { $eq: 'R1' } }, { group_size: { lte: 5 } }] } } } }, context);
    assert.equal(collection, 'Group');
    assert.deepEqual(criterion, { and: [
      { attribute: 'custom.poverty_score', operator: 'lt', value: 5 },
      { attribute: 'area', operator: 'eq', value: 'R1' },
      { attribute: 'group_size', operator: 'le', value: 5 },
    ] });
    assert.deepEqual(expressionCriterion({ expression: JSON.stringify({ query: { $or: [{ sex: 'male' }, { $not: { age: { $gte: 60 } } }] } }) }, context).criterion,
      { or: [{ attribute: 'gender', operator: 'eq', value: '1' }, { not: { attribute: 'age', operator: 'ge', value: 60 } }] });
    assert.deepEqual(expressionCriterion({ query: { given_name: { $in: ['A', 'B'] }, $nor: [{ age: 1 }] } }, context).criterion,
      { and: [{ attribute: 'given_name', operator: 'in', value: ['A', 'B'] }, { not: { or: [{ attribute: 'age', operator: 'eq', value: 1 }] } }] });
    for (const bad of [{ query: { $where: 'x' } }, { query: {} }, { query: { $and: [] } }, { collection: 'Group' }, 'not json', { query: { shoe_size: 4 } }]) {
      assert.throws(() => expressionCriterion(bad, context), QueryError, JSON.stringify(bad));
    }
  });

  test('attribute names, year of birth, code values and entity hints', () => {
    assert.deepEqual(comparison('YOB', 'eq', '1990', context), { and: [{ attribute: 'birth_date', operator: 'ge', value: '1990-01-01' }, { attribute: 'birth_date', operator: 'le', value: '1990-12-31' }] });
    assert.deepEqual(comparison('sex', 'in', ['M', 'female'], context), { attribute: 'gender', operator: 'in', value: ['1', '2'] });
    assert.deepEqual(comparison('custom.score', 'gt', 2, context), { attribute: 'custom.score', operator: 'gt', value: 2 });
    assert.equal(sortAttribute('birthdate'), 'birth_date');
    assert.equal(sortAttribute('surname'), 'family_name');
    assert.equal(entityOf(undefined, undefined, undefined), 'individual');
    assert.equal(entityOf('Group', undefined, undefined), 'group');
    assert.equal(entityOf(undefined, 'Group', undefined), 'group');
    assert.equal(entityOf(undefined, undefined, 'SRPerson'), 'individual');
  });
});

describe('DCI mapping (registry views → Group / Member / SRPerson)', () => {
  const person = {
    id: '11111111-1111-4111-8111-111111111111', name: { given: 'Ana', family: 'Lopez', additional: 'Maria', display: 'Ana Lopez' },
    birthDate: '1980-02-03', gender: '2', civilStatus: 'widowed', disability: { hasDisability: true, types: ['seeing'] },
    identifiers: [{ type: 'national-id', system: 'urn:x', value: 'AB1', isValid: true }, { type: 'passport', value: 'OLD', isValid: false }],
    phones: [{ value: '+63123' }], email: 'ana@example.org', area: 'R1', createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-02-01T00:00:00.000Z', role: 'head',
  };

  test('a member: identifiers (valid only), SRPerson demographics, sex and marital codes, disability', () => {
    const mapped = member(person, 'https://x/api/v2');
    assert.equal(mapped['@id'], `https://x/api/v2/Individual/${person.id}`);
    assert.deepEqual(mapped.member_identifier, [{ '@type': 'Identifier', identifier_type: 'national-id', identifier_value: 'AB1' }]);
    const demographics = mapped.demographic_info as Record<string, unknown>;
    assert.deepEqual(demographics.name, { '@type': 'Name', given_name: 'Ana', surname: 'Lopez', second_name: 'Maria' });
    assert.equal(demographics.sex, 'female');
    assert.equal(demographics.birth_date, '1980-02-03T00:00:00Z');
    assert.equal(demographics.phone_number, '+63123');
    assert.equal(mapped.marital_status, 'W');
    assert.equal(mapped.is_disabled, true);
    assert.equal(mapped.relationship_head, 'head');
  });

  test('fields not released (consent filter) are left out, not sent empty; masked identifier strings still map', () => {
    const mapped = member({ id: person.id, identifiers: ['national-id|AB••••'] });
    assert.deepEqual(Object.keys(mapped).sort(), ['@id', '@type', 'demographic_info', 'member_identifier']);
    assert.deepEqual(mapped.member_identifier, [{ '@type': 'Identifier', identifier_type: 'national-id', identifier_value: 'AB••••' }]);
  });

  test('a group: head from the members, size, poverty score from the custom field, area', () => {
    const mapped = group({ id: 'g1', groupType: 'household', size: 3, area: 'R2', custom: { poverty_score: 12.5 }, identifiers: [], memberRecords: [{ ...person, role: 'child', id: 'c' }, person] });
    assert.equal((mapped.group_head_info as Record<string, unknown>)['@id'], `urn:uuid:${person.id}`);
    assert.equal(mapped.group_size, 3);
    assert.equal(mapped.poverty_score, 12.5);
    assert.equal(mapped.place_address, 'R2');
    assert.equal((mapped.member_list as unknown[]).length, 2);
  });
});
