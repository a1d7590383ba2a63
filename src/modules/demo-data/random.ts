// A small seeded PRNG (sfc32) so demo data is reproducible: the same seed gives the same data on
// every machine and Node version. Never use Math.random in the demo-data module.

const DAY_MS = 86_400_000;

/** Mixes a 32-bit value into a well-spread one (the murmur3 finaliser). */
function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** One 32-bit seed from several numbers (e.g. dataset seed and household index). */
export function combineSeeds(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    // Split each part into two 32-bit halves so indexes beyond 2^32 still differ.
    h = mix32(h ^ mix32(part >>> 0));
    h = mix32(h ^ mix32(Math.floor(part / 0x1_0000_0000) + 0x632be5ab));
  }
  return h;
}

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(...seeds: number[]) {
    const seed = combineSeeds(...seeds);
    this.a = mix32(seed ^ 0x243f6a88);
    this.b = mix32(seed ^ 0x85a308d3);
    this.c = mix32(seed ^ 0x13198a2e);
    this.d = 1;
    // The first outputs of sfc32 are poorly mixed; discard them.
    for (let i = 0; i < 12; i += 1) this.next();
  }

  /** A float in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    if (max < min) throw new RangeError(`int(${min}, ${max}): max is below min`);
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks a value with probability proportional to its weight. */
  weighted<T>(entries: ReadonlyArray<readonly [T, number]>): T {
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    if (!(total > 0)) throw new RangeError('weighted() needs a positive total weight');
    let roll = this.next() * total;
    for (const [value, weight] of entries) {
      roll -= weight;
      if (roll < 0) return value;
    }
    return entries[entries.length - 1]![0];
  }

  /** A calendar date (YYYY-MM-DD) between two dates, both inclusive. */
  dateBetween(from: string, to: string): string {
    const start = Date.parse(`${from}T00:00:00Z`);
    const end = Date.parse(`${to}T00:00:00Z`);
    if (Number.isNaN(start) || Number.isNaN(end) || end < start) throw new RangeError(`dateBetween(${from}, ${to}) is not a valid range`);
    const days = this.int(0, Math.round((end - start) / DAY_MS));
    return new Date(start + days * DAY_MS).toISOString().slice(0, 10);
  }
}
