/** PostgreSQL error details, whether thrown by pg, PGlite, or wrapped by Drizzle (`cause`). */
export interface PostgresErrorInfo {
  code: string;
  constraint?: string;
  detail?: string;
}

export function postgresErrorOf(error: unknown): PostgresErrorInfo | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth += 1) {
    const candidate = current as { code?: unknown; constraint?: string; detail?: string; cause?: unknown };
    if (typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code)) {
      return { code: candidate.code, constraint: candidate.constraint, detail: candidate.detail };
    }
    current = candidate.cause;
  }
  return undefined;
}

/** True for a unique-constraint violation, optionally on one named constraint or index. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const info = postgresErrorOf(error);
  return info?.code === '23505' && (constraint === undefined || info.constraint === constraint);
}
