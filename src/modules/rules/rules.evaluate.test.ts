import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateRule } from './rules.evaluate.js';
import { checkFor, household, person } from './rules.test-support.js';
import type { RuleSubject } from './rules.types.js';
import { exactSum } from './rules.values.js';

const context = { today: '2025-03-01', now: Date.parse('2025-03-01T08:00:00Z') };
const evaluate = (subject: RuleSubject, expression: string, facts = person()) => evaluateRule(checkFor(subject, expression), facts, context);

describe('rules: in-memory evaluation', () => {
  test('ages count whole years, a 29 February birthday from 1 March in a common year', () => {
    assert.equal(evaluate('individual', 'age', person({ birthDate: '2020-02-29' })), 5n);
    assert.equal(evaluateRule(checkFor('individual', 'age'), person({ birthDate: '2020-02-29' }), { ...context, today: '2025-02-28' }), 4n);
    assert.equal(evaluate('individual', 'age', person({ birthDate: '2000-03-02' })), 24n);
  });

  test('unknown (null) follows three-valued logic', () => {
    const nobody = person();
    assert.equal(evaluate('individual', 'age >= 18', nobody), null);
    assert.equal(evaluate('individual', '!(age >= 18)', nobody), null);
    assert.equal(evaluate('individual', 'age >= 18 && false', nobody), false);
    assert.equal(evaluate('individual', 'age >= 18 || true', nobody), true);
    assert.equal(evaluate('individual', 'age >= 18 ? 1 : 2', nobody), 2n);
    assert.equal(evaluate('individual', 'has(birth_date)', nobody), false);
    assert.equal(evaluate('individual', 'gender == null', nobody), true);
    assert.equal(evaluate('individual', '!in_area("R1")', nobody), true);
  });

  test('division by zero is unknown, integer division truncates toward zero', () => {
    assert.equal(evaluate('individual', 'age / 0', person({ birthDate: '2000-01-01' })), null);
    assert.equal(evaluate('individual', '(0 - age) / 2', person({ birthDate: '2000-01-01' })), -12n);
    assert.equal(evaluate('individual', 'income / 0.0', person({ income: 5 })), null);
  });

  test('aggregates over members: counts honour their predicate, sums are exact, empty households', () => {
    const family = household([
      person({ birthDate: '1980-01-01', gender: '2', role: 'head', income: 0.1 }),
      person({ birthDate: '2022-05-01', gender: '1', role: 'child', income: 0.2 }),
    ], { income: 300 });
    assert.equal(evaluate('group', 'members.count(m, m.age < 5)', family), 1n);
    assert.equal(evaluate('group', 'members.sum(m, m.income) == 0.3', family), true);
    assert.equal(evaluate('group', 'female_headed', family), true);
    assert.equal(evaluate('group', 'per_capita_income', family), 150);
    assert.equal(evaluate('group', 'dependency_ratio', family), 1);
    const empty = household([]);
    assert.equal(evaluate('group', 'members.all(m, m.age > 100)', empty), true);
    assert.equal(evaluate('group', 'members.exists(m, true)', empty), false);
    assert.equal(evaluate('group', 'members.avg(m, m.age)', empty), null);
    assert.equal(evaluate('group', 'members.sum(m, m.age)', empty), 0n);
    assert.equal(evaluate('group', 'female_headed', empty), null);
    assert.equal(evaluate('group', 'per_capita_income', empty), null);
  });

  test('exact decimal sums as PostgreSQL numeric', () => {
    assert.equal(exactSum([0.1, 0.2]), 0.3);
    assert.equal(exactSum([1e21, 1, -1e21]), 1);
    assert.equal(exactSum([]), 0);
    assert.equal(exactSum([-0.5, 0.25]), -0.25);
  });
});
