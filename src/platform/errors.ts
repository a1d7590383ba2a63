/**
 * The one error type of the system. Services throw `AppError` with a code from this closed set;
 * the HTTP layer maps each code once to a status (RFC 9457 problem+json), and the DCI layer maps
 * each once to a DCI reason code. Domain code never imports HTTP.
 */
export const errorCodes = {
  validation_failed: { status: 400, title: 'The request is not valid', dci: 'rjct.errors.data.invalid' },
  malformed_request: { status: 400, title: 'The request could not be read', dci: 'rjct.request.invalid' },
  unknown_parameter: { status: 400, title: 'Unknown or malformed parameter', dci: 'rjct.search_criteria.invalid' },
  unauthenticated: { status: 401, title: 'Authentication is required', dci: 'rjct.jwt.invalid' },
  invalid_client: { status: 401, title: 'Client authentication failed', dci: 'rjct.jwt.invalid' },
  forbidden: { status: 403, title: 'Not allowed', dci: 'rjct.action.not_allowed' },
  not_found: { status: 404, title: 'Not found', dci: 'rjct.reference_id.invalid' },
  method_not_allowed: { status: 405, title: 'Method not allowed', dci: 'rjct.action.not_supported' },
  conflict: { status: 409, title: 'Conflict with the current state', dci: 'rjct.action.conflict' },
  duplicate_identifier: { status: 409, title: 'Identifier already in use', dci: 'rjct.reference_id.duplicate' },
  idempotency_key_reused: { status: 422, title: 'Idempotency-Key reused with a different request', dci: 'rjct.request.duplicate' },
  precondition_failed: { status: 412, title: 'The resource has changed', dci: 'rjct.version.stale' },
  precondition_required: { status: 428, title: 'If-Match is required', dci: 'rjct.version.required' },
  payload_too_large: { status: 413, title: 'The request is too large', dci: 'rjct.request.too_large' },
  unsupported_media_type: { status: 415, title: 'Unsupported content type', dci: 'rjct.request.invalid' },
  business_rule_violated: { status: 422, title: 'The change breaks a registry rule', dci: 'rjct.action.invalid' },
  rate_limited: { status: 429, title: 'Too many requests', dci: 'rjct.rate_limit.exceeded' },
  unavailable: { status: 503, title: 'Service unavailable', dci: 'rjct.service.unavailable' },
  internal: { status: 500, title: 'Internal error', dci: 'rjct.internal.error' },
} as const;

export type ErrorCode = keyof typeof errorCodes;

/** One problem with one input field; `path` is a JSON Pointer into the request (e.g. `/names/0/given`). */
export interface FieldProblem {
  path: string;
  message: string;
}

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields: FieldProblem[] = [],
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  static validation(message: string, fields: FieldProblem[] = []): AppError {
    return new AppError('validation_failed', message, fields);
  }

  static notFound(what: string): AppError {
    return new AppError('not_found', `${what} was not found`);
  }
}

export function httpStatusOf(code: ErrorCode): number {
  return errorCodes[code].status;
}

export function dciReasonCodeOf(code: ErrorCode): string {
  return errorCodes[code].dci;
}
