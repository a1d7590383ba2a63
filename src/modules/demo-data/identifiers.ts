// Demo identifiers are derived from the dataset seed and the household/member index, never from a
// running counter, so any household can be generated on its own (resuming, sharding a bulk load)
// and values stay unique for up to a billion households per seed, and across seeds.

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const INDEX_DIGITS = 9;
export const MAX_HOUSEHOLDS_PER_SEED = 10 ** INDEX_DIGITS;
export const MAX_SEED = 0xffff_ffff;

/** The seed in base 36, fixed width, so ids of different seeds never collide. */
export function seedTag(seed: number): string {
  return seed.toString(36).toUpperCase().padStart(7, '0');
}

const paddedIndex = (index: number) => String(index).padStart(INDEX_DIGITS, '0');

/** Luhn mod 36 check character over [0-9A-Z]: catches every single-character typo and most adjacent swaps. */
export function checkCharacter(body: string): string {
  let sum = 0;
  let double = true;
  for (let i = body.length - 1; i >= 0; i -= 1) {
    const value = ALPHABET.indexOf(body[i]!);
    if (value < 0) throw new RangeError(`"${body}" has a character outside [0-9A-Z]`);
    let addend = double ? value * 2 : value;
    addend = Math.floor(addend / 36) + (addend % 36);
    sum += addend;
    double = !double;
  }
  return ALPHABET[(36 - (sum % 36)) % 36]!;
}

/** True when the last character of `value` is the check character of the rest. */
export function hasValidCheckCharacter(value: string): boolean {
  return value.length > 1 && checkCharacter(value.slice(0, -1)) === value.slice(-1);
}

/** `N` + seed tag + household index + member index + check character: 19 characters, `^[A-Z0-9]{6,20}$`. */
export function demoNationalId(seed: number, householdIndex: number, memberIndex: number): string {
  const body = `N${seedTag(seed)}${paddedIndex(householdIndex)}${memberIndex}`;
  return `${body}${checkCharacter(body)}`;
}

export function demoBirthRegistration(seed: number, householdIndex: number, memberIndex: number, birthYear: number): string {
  return `BR-${birthYear}-${seedTag(seed)}-${paddedIndex(householdIndex)}-${memberIndex}`;
}

export function demoHouseholdId(seed: number, householdIndex: number): string {
  return `HH-${seedTag(seed)}-${paddedIndex(householdIndex)}`;
}
