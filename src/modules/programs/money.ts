import { AppError } from '../../platform/errors.js';

// Money stays an exact decimal string end to end: the database sums numeric(18,2), and the few
// sums done here are in minor units as BigInt. Never a JavaScript number.

/** ISO 4217 currencies without minor units (the others used here have two). */
const ZERO_DECIMAL = new Set(['BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF']);

export function minorUnitsOf(currency: string): 0 | 2 {
  return ZERO_DECIMAL.has(currency) ? 0 : 2;
}

const AMOUNT = /^(\d{1,16})(?:\.(\d{1,2}))?$/;

/** Checks a positive amount given as a decimal string ("1500.00") in the currency's precision. */
export function parseAmount(value: string, currency: string, path: string): string {
  const match = AMOUNT.exec(value);
  if (!match || (minorUnitsOf(currency) === 0 && match[2] !== undefined && Number(match[2]) !== 0)) {
    throw AppError.validation(`${path.slice(1)} must be a decimal amount in ${currency} (e.g. "${minorUnitsOf(currency) === 0 ? '1500' : '1500.00'}")`, [{ path, message: 'is not an amount' }]);
  }
  if (/^0+(\.0+)?$/.test(value)) throw AppError.validation(`${path.slice(1)} must be more than zero`, [{ path, message: 'must be more than zero' }]);
  return formatAmount(toMinor(value), 2);
}

/** "12.3" → 1230n (two decimals). */
export function toMinor(value: string): bigint {
  const negative = value.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? value.slice(1) : value).split('.');
  const minor = BigInt(whole) * 100n + BigInt((fraction + '00').slice(0, 2));
  return negative ? -minor : minor;
}

export function formatAmount(minor: bigint, decimals: 0 | 2 = 2): string {
  const negative = minor < 0n;
  const absolute = negative ? -minor : minor;
  const text = decimals === 0 ? String(absolute / 100n) : `${absolute / 100n}.${String(absolute % 100n).padStart(2, '0')}`;
  return negative ? `-${text}` : text;
}

/** A numeric string from the database, normalised to two decimals. */
export function normaliseAmount(value: string | null | undefined): string {
  return formatAmount(toMinor(value ?? '0'));
}
