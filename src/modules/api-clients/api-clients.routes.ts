import { Type } from 'typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../platform/errors.js';
import type { SigningKeyStore } from '../../platform/auth/signing-keys.js';
import type { ApiClientService } from './api-clients.service.js';

const TokenRequest = Type.Object({
  grant_type: Type.String({ maxLength: 100 }),
  client_id: Type.Optional(Type.String({ maxLength: 200 })),
  client_secret: Type.Optional(Type.String({ maxLength: 500 })),
  scope: Type.Optional(Type.String({ maxLength: 2000 })),
}, { additionalProperties: false });

const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  scope: Type.String(),
});

/** OAuth 2.0 client credentials (RFC 6749 §4.4) and our public keys (JWKS). */
export function apiClientRoutes(service: ApiClientService, keys: SigningKeyStore) {
  return (app: FastifyInstance) => {
    app.post('/oauth2/client/token', {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Issue an access token (client credentials grant)',
        description: 'Form-encoded (or JSON) body. Client credentials in the body or as HTTP Basic.',
        security: [],
        body: TokenRequest,
        response: { 200: TokenResponse },
      },
    }, async (request, reply) => {
      const body = request.body as { grant_type: string; client_id?: string; client_secret?: string; scope?: string };
      if (body.grant_type !== 'client_credentials') {
        throw new AppError('validation_failed', 'Only grant_type=client_credentials is supported', [{ path: '/grant_type', message: 'must be client_credentials' }], { error: 'unsupported_grant_type', error_description: 'Only grant_type=client_credentials is supported' });
      }
      const basic = parseBasicAuthorization(request.headers.authorization);
      const clientId = basic?.clientId ?? body.client_id;
      const clientSecret = basic?.clientSecret ?? body.client_secret;
      if (!clientId || !clientSecret) {
        throw new AppError('invalid_client', 'Send client_id and client_secret in the body or as HTTP Basic authorization', [], { error: 'invalid_client', error_description: 'Client credentials are missing' });
      }
      const grant = await service.issueToken(clientId, clientSecret, body.scope?.split(' ').filter(Boolean));
      reply.header('cache-control', 'no-store');
      return { access_token: grant.accessToken, token_type: 'Bearer' as const, expires_in: grant.expiresIn, scope: grant.scopes.join(' ') };
    });

    app.get('/.well-known/jwks.json', {
      config: { public: true },
      schema: { tags: ['auth'], summary: 'Public keys that verify our access tokens', security: [] },
    }, async () => keys.jwks());
  };
}

function parseBasicAuthorization(header: string | undefined): { clientId: string; clientSecret: string } | undefined {
  const match = header ? /^Basic\s+(\S+)$/i.exec(header) : null;
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator < 0) return undefined;
  // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
  return {
    clientId: decodeURIComponent(decoded.slice(0, separator).replace(/\+/g, ' ')),
    clientSecret: decodeURIComponent(decoded.slice(separator + 1).replace(/\+/g, ' ')),
  };
}
