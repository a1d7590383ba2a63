import type { FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { AppError } from '../errors.js';

const UNLIMITED_PATHS = new Set(['/health', '/ready', '/metrics']);

/**
 * Requests per minute per caller: per API client (its own limit from its token, else the default),
 * per signed-in user, or per IP address for anonymous calls (e.g. the token endpoint). Counted in
 * memory per server process; 429 with Retry-After beyond it.
 */
export async function registerRateLimit(app: FastifyInstance, defaultPerMinute: number): Promise<void> {
  if (defaultPerMinute === 0) return;
  await app.register(rateLimit, {
    global: true,
    hook: 'preHandler', // after authentication, so the caller is known
    timeWindow: 60_000,
    max: (request) => request.actor?.rateLimitPerMinute ?? defaultPerMinute,
    keyGenerator: (request) => (request.actor ? `${request.actor.type}:${request.actor.id}` : `ip:${request.ip}`),
    allowList: (request) => UNLIMITED_PATHS.has(request.url.split('?')[0] ?? ''),
    errorResponseBuilder: (_request, context) => new AppError('rate_limited', `More than ${context.max} requests a minute; retry in ${Math.ceil(context.ttl / 1000)} s`),
  });
}
