import { AppError } from './errors.js';

/** Weak ETag from a row's version number: `W/"3"`. */
export function etagOf(version: number): string {
  return `W/"${version}"`;
}

/**
 * The version a client says it is changing, from `If-Match`. Updates require it, so two officers
 * editing the same record cannot overwrite each other silently (the second gets 412).
 */
export function versionFromIfMatch(header: string | string[] | undefined): number {
  if (header === undefined) throw new AppError('precondition_required', 'Send If-Match with the ETag you read (e.g. If-Match: W/"3") to change this resource');
  const value = Array.isArray(header) ? header[0] : header;
  const match = value ? /^(?:W\/)?"(\d+)"$/.exec(value.trim()) : null;
  if (!match) throw AppError.validation('If-Match must be an ETag such as W/"3"', [{ path: 'header:If-Match', message: 'is not an ETag' }]);
  return Number(match[1]);
}

/** Throws 412 when the stored version is not the one the client read. */
export function assertVersion(expected: number, actual: number, what: string): void {
  if (expected !== actual) {
    throw new AppError('precondition_failed', `${what} has changed since you read it (your version ${expected}, current ${actual}); read it again and reapply your change`);
  }
}

/** RFC 7396 JSON merge patch: null deletes, objects merge, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}
