import { AppError, type FieldProblem } from '../../platform/errors.js';

/** GDPR art. 6 legal bases (DPV terms), under which a client processes personal data. */
export const LEGAL_BASES = ['consent', 'contract', 'legal-obligation', 'vital-interest', 'public-task', 'legitimate-interest'] as const;

export const TOKEN_TTL_RANGE = { minimum: 60, maximum: 86_400 } as const;
export const RATE_LIMIT_RANGE = { minimum: 1, maximum: 100_000 } as const;
export const AREA_OR_PROGRAM_CODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The slice of the area service needed to check area codes. */
export interface AreaLookup {
  findAreaByCode(code: string): Promise<unknown>;
}

/** What an administrator may set on a client besides name and scopes; null clears an optional one. */
export interface ClientSettings {
  legalBasis?: string;
  organisation?: string | null;
  organisationType?: string | null;
  areaCodes?: string[];
  programCodes?: string[];
  rateLimitPerMinute?: number | null;
  tokenTtlSeconds?: number | null;
}

/** Refuses an unknown legal basis, an unknown area, or a limit out of range (400, naming the field). */
export async function assertClientSettings(settings: ClientSettings, areas: AreaLookup | undefined): Promise<void> {
  const problems: FieldProblem[] = [];
  if (settings.legalBasis !== undefined && !(LEGAL_BASES as readonly string[]).includes(settings.legalBasis)) {
    problems.push({ path: '/legalBasis', message: `must be one of ${LEGAL_BASES.join(', ')}` });
  }
  for (const [index, code] of (settings.areaCodes ?? []).entries()) {
    if (!AREA_OR_PROGRAM_CODE.test(code) || (areas && !(await areas.findAreaByCode(code)))) problems.push({ path: `/areaCodes/${index}`, message: `area ${code} does not exist` });
  }
  for (const [index, code] of (settings.programCodes ?? []).entries()) {
    if (!AREA_OR_PROGRAM_CODE.test(code)) problems.push({ path: `/programCodes/${index}`, message: 'is not a valid code' });
  }
  const ranges: Array<[keyof ClientSettings, number | null | undefined, { minimum: number; maximum: number }]> = [
    ['tokenTtlSeconds', settings.tokenTtlSeconds, TOKEN_TTL_RANGE],
    ['rateLimitPerMinute', settings.rateLimitPerMinute, RATE_LIMIT_RANGE],
  ];
  for (const [field, value, { minimum, maximum }] of ranges) {
    if (value !== undefined && value !== null && (!Number.isInteger(value) || value < minimum || value > maximum)) {
      problems.push({ path: `/${field}`, message: `must be an integer from ${minimum} to ${maximum}` });
    }
  }
  if (problems.length > 0) throw AppError.validation(`The client settings are not valid: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, problems);
}

/** The columns to write: only the settings given (undefined = unchanged). */
export function clientSettingsOf(settings: ClientSettings): ClientSettings {
  const columns: ClientSettings = {
    legalBasis: settings.legalBasis,
    organisation: settings.organisation,
    organisationType: settings.organisationType,
    areaCodes: settings.areaCodes && [...new Set(settings.areaCodes)],
    programCodes: settings.programCodes && [...new Set(settings.programCodes)],
    rateLimitPerMinute: settings.rateLimitPerMinute,
    tokenTtlSeconds: settings.tokenTtlSeconds,
  };
  return Object.fromEntries(Object.entries(columns).filter(([, value]) => value !== undefined)) as ClientSettings;
}
