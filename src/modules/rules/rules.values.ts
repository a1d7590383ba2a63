// Value helpers shared by the checker, the SQL compiler and the evaluator, so both executions
// compute dates, durations and sums the same way.

export function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/** CEL-style durations: "720h", "1h30m", "45s", "250ms"; milliseconds, or undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const match = /^(-)?((?:\d+(?:\.\d+)?(?:h|ms|m|s))+)$/.exec(text);
  if (!match) return undefined;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  for (const part of match[2]!.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) total += Number(part[1]) * unit[part[2]!]!;
  return match[1] ? -total : total;
}

/** The calendar date of an instant in an IANA time zone. */
export function dateInZone(instant: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(instant);
  const get = (type: string) => parts.find((part) => part.type === type)!.value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whole years from `birthDate` to `asOf` (both YYYY-MM-DD): the birthday counts from its date, a
 * 29 February birthday from 1 March in common years; as PostgreSQL's `age()` counts.
 */
export function ageInYears(birthDate: string, asOf: string): bigint {
  const years = Number(asOf.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return BigInt(asOf.slice(5) < birthDate.slice(5) ? years - 1 : years);
}

/**
 * The latest birth date at which someone is `years` old on `asOf`: `asOf` minus `years` years,
 * 29 February becoming 28 February in a common year (so `age >= n` ⇔ `birth_date <= this`).
 */
export function minusYears(asOf: string, years: bigint): string | undefined {
  const year = Number(asOf.slice(0, 4)) - Number(years);
  if (year < 1 || year > 9999) return undefined;
  let monthDay = asOf.slice(5);
  if (monthDay === '02-29' && !isLeapYear(year)) monthDay = '02-28';
  return `${String(year).padStart(4, '0')}-${monthDay}`;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * The exact decimal sum of doubles, as PostgreSQL's `sum(x::numeric)::float8`: each double is read
 * as its 15-significant-digit decimal (float8 → numeric), summed exactly, rounded once to a double.
 */
export function exactSum(values: number[]): number {
  let scale = 0;
  const decimals = values.map((value) => {
    const [mantissa, exponent = '0'] = value.toPrecision(15).split('e');
    const negative = mantissa!.startsWith('-');
    const [whole, fraction = ''] = mantissa!.replace('-', '').split('.');
    const digits = BigInt(`${whole}${fraction}`);
    const decimalScale = fraction.length - Number(exponent);
    return { digits: negative ? -digits : digits, scale: decimalScale };
  });
  for (const decimal of decimals) scale = Math.max(scale, decimal.scale);
  let total = 0n;
  for (const decimal of decimals) total += decimal.digits * 10n ** BigInt(scale - decimal.scale);
  return Number(toDecimalString(total, scale));
}

function toDecimalString(value: bigint, scale: number): string {
  if (scale <= 0) return (value * 10n ** BigInt(-scale)).toString();
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}
