import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaValidationError } from 'fastify';
import type { FieldProblem } from '../errors.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * Two validators: bodies are checked exactly as sent (no type coercion, unknown fields rejected,
 * not silently dropped as Fastify's default does); query strings and path parameters are text, so
 * they are coerced to the declared types.
 */
function createAjv(coerceTypes: boolean | 'array'): Ajv {
  const ajv = new Ajv({ allErrors: true, removeAdditional: false, useDefaults: true, coerceTypes, strict: false });
  addFormats(ajv);
  return ajv;
}

const bodyAjv = createAjv(false);
const parameterAjv = createAjv('array');

export function compileValidator({ schema, httpPart }: { schema: object; httpPart?: string }) {
  return (httpPart === 'body' ? bodyAjv : parameterAjv).compile(schema);
}

/** Turns schema validation errors into field problems with JSON Pointer paths a person can act on. */
export function toFieldProblems(errors: Array<ErrorObject | FastifySchemaValidationError>, part = 'body'): FieldProblem[] {
  // One spelling for query-string paths everywhere: `query:/name` (Fastify calls the part `querystring`).
  const prefix = part === 'body' ? '' : `${part === 'querystring' ? 'query' : part}:`;
  const seen = new Set<string>();
  const problems: FieldProblem[] = [];
  for (const error of errors) {
    const params = error.params as Record<string, unknown>;
    let path = error.instancePath || '/';
    let message = error.message ?? 'is not valid';
    if (error.keyword === 'additionalProperties') {
      path = `${error.instancePath}/${String(params.additionalProperty)}`;
      message = 'is not a known field';
    } else if (error.keyword === 'required') {
      path = `${error.instancePath}/${String(params.missingProperty)}`;
      message = 'is required';
    } else if (error.keyword === 'format') {
      message = `must be a valid ${String(params.format)}`;
    } else if (error.keyword === 'maxLength') {
      message = `must be at most ${String(params.limit)} characters`;
    }
    const key = `${path}:${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push({ path: `${prefix}${path}`, message });
    }
  }
  return problems;
}

/**
 * Validates a value against a request-body schema outside a route (e.g. each entry of a bundle),
 * with the same rules as bodies; problems' paths are prefixed with `basePath`.
 */
export function createBodyValidator(schema: object): (value: unknown, basePath: string) => FieldProblem[] {
  const validate = bodyAjv.compile(schema);
  return (value, basePath) => {
    if (validate(value)) return [];
    return toFieldProblems(validate.errors ?? []).map((problem) => ({ ...problem, path: `${basePath}${problem.path === '/' ? '' : problem.path}` }));
  };
}
