import type { CallbackCredentials } from '../partners/partners.service.js';

const EARLY_RENEWAL_MS = 30_000;

/**
 * Our bearer credentials for calling a partner back: its fixed token, or an access token from its
 * token URL (OAuth 2.0 client credentials, the DCI authz API), cached until shortly before expiry.
 * The token URL is set by an administrator, never by a message.
 */
export class CallbackAuth {
  private readonly tokens = new Map<string, { token: string; until: number }>();

  constructor(private readonly timeoutMs = 10_000) {}

  async authorization(partnerKey: string, credentials: CallbackCredentials | undefined): Promise<string | undefined> {
    if (!credentials) return undefined;
    if (credentials.bearerToken) return `Bearer ${credentials.bearerToken}`;
    if (!credentials.tokenUrl || !credentials.clientId || !credentials.clientSecret) return undefined;
    const cached = this.tokens.get(partnerKey);
    if (cached && cached.until > Date.now()) return `Bearer ${cached.token}`;
    const basic = Buffer.from(`${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`).toString('base64');
    const response = await fetch(credentials.tokenUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: credentials.clientId, client_secret: credentials.clientSecret }).toString(),
      redirect: 'error',
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!response.ok) throw new Error(`the partner's token endpoint answered HTTP ${response.status}`);
    const grant = (await response.json()) as { access_token?: unknown; expires_in?: unknown };
    if (typeof grant.access_token !== 'string' || grant.access_token === '') throw new Error("the partner's token endpoint gave no access_token");
    const lifetimeMs = (typeof grant.expires_in === 'number' && grant.expires_in > 0 ? grant.expires_in : 300) * 1000;
    this.tokens.set(partnerKey, { token: grant.access_token, until: Date.now() + Math.max(0, lifetimeMs - EARLY_RENEWAL_MS) });
    return `Bearer ${grant.access_token}`;
  }

  /** Forgets a cached token (the partner answered 401: it may have been revoked). */
  forget(partnerKey: string): void {
    this.tokens.delete(partnerKey);
  }
}
