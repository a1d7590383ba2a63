import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RuleCheckError } from './rules.checker.js';
import { checkFor } from './rules.test-support.js';
import type { ProblemKind, RuleSubject } from './rules.types.js';

function problemOf(subject: RuleSubject, expression: string) {
  try {
    checkFor(subject, expression);
  } catch (error) {
    assert.ok(error instanceof RuleCheckError, String(error));
    assert.equal(error.problems.length, 1);
    return error.problems[0]!;
  }
  assert.fail(`expected "${expression}" to be refused`);
}

/** Each error kind, with the character it points at (the marked `^` below the expression). */
const cases: Array<{ subject: RuleSubject; expression: string; kind: ProblemKind; at: number; line?: number; column?: number; expected?: RegExp }> = [
  { subject: 'individual', expression: 'age >= 18 &&', kind: 'syntax_error', at: 12 },
  { subject: 'individual', expression: 'age >= 18\n  && foo(', kind: 'syntax_error', at: 19, line: 2, column: 10 },
  { subject: 'individual', expression: 'agee >= 18', kind: 'unknown_name', at: 0, expected: /age/ },
  { subject: 'group', expression: 'members.exists(m, m.shoe_size > 40)', kind: 'unknown_field', at: 18, expected: /birth_date/ },
  { subject: 'individual', expression: 'custom.unknown == 1', kind: 'unknown_field', at: 0 },
  { subject: 'individual', expression: 'birth_date < 2000', kind: 'wrong_type', at: 0, expected: /date\(/ },
  { subject: 'individual', expression: 'gender == 2', kind: 'wrong_type', at: 0 },
  { subject: 'individual', expression: 'age >= 18 && income', kind: 'wrong_type', at: 13, expected: /bool/ },
  { subject: 'individual', expression: 'registered_at > today', kind: 'wrong_type', at: 0, expected: /timestamp/ },
  { subject: 'individual', expression: 'shoe_size(1) > 2', kind: 'unknown_function', at: 0 },
  { subject: 'individual', expression: 'in_area(area)', kind: 'wrong_arguments', at: 8 },
  { subject: 'individual', expression: 'birth_date > date("2023-02-29")', kind: 'wrong_arguments', at: 18 },
  { subject: 'individual', expression: 'identifiers.exists(i, i.value.startsWith("AB"))', kind: 'restricted_field', at: 22 },
  { subject: 'individual', expression: 'identifiers.exists(i, i.value > "AB")', kind: 'restricted_field', at: 22 },
  { subject: 'individual', expression: 'age in {"a": 1}', kind: 'not_compilable', at: 7 },
  { subject: 'group', expression: 'members[0].age > 3', kind: 'not_compilable', at: 0 },
  { subject: 'individual', expression: 'income > 10 && nickname.matches("(?<=a)b")', kind: 'unknown_name', at: 15 },
  { subject: 'individual', expression: 'custom.nickname.matches("\\\\p{L}+")', kind: 'wrong_arguments', at: 24 },
];

describe('rules type checking: each error kind points at its character', () => {
  for (const c of cases) {
    test(`${c.kind}: ${JSON.stringify(c.expression)}`, () => {
      const problem = problemOf(c.subject, c.expression);
      assert.equal(problem.kind, c.kind, problem.message);
      assert.equal(problem.position.offset, c.at, `${problem.message} at ${JSON.stringify(problem.position)}`);
      if (c.line) assert.equal(problem.position.line, c.line);
      if (c.column) assert.equal(problem.position.column, c.column);
      if (c.expected) assert.match(problem.expected ?? '', c.expected);
    });
  }

  test('a variable defined in terms of itself is a cycle, reported where it is used', () => {
    const symbols = checkFor('group', 'size > 1');
    assert.equal(symbols.type, 'bool');
  });

  test('well-typed expressions answer their type', () => {
    assert.equal(checkFor('individual', 'age >= 18 && gender == "2"').type, 'bool');
    assert.equal(checkFor('individual', 'income * 12.0').type, 'double');
    assert.equal(checkFor('individual', 'income * 12').type, 'double');
    assert.equal(checkFor('individual', 'age + 1').type, 'int');
    assert.equal(checkFor('group', 'members.count(m, m.age < 5)').type, 'int');
    assert.equal(checkFor('group', 'members.avg(m, m.age)').type, 'double');
    assert.equal(checkFor('group', 'per_capita_income < 1500.0 && household_size >= 2').type, 'bool');
    assert.equal(checkFor('group', 'dependency_ratio').type, 'double');
    assert.equal(checkFor('group', '"2" in members.map(m, m.gender)').type, 'bool');
    assert.equal(checkFor('group', 'members.filter(m, m.age < 18).size() >= 2').type, 'bool');
    assert.equal(checkFor('individual', 'registered_at > now - duration("720h")').type, 'bool');
    assert.equal(checkFor('individual', 'has(birth_date) ? age : -1').type, 'int');
    assert.equal(checkFor('individual', 'custom.school_grade >= 3 && custom.nickname.startsWith("Bo")').type, 'bool');
    assert.equal(checkFor('group', 'has(head) && head.age >= 60').type, 'bool');
  });

  test('in_area and vocabulary codes are collected with their positions for the service to check', () => {
    const checked = checkFor('individual', 'in_area("PH-01") && gender in ["1", "2"]');
    assert.deepEqual(checked.areaCodes.map((a) => [a.code, a.position.offset]), [['PH-01', 8]]);
    assert.deepEqual(checked.codes.map((c) => [c.vocabulary, c.code, c.position.offset]), [['gender', '1', 31], ['gender', '2', 36]]);
  });
});

describe('variables', () => {
  test('a computed variable that refers to itself is refused as a cycle', async () => {
    const { checkRule } = await import('./rules.checker.js');
    const { testSymbols } = await import('./rules.test-support.js');
    const symbols = testSymbols('group');
    symbols.variables.loop_a = { code: 'loop_a', subject: 'group', kind: 'computed', definition: 'loop_b + 1', resultType: 'int', description: '' };
    symbols.variables.loop_b = { code: 'loop_b', subject: 'group', kind: 'computed', definition: 'loop_a', resultType: 'int', description: '' };
    assert.throws(() => checkRule('size > 1 && loop_a > 2', symbols), (error: RuleCheckError) => {
      assert.equal(error.problems[0]!.kind, 'variable_cycle');
      assert.equal(error.problems[0]!.position.offset, 12);
      return true;
    });
  });

  test('a constant override changes the threshold a variable uses', async () => {
    const { checkRule } = await import('./rules.checker.js');
    const { testSymbols } = await import('./rules.test-support.js');
    const symbols = testSymbols('group');
    symbols.variables.elderly_age = { ...symbols.variables.elderly_age!, value: 65 };
    const checked = checkRule('elderly_count > 0', symbols);
    assert.match(JSON.stringify(checked.ir, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)), /"65n"/);
  });
});
