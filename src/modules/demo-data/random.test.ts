import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Random } from './random.js';
import { checkCharacter, demoNationalId, hasValidCheckCharacter, MAX_HOUSEHOLDS_PER_SEED, MAX_SEED } from './identifiers.js';
import { DEMO_AREAS, DEMO_VILLAGES } from './areas.js';

const draws = (random: Random, count: number) => Array.from({ length: count }, () => random.next());

describe('Random', () => {
  it('gives the same sequence for the same seeds and another for other seeds', () => {
    assert.deepEqual(draws(new Random(7), 50), draws(new Random(7), 50));
    assert.deepEqual(draws(new Random(7, 3), 50), draws(new Random(7, 3), 50));
    assert.notDeepEqual(draws(new Random(7), 50), draws(new Random(8), 50));
    assert.notDeepEqual(draws(new Random(7, 3), 50), draws(new Random(7, 4), 50));
    assert.notDeepEqual(draws(new Random(7, 2 ** 32), 50), draws(new Random(7, 0), 50));
  });

  it('stays within its ranges and covers them', () => {
    const random = new Random(1);
    const ints = new Set<number>();
    for (let i = 0; i < 5_000; i += 1) {
      const value = random.next();
      assert.ok(value >= 0 && value < 1);
      const int = random.int(-2, 3);
      assert.ok(Number.isInteger(int) && int >= -2 && int <= 3);
      ints.add(int);
    }
    assert.deepEqual([...ints].sort(), [-1, -2, 0, 1, 2, 3]);
    assert.throws(() => random.int(3, 2), RangeError);
  });

  it('picks by weight, never a zero-weight entry', () => {
    const random = new Random(2);
    const counts = { a: 0, b: 0, never: 0 };
    for (let i = 0; i < 10_000; i += 1) counts[random.weighted([['a', 3], ['b', 1], ['never', 0]] as const)] += 1;
    assert.equal(counts.never, 0);
    assert.ok(counts.a / counts.b > 2.6 && counts.a / counts.b < 3.4, JSON.stringify(counts));
  });

  it('draws dates within both inclusive bounds', () => {
    const random = new Random(3);
    const seen = new Set<string>();
    for (let i = 0; i < 500; i += 1) seen.add(random.dateBetween('2024-02-27', '2024-03-01'));
    assert.deepEqual([...seen].sort(), ['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01']);
    assert.throws(() => random.dateBetween('2024-03-01', '2024-02-01'), RangeError);
  });
});

describe('demo identifiers', () => {
  it('national ids fit the national-id pattern for every seed and index, check character included', () => {
    for (const id of [demoNationalId(0, 0, 0), demoNationalId(MAX_SEED, MAX_HOUSEHOLDS_PER_SEED - 1, 8)]) {
      assert.match(id, /^[A-Z0-9]{6,20}$/);
      assert.ok(hasValidCheckCharacter(id), id);
    }
  });

  it('the check character catches a changed character and an adjacent swap', () => {
    const id = demoNationalId(12345, 678, 3);
    const body = id.slice(0, -1);
    const check = id.slice(-1);
    for (let i = 1; i < body.length; i += 1) {
      const changed = `${body.slice(0, i)}${body[i] === '7' ? '8' : '7'}${body.slice(i + 1)}`;
      assert.notEqual(checkCharacter(changed), check, `change at ${i}`);
      if (body[i] !== body[i - 1]) {
        const swapped = `${body.slice(0, i - 1)}${body[i]}${body[i - 1]}${body.slice(i + 1)}`;
        assert.notEqual(checkCharacter(swapped), check, `swap at ${i}`);
      }
    }
  });
});

describe('demo areas', () => {
  it('is one country, 3 regions, 6 provinces, 12 municipalities and 36 villages, parents first', () => {
    const kinds = DEMO_AREAS.reduce<Record<string, number>>((counts, area) => ({ ...counts, [area.kind]: (counts[area.kind] ?? 0) + 1 }), {});
    assert.deepEqual(kinds, { country: 1, region: 3, province: 6, municipality: 12, village: 36 });
    assert.equal(DEMO_VILLAGES.length, 36);
    const seen = new Set<string>();
    for (const area of DEMO_AREAS) {
      assert.ok(!seen.has(area.code), `duplicate ${area.code}`);
      if (area.parentCode) {
        assert.ok(seen.has(area.parentCode), `${area.code} comes before its parent`);
        assert.match(area.code, new RegExp(`^${area.parentCode}\\d{2}$`));
      }
      seen.add(area.code);
    }
    assert.ok(DEMO_VILLAGES.every((village) => /^DM\d{8}$/.test(village.code)));
  });
});
