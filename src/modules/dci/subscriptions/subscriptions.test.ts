import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { filterCriterion, filterTypeOf } from './notify-records.js';
import { eventTypeOf, recordKindOf } from './subscriptions.service.js';
import { QueryError } from '../registry-server/query-translation.js';

const translation = { isIdentifierType: (name: string) => name === 'national-id' };

describe('DCI subscription criteria', () => {
  test('event types: bare, prefixed and case-insensitive; others refused', () => {
    assert.equal(eventTypeOf('REGISTER'), 'REGISTER');
    assert.equal(eventTypeOf('registration'), 'REGISTER');
    assert.equal(eventTypeOf('spdci:common:RegistryEventType:NewHouseHoldMember'), 'NewHouseHoldMember');
    assert.equal(eventTypeOf('update'), 'UPDATE');
    assert.equal(eventTypeOf('spdci-common:RegistryEventType:LiveBirth'), undefined);
    assert.equal(eventTypeOf(42), undefined);
  });

  test('record types: groups and households are groups, anything else a member', () => {
    assert.equal(recordKindOf('Group'), 'group');
    assert.equal(recordKindOf('spdci-extensions-dci:Household'), 'group');
    assert.equal(recordKindOf('Member'), 'individual');
    assert.equal(recordKindOf('SRPerson'), 'individual');
  });

  test('filter type from filter_type, else from the shape of the filter', () => {
    assert.equal(filterTypeOf('predicate', {}), 'predicate');
    assert.equal(filterTypeOf('ns:org:QueryType:expression', {}), 'expression');
    assert.equal(filterTypeOf('graphql', {}), undefined);
    assert.equal(filterTypeOf(undefined, [{ expression1: {} }]), 'predicate');
    assert.equal(filterTypeOf(undefined, { type: 'x', value: { expression: { query: {} } } }), 'expression');
    assert.equal(filterTypeOf(undefined, { type: 'UIN', value: 'TEST-001' }), 'idtype-value');
    assert.equal(filterTypeOf(undefined, 'nonsense'), undefined);
  });

  test('filters compile with the search translation; bad ones throw QueryError', () => {
    assert.deepEqual(filterCriterion('idtype-value', { type: 'national-id', value: 'A1' }, translation), { attribute: 'identifier', operator: 'eq', value: { type: 'national-id', value: 'A1' } });
    assert.deepEqual(filterCriterion('predicate', [{ expression1: { attribute_name: 'area', operator: 'eq', attribute_value: 'R1' } }], translation), { attribute: 'area', operator: 'eq', value: 'R1' });
    assert.deepEqual(filterCriterion('expression', { type: 'expression', value: { expression: { collection: 'Group', query: { location: { $eq: 'R1' } } } } }, translation), { attribute: 'area', operator: 'eq', value: 'R1' });
    assert.throws(() => filterCriterion('predicate', [{ expression1: { attribute_name: 'shoe_size', operator: 'gt', attribute_value: 3 } }], translation), QueryError);
    assert.throws(() => filterCriterion('idtype-value', { type: 'national-id' }, translation), QueryError);
  });
});
