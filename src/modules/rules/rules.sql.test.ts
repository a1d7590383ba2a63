import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PgDialect } from 'drizzle-orm/pg-core';
import { compileToSql, type SqlContext } from './rules.sql.js';
import { checkFor } from './rules.test-support.js';
import type { RuleSubject } from './rules.types.js';

const dialect = new PgDialect();
const context: SqlContext = {
  today: '2025-03-01', now: Date.parse('2025-03-01T08:00:00Z'), areaIds: new Map([['R1', [2, 3]]]), idTypes: ['national-id', 'passport'],
  encryption: { identifierIndex: (idType, value) => `idx(${idType}:${value})` },
};
const compile = (subject: RuleSubject, expression: string) => dialect.sqlToQuery(compileToSql(checkFor(subject, expression), context));

describe('rules: compilation to SQL', () => {
  test('an age threshold becomes a birth-date range (indexable), the date computed from the evaluation date', () => {
    const { sql, params } = compile('individual', 'age >= 60');
    assert.equal(sql, '("registrants"."birth_date" <= $1::date)');
    assert.deepEqual(params, ['1965-03-01']);
    assert.deepEqual(compile('individual', 'age < 5').params, ['2020-03-01']);
    assert.deepEqual(compile('individual', '5 > age').params, ['2020-03-01']);
  });

  test('a leap-day evaluation date clamps to 28 February in a common year', () => {
    const { params } = dialect.sqlToQuery(compileToSql(checkFor('individual', 'age >= 1'), { ...context, today: '2024-02-29' }));
    assert.deepEqual(params, ['2023-02-28']);
  });

  test('in_area is an area-id condition with one array parameter, never unknown', () => {
    const { sql, params } = compile('individual', 'in_area("R1")');
    assert.equal(sql, '("registrants"."area_id" is not null and "registrants"."area_id" = any($1::bigint[]))');
    assert.deepEqual(params, ['{2,3}']);
  });

  test('relations become correlated subqueries; a count keeps its predicate', () => {
    const { sql } = compile('group', 'members.count(m, m.gender == "2") >= 2');
    assert.match(sql, /\(select count\(\*\) from "memberships" "ms1" inner join "registrants" "m1" on "m1"."id" = "ms1"."individual_id" where "ms1"."group_id" = "registrants"."id" and "ms1"."is_active" and \("m1"."gender" = \$1::text\)\) >= \$2::bigint/);
    assert.match(compile('group', 'members.exists(m, m.age < 5)').sql, /^exists \(select 1 from/);
    assert.match(compile('group', 'members.all(m, m.age < 5)').sql, /not exists .* is not true/);
    // Where only truth matters, a comparison on the head is a semi-join; under a negation it must stay
    // a scalar subquery (no head = unknown, so the negation does not hold either).
    assert.match(compile('group', 'head.gender == "2"').sql, /^exists \(select 1 from .* and "ms1"."role" = 'head' and \("m1"."gender" = \$1::text\)\)$/);
    assert.match(compile('group', '!(head.gender == "2")').sql, /\(select "m1"."gender" from .* and "ms1"."role" = 'head' limit 1\)/);
    assert.match(compile('group', 'size >= 2').sql, /^\(\(select count\(\*\) from "memberships" "ms1" where "ms1"."group_id" = "registrants"."id" and "ms1"."is_active"\) >= /);
  });

  test('sums of doubles are exact decimals; division by zero is unknown', () => {
    assert.match(compile('group', 'members.sum(m, m.income) > 1.0').sql, /coalesce\(sum\(\(\("m1"."monthly_income"\)::float8\)::numeric\), 0\)::float8/);
    assert.match(compile('individual', 'age / 0 > 1').sql, /\/ nullif\(\$2::bigint, 0\)/);
  });

  test('an identifier value is matched through its blind index for every identifier type, never in clear', () => {
    const { sql, params } = compile('individual', 'identifiers.exists(i, i.type == "passport" && i.value == "AB 123")');
    assert.match(sql, /"i1"."value_index" = \$\d+/);
    assert.ok(params.includes('idx(national-id:AB 123)') && params.includes('idx(passport:AB 123)'));
  });

  test('standard variables compile through their definitions, with program overrides of constants', () => {
    const { sql } = compile('group', 'per_capita_income < 1500.0 && household_size >= 2');
    assert.match(sql, /"registrants"."monthly_income"\)::float8 \/ nullif\(\(\(select count\(\*\)/);
  });
});

describe('rules: injection — user strings only ever reach SQL as bound parameters', () => {
  const hostile = [
    `x'; drop table registrants; --`, `" or 1=1 --`, `\\'); delete from areas; --`, `$1 or true --`, `\u0000`, `" || pg_sleep(10) || "`, `%_*`, `'||(select 1)||'`,
  ];
  for (const value of hostile) {
    test(`string ${JSON.stringify(value)}`, () => {
      const literal = JSON.stringify(value);
      for (const [subject, expression] of [
        ['individual', `gender == ${literal}`], ['individual', `civil_status.startsWith(${literal})`], ['individual', `${literal} in disability_types`],
        ['group', `members.exists(m, m.civil_status.contains(${literal}))`], ['individual', `identifiers.exists(i, i.value == ${literal})`],
        ['individual', `custom.nickname == ${literal}`], ['individual', `gender in [${literal}, "2"]`],
      ] as const) {
        const { sql, params } = compile(subject, expression);
        assert.ok(!sql.includes(value), `${expression} put the value in the SQL text: ${sql}`);
        assert.ok(params.some((p) => typeof p === 'string' && p.includes(value)), `${expression}: value not among the parameters`);
      }
    });
  }

  test('names are never taken from user text: an unknown field or custom field is refused before SQL', () => {
    assert.throws(() => compile('individual', 'custom["x\\"; drop table y; --"] == 1'));
    assert.throws(() => compile('individual', 'custom.drop_table == 1'));
    assert.throws(() => compile('group', 'members.exists(m, m.given_name == "x")'));
  });
});
