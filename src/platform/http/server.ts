import crypto from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import formbody from '@fastify/formbody';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AccessTokens } from '../auth/access-tokens.js';
import type { Db } from '../database/database.js';
import { AppError } from '../errors.js';
import { knownScopes } from '../auth/scopes.js';
import { SESSION_COOKIE, type SessionAuthenticator } from '../auth/session-auth.js';
import { registerAuthentication } from './auth-hook.js';
import { registerIdempotency } from './idempotency.js';
import type { KeyRing } from '../crypto/key-ring.js';
import { registerRateLimit } from './rate-limit.js';
import { registerMetrics, type MetricSources } from './metrics.js';
import { sendProblem, toAppError } from './problem.js';
import { compileValidator } from './validation.js';

export type HttpServer = FastifyInstance;
export type Routes = (app: FastifyInstance) => void | Promise<void>;

export interface HttpServerOptions {
  /** The system's logger (pino), or logger options, or false. Requests are logged without personal data. */
  logger: FastifyBaseLogger | FastifyServerOptions['logger'] | false;
  publicUrl: string;
  db: Db;
  tokens: AccessTokens;
  /** Accepts staff session cookies besides bearer tokens (see `/auth/login`). */
  sessions?: SessionAuthenticator;
  /** Data keys: responses kept for Idempotency-Key replays are stored encrypted with them. */
  encryptionKeys?: KeyRing;
  metrics: MetricSources;
  /** Requests per minute per caller (0 = unlimited); see rate-limit.ts. */
  rateLimitPerMinute?: number;
  /** Health of dependencies for /ready; resolves to the failing checks. */
  readiness(): Promise<Record<string, boolean>>;
  routes: Routes[];
}

const REQUEST_ID_PATTERN = /^[\w.-]{1,128}$/;

/**
 * A request URL as logged: the route pattern (`/api/v2/Individual/:ref`), never the path, which may
 * hold an identifier (`national-id|AB1234567`); the names of query parameters, never their values
 * (`?identifier=*&phone=*`). Without a route, path segments other than plain words show as `:value`.
 */
export function redactedRequestUrl(request: { url: string; routeOptions?: { url?: string | undefined } }): string {
  const separator = request.url.indexOf('?');
  const path = separator < 0 ? request.url : request.url.slice(0, separator);
  const pattern = request.routeOptions?.url ?? path.split('/').map((segment) => (/^[A-Za-z$_.-]*$/.test(segment) ? segment : ':value')).join('/');
  if (separator < 0) return pattern;
  const names = [...new Set(new URLSearchParams(request.url.slice(separator + 1)).keys())];
  return names.length > 0 ? `${pattern}?${names.map((name) => `${encodeURIComponent(name)}=*`).join('&')}` : pattern;
}

interface LoggedRequest {
  method: string; url: string; host?: string; ip?: string; routeOptions?: { url?: string | undefined }; socket?: { remotePort?: number | undefined };
}

/** Fastify's request serializer, with the URL redacted (no personal data in logs). */
const requestLogSerializers = {
  req: (request: LoggedRequest) => ({ method: request.method, url: redactedRequestUrl(request), host: request.host, remoteAddress: request.ip, remotePort: request.socket?.remotePort }),
};

function loggerOptions(logger: HttpServerOptions['logger']): Pick<FastifyServerOptions, 'logger'> & { loggerInstance?: FastifyBaseLogger } {
  if (logger && typeof logger === 'object' && typeof (logger as FastifyBaseLogger).child === 'function') {
    return { loggerInstance: (logger as FastifyBaseLogger).child({}, { serializers: requestLogSerializers }) };
  }
  if (logger && typeof logger === 'object') {
    const settings = logger as { serializers?: Record<string, unknown> };
    return { logger: { ...settings, serializers: { ...settings.serializers, ...requestLogSerializers } } as FastifyServerOptions['logger'] };
  }
  return { logger: logger as boolean | undefined };
}
const MERGE_PATCH = 'application/merge-patch+json';

export async function buildHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...loggerOptions(options.logger),
    bodyLimit: 10 * 1024 * 1024,
    // A caller's X-Request-Id is kept when it is sane, so its logs and ours line up.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : crypto.randomUUID();
    },
    // Every log line of a request carries its id; probes are not logged per request.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: (request) => request.url === '/health' || request.url === '/ready' || request.url === '/metrics' }),
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(compileValidator);
  // Only JSON (and form bodies for the token endpoint) are accepted; anything else is a 415.
  app.removeContentTypeParser('text/plain');
  // The interactive docs are public like the OpenAPI document they show.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...(route.config ?? {}), public: true };
    // The OpenAPI document shows the scope each route needs (declared once, in its config).
    const scope = (route.config as { scope?: string } | undefined)?.scope;
    if (scope && route.schema) route.schema = { ...route.schema, security: [{ oauth2: [scope] }] };
  });
  app.addContentTypeParser(MERGE_PATCH, { parseAs: 'string' }, (request, body, done) => {
    app.getDefaultJsonParser('error', 'error')(request, body as string, done);
  });
  await app.register(formbody);
  await app.register(cookie);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.setErrorHandler((error, request, reply) => {
    const appError = toAppError(error);
    if (appError.code === 'internal') request.log.error({ err: error }, 'unhandled error');
    // The code and the fields at fault, not the message: it may quote values sent (an identifier).
    else request.log.info({ code: appError.code, fields: appError.fields.map((field) => field.path) }, 'request refused');
    return sendProblem(reply, request, appError);
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, request, new AppError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`)));

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Commonweal API',
        version: '2.0.0',
        description: 'Registry of individuals and households. Authenticate with OAuth 2.0 client credentials at /oauth2/client/token; errors are RFC 9457 problem+json.',
      },
      servers: [{ url: options.publicUrl }],
      components: {
        securitySchemes: {
          oauth2: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: '/oauth2/client/token', scopes: Object.fromEntries(knownScopes.map((scope) => [scope, scope])) } } },
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'Staff session from POST /auth/login; writes also need the X-CSRF-Token header. Permissions come from the user\'s roles.' },
        },
      },
      security: [{ oauth2: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { url: '/api/v2/openapi.json' } });

  registerAuthentication(app, options.tokens, options.sessions);
  await registerRateLimit(app, options.rateLimitPerMinute ?? 0);
  registerIdempotency(app, options.db, options.encryptionKeys);
  registerMetrics(app, options.metrics);

  app.get('/api/v2/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  app.get('/health', { config: { public: true }, schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/ready', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => {
    const checks = await options.readiness();
    const ready = Object.values(checks).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });

  for (const routes of options.routes) await app.register(async (scope) => routes(scope));
  return app;
}
