import { DciCallError, postHttp } from './transport.js';
import type { ResolvedSource } from '../data-sources/data-sources.service.js';

interface CachedToken {
  token: string;
  expiresAt: number;
}

/**
 * OAuth 2.0 client-credentials tokens per data source (the DCI authz API: form-encoded request,
 * `expires_in` as a string). Cached in the process until a minute before expiry; `forget` after a
 * 401 so the next call fetches a fresh one.
 */
export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<string>>();

  async token(source: ResolvedSource): Promise<string> {
    const cached = this.tokens.get(source.view.id);
    if (cached && cached.expiresAt > Date.now()) return cached.token;
    let pending = this.inflight.get(source.view.id);
    if (!pending) {
      pending = this.fetch(source).finally(() => this.inflight.delete(source.view.id));
      this.inflight.set(source.view.id, pending);
    }
    return pending;
  }

  forget(sourceId: string): void {
    this.tokens.delete(sourceId);
  }

  private async fetch(source: ResolvedSource): Promise<string> {
    const { view } = source;
    if (!view.oauthClientId || !source.clientSecret) throw new DciCallError('config', 'OAuth 2.0 needs a client id and secret on the data source');
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: view.oauthClientId, client_secret: source.clientSecret }).toString();
    const answer = await postHttp(source.url('token'), body, {
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, timeoutMs: view.timeoutMs, verifyTls: view.verifyTls,
    });
    if (answer.status === 400 || answer.status === 401 || answer.status === 403) throw new DciCallError('auth', `The token endpoint refused our client credentials (HTTP ${answer.status})`, answer.status);
    if (answer.status >= 500 || answer.status === 429) throw new DciCallError('http', `The token endpoint answered HTTP ${answer.status}`, answer.status, true);
    const grant = answer.body as { access_token?: unknown; expires_in?: unknown } | undefined;
    if (answer.status !== 200 || typeof grant?.access_token !== 'string') throw new DciCallError('auth', `The token endpoint gave no access token (HTTP ${answer.status})`, answer.status);
    const lifetime = Number(grant.expires_in ?? 300);
    const seconds = Number.isFinite(lifetime) && lifetime > 0 ? lifetime : 300;
    this.tokens.set(source.view.id, { token: grant.access_token, expiresAt: Date.now() + Math.max(5, seconds - 60) * 1000 });
    return grant.access_token;
  }
}
