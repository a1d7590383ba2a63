import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toAppError } from '../../../platform/http/problem.js';
import type { RequestContext } from '../../../platform/audit/audit.js';
import type { ApiClientService } from '../../api-clients/api-clients.service.js';
import type { AreaService } from '../../areas/areas.service.js';
import {
  ackOf, dciTimestamp, encryptMessage, httpErrorsOf, DCI_VERSION,
  type DciCallbackHeader, type DciErrorCode, type DciHeader,
} from '../protocol/index.js';
import type { Partner } from '../partners/partners.service.js';
import type { DciKeys } from '../dci-keys.js';
import type { DciInbound, InboundRefusal, InboundRoute } from './inbound.js';
import type { DciSearchService, SearchRequestMessage } from './search.js';

export interface DciServerDependencies {
  prefix: string;
  ourSenderId: string;
  inbound: DciInbound;
  search: DciSearchService;
  keys: DciKeys;
  apiClients: Pick<ApiClientService, 'issueToken'>;
  areas: Pick<AreaService, 'searchAreas'>;
}

export const SEARCH_ROUTE: InboundRoute<SearchRequestMessage> = {
  action: 'search',
  message: 'searchRequest',
  itemsOf: (message) => message.search_request,
  batch: { field: 'search_request', itemSchema: 'searchRequestItem' },
};

/** HTTP status of an ERR acknowledgement: 400 for anything the sender got wrong. */
const ERROR_STATUS: Partial<Record<DciErrorCode, number>> = { 'err.request.too_many_requests': 429, 'err.service.unavailable': 503 };

/**
 * The DCI registry API under the configured prefix. DCI answers in its own shapes, not problem+json:
 * 401 / 403 as `{errors:[{code,message}]}` (HttpErrorResponse), refused messages as an ERR
 * acknowledgement (HTTP 400) or, for header-level rejections on a sync endpoint, a signed response
 * whose header is `status: rjct` with the reason code (HTTP 200), as the spec's shapes allow.
 */
export function dciRegistryRoutes(deps: DciServerDependencies) {
  return async (root: FastifyInstance) => {
    await root.register(async (app) => {
      app.setErrorHandler((error, request, reply) => sendTransportError(reply, request, error));
      app.setNotFoundHandler((request, reply) => reply.code(404).send(httpErrorsOf('err.request.not_found', `No DCI endpoint ${request.method} ${request.url.split('?')[0]}`)));

      app.post('/registry/sync/search', {
        config: { scope: 'dci:search' },
        schema: {
          tags: ['dci'],
          summary: 'DCI social registry: synchronous search (signed response)',
          description: 'Body: the DCI envelope {signature, header, message: SearchRequest} of social_api_v1.0.0.yaml, validated against the official schemas. See docs/DCI.md.',
        },
      }, async (request, reply) => {
        const result = await deps.inbound.accept<SearchRequestMessage>(request.actor, request.body, SEARCH_ROUTE);
        if (!result.accepted) return sendRefusal(reply, deps, result.refusal, result.correlationId, 'on-search', result.partner);
        const message = await deps.search.search(contextOf(request), result.message, result.correlationId, result.header.message_id, result.invalidItems);
        const header: DciCallbackHeader = {
          version: DCI_VERSION,
          message_id: crypto.randomUUID(),
          message_ts: dciTimestamp(),
          action: 'on-search',
          status: 'succ',
          total_count: message.search_response.length,
          completed_count: message.search_response.length,
          sender_id: deps.ourSenderId,
          receiver_id: result.partner.senderId,
          is_msg_encrypted: false,
        };
        return reply.send(await signedResponse(deps, result.partner, header, message, result.header.is_msg_encrypted === true));
      });

      app.post('/oauth2/client/token', {
        config: { public: true },
        schema: {
          tags: ['dci'],
          summary: 'DCI authz: access token (client credentials), the same tokens as /oauth2/client/token',
          security: [],
        },
      }, async (request, reply) => {
        const body = (request.body ?? {}) as Record<string, unknown>;
        const basic = parseBasic(request.headers.authorization);
        if (body.grant_type !== 'client_credentials') {
          return reply.code(400).send({ error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials', ...httpErrorsOf('err.request.bad', 'grant_type must be client_credentials') });
        }
        const clientId = basic?.clientId ?? (typeof body.client_id === 'string' ? body.client_id : undefined);
        const secret = basic?.clientSecret ?? (typeof body.client_secret === 'string' ? body.client_secret : undefined);
        if (!clientId || !secret) {
          return reply.code(401).send({ error: 'invalid_client', error_description: 'Send client_id and client_secret', ...httpErrorsOf('err.request.unauthorized', 'Send client_id and client_secret') });
        }
        const scopes = typeof body.scope === 'string' ? body.scope.split(/[\s,]+/).filter(Boolean) : undefined;
        const grant = await deps.apiClients.issueToken(clientId, secret, scopes);
        reply.header('cache-control', 'no-store');
        return { access_token: grant.accessToken, token_type: 'Bearer', expires_in: grant.expiresIn, scope: grant.scopes.join(' ') };
      });

      app.get('/.well-known/jwks.json', {
        config: { public: true },
        schema: { tags: ['dci'], summary: 'DCI JWKS: our keys verifying signed messages (use sig) and encrypting to us (use enc)', security: [] },
      }, async () => deps.keys.jwks());

      app.get('/.well-known/locations.json', {
        config: { public: true },
        schema: { tags: ['dci'], summary: 'DCI locations: our administrative area hierarchy', security: [] },
      }, async () => locations(deps.areas));
    }, { prefix: deps.prefix });
  };
}

function contextOf(request: FastifyRequest): RequestContext {
  return { actor: request.actor, requestId: String(request.id) };
}

/** Signs (and, when agreed, encrypts) a response envelope for the partner. */
async function signedResponse(deps: DciServerDependencies, partner: Partner, header: DciCallbackHeader, message: unknown, requestWasEncrypted: boolean) {
  let body: unknown = message;
  const encrypt = partner.encryptionKey !== null && (partner.encryptionPolicy === 'required' || (partner.encryptionPolicy === 'optional' && requestWasEncrypted));
  if (encrypt && partner.encryptionKey) {
    body = await encryptMessage(message, { key: partner.encryptionKey, kid: String(partner.encryptionKey.kid) });
    header.is_msg_encrypted = true;
  }
  const signature = await deps.keys.sign({ header, message: body }, partner.signatureStrategy);
  return { signature, header, message: body };
}

async function sendRefusal(reply: FastifyReply, deps: DciServerDependencies, refusal: InboundRefusal, correlationId: string, responseAction: string, partner: Partner | undefined) {
  if (refusal.kind === 'error') {
    return reply.code(ERROR_STATUS[refusal.code] ?? 400).send(ackOf(correlationId, 'ERR', { code: refusal.code, message: refusal.message }));
  }
  const request = refusal.header as DciHeader;
  const header: DciCallbackHeader = {
    version: DCI_VERSION,
    message_id: crypto.randomUUID(),
    message_ts: dciTimestamp(),
    action: responseAction,
    status: 'rjct',
    status_reason_code: refusal.code,
    status_reason_message: refusal.message.slice(0, 999),
    total_count: typeof request.total_count === 'number' ? request.total_count : 0,
    completed_count: 0,
    sender_id: deps.ourSenderId,
    receiver_id: request.sender_id,
    is_msg_encrypted: false,
  };
  const transactionId = (refusal.message_ as { transaction_id?: unknown } | undefined)?.transaction_id;
  const message = { transaction_id: typeof transactionId === 'string' ? transactionId : '', correlation_id: correlationId, search_response: [] };
  const signature = await deps.keys.sign({ header, message }, partner?.signatureStrategy ?? 'signature-string');
  return reply.code(200).send({ signature, header, message });
}

/** Transport-level failures in DCI's shapes (never problem+json, never a 5xx for a bad request). */
export function sendTransportError(reply: FastifyReply, request: FastifyRequest, error: unknown) {
  const appError = toAppError(error);
  if (appError.code === 'internal') request.log.error({ err: error }, 'unhandled error in a DCI endpoint');
  else request.log.info({ code: appError.code }, 'DCI request refused');
  const correlationId = crypto.randomUUID();
  switch (appError.code) {
    case 'unauthenticated':
      return reply.code(401).send(httpErrorsOf('err.request.unauthorized', appError.message));
    case 'invalid_client': {
      const extra = appError.extra as { error?: string; error_description?: string };
      return reply.code(401).send({ ...extra, ...httpErrorsOf('err.request.unauthorized', appError.message) });
    }
    case 'forbidden':
      return reply.code(403).send(httpErrorsOf('err.request.forbidden', appError.message));
    case 'rate_limited':
      return reply.code(429).send(ackOf(correlationId, 'ERR', { code: 'err.request.too_many_requests', message: appError.message }));
    case 'not_found':
      return reply.code(404).send(httpErrorsOf('err.request.not_found', appError.message));
    case 'unavailable':
      return reply.code(503).send(ackOf(correlationId, 'ERR', { code: 'err.service.unavailable', message: appError.message }));
    case 'internal':
      return reply.code(500).send(httpErrorsOf('err.service.unavailable', 'An unexpected error occurred; quote the x-request-id when reporting it'));
    default: {
      // Token endpoint errors keep RFC 6749's fields next to DCI's.
      const extra = appError.extra as { error?: string; error_description?: string };
      const status = appError.code === 'payload_too_large' ? 413 : appError.code === 'unsupported_media_type' ? 415 : 400;
      return reply.code(status).send({ ...(extra.error ? extra : {}), ...ackOf(correlationId, 'ERR', { code: 'err.request.bad', message: appError.message }) });
    }
  }
}

function parseBasic(header: string | undefined): { clientId: string; clientSecret: string } | undefined {
  const match = header ? /^Basic\s+(\S+)$/i.exec(header) : null;
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator < 0) return undefined;
  const decode = (value: string) => {
    try {
      return decodeURIComponent(value.replace(/\+/g, ' '));
    } catch {
      return value;
    }
  };
  return { clientId: decode(decoded.slice(0, separator)), clientSecret: decode(decoded.slice(separator + 1)) };
}

/**
 * The area hierarchy as the locations API's LocationHierarchy. The spec's item schema names
 * `identifier`/`contained_in_place` in properties but requires `id`/`containedInPlace`: both are sent.
 */
async function locations(areas: Pick<AreaService, 'searchAreas'>) {
  const places: unknown[] = [];
  let lastUpdated = '';
  for (let afterCode: string | undefined; ;) {
    const page = await areas.searchAreas({ isActive: true, afterCode, limit: 1000 });
    for (const area of page.items) {
      if (area.updatedAt > lastUpdated) lastUpdated = area.updatedAt;
      places.push({
        '@type': 'Place',
        id: area.code,
        identifier: [{ '@type': 'PropertyValue', name: 'area-code', identifier: area.code }],
        name: area.name,
        additional_type: area.kind,
        contained_in_place: area.parentCode,
        containedInPlace: area.parentCode,
      });
    }
    if (!page.nextAfterCode) break;
    afterCode = page.nextAfterCode;
  }
  return {
    '@context': { '@context': 'http://spdci.org/', xsd: 'http://www.w3.org/2001/XMLSchema#', schema: 'http://schema.org/' },
    '@type': 'LocationHierarchy',
    last_updated: lastUpdated || new Date(0).toISOString(),
    locations: places,
  };
}

