import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, errorCodes, type ErrorCode } from '../errors.js';
import { toFieldProblems } from './validation.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** RFC 9457 problem document, with our stable `code`, the request id and the offending fields. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: ErrorCode;
  requestId: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

export function problemOf(error: AppError, request: FastifyRequest): Problem {
  const definition = errorCodes[error.code];
  return {
    ...error.extra,
    type: `urn:commonweal:problem:${error.code}`,
    title: definition.title,
    status: definition.status,
    detail: error.message,
    instance: request.url,
    code: error.code,
    requestId: String(request.id),
    ...(error.fields.length > 0 ? { errors: error.fields } : {}),
  };
}

/** Maps whatever was thrown to an AppError: ours as is, Fastify's by status, anything else is a bug (500). */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const part = fastifyError.validationContext ?? 'body';
    const fields = toFieldProblems(fastifyError.validation, part);
    const isUnknownParameter = part !== 'body' && fastifyError.validation.some((e) => e.keyword === 'additionalProperties');
    return isUnknownParameter
      ? new AppError('unknown_parameter', `Unknown or malformed ${part} parameter: ${fields.map((f) => f.path).join(', ')}`, fields)
      : AppError.validation(`The ${part} is not valid: ${fields.map((f) => `${f.path} ${f.message}`).join('; ')}`, fields);
  }
  switch (fastifyError.statusCode) {
    case 400: return new AppError('malformed_request', fastifyError.message);
    case 404: return new AppError('not_found', fastifyError.message);
    case 405: return new AppError('method_not_allowed', fastifyError.message);
    case 413: return new AppError('payload_too_large', fastifyError.message);
    case 415: return new AppError('unsupported_media_type', fastifyError.message);
    case 429: return new AppError('rate_limited', fastifyError.message);
    default: return new AppError('internal', 'An unexpected error occurred; quote the request id when reporting it');
  }
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: AppError): FastifyReply {
  const problem = problemOf(error, request);
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}
