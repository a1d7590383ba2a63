import crypto from 'node:crypto';
import type { DciDataSourceService } from '../data-sources/data-sources.service.js';
import type { DciClient } from './dci-client.js';
import { searchMessage } from './search.js';
import { DciCallError, getHttp } from './transport.js';

export interface ConnectionStep {
  step: 'reach' | 'auth' | 'keys' | 'request';
  ok: boolean;
  message: string;
}

export interface ConnectionReport {
  ok: boolean;
  /** dns | tls | network | timeout | http | auth | signature | schema | rejected | config, when a step failed. */
  failed?: string;
  steps: ConnectionStep[];
  testedAt: string;
}

/**
 * "Test connection": reach the registry (DNS, TLS), authenticate (OAuth token), find its signing
 * keys, then send a real signed search (identifier that matches nothing) and check the answer's
 * signature and schema. Stops at the first failing step and says which kind of failure it was.
 */
export async function testConnection(code: string, sources: DciDataSourceService, client: DciClient): Promise<ConnectionReport> {
  const steps: ConnectionStep[] = [];
  const done = async (failed?: string): Promise<ConnectionReport> => {
    const report: ConnectionReport = { ok: failed === undefined, ...(failed ? { failed } : {}), steps, testedAt: new Date().toISOString() };
    await sources.recordTest(code, report as unknown as Record<string, unknown>);
    return report;
  };
  const fail = (step: ConnectionStep['step'], error: unknown) => {
    const failure = error instanceof DciCallError ? error : new DciCallError('network', error instanceof Error ? error.message : String(error));
    steps.push({ step, ok: false, message: failure.message });
    return done(failure.kind);
  };
  const source = await sources.resolve(code);
  const { view } = source;
  try {
    const answer = await getHttp(view.jwksUrl ?? source.url('jwks'), { timeoutMs: view.timeoutMs, verifyTls: view.verifyTls });
    steps.push({ step: 'reach', ok: true, message: `${new URL(view.baseUrl).host} answered (HTTP ${answer.status})` });
  } catch (error) {
    return fail('reach', error);
  }
  if (view.authType === 'oauth2') {
    try {
      client.tokens.forget(source.view.id);
      await client.tokens.token(source);
      steps.push({ step: 'auth', ok: true, message: 'OAuth 2.0 token obtained' });
    } catch (error) {
      return fail('auth', error);
    }
  } else {
    steps.push({ step: 'auth', ok: true, message: view.authType === 'bearer' ? 'Static bearer token (checked with the request)' : 'No authentication configured' });
  }
  if (view.publicKeys.length === 0 && view.jwksUrl) {
    try {
      const answer = await getHttp(view.jwksUrl, { timeoutMs: view.timeoutMs, verifyTls: view.verifyTls });
      const keys = (answer.body as { keys?: unknown[] } | undefined)?.keys;
      if (answer.status !== 200 || !Array.isArray(keys) || keys.length === 0) throw new DciCallError('signature', `The JWKS URL gave no keys (HTTP ${answer.status})`);
      steps.push({ step: 'keys', ok: true, message: `${keys.length} key(s) at the JWKS URL` });
    } catch (error) {
      return fail('keys', error instanceof DciCallError && error.kind !== 'signature' ? new DciCallError('signature', `The registry's keys could not be fetched: ${error.message}`) : error);
    }
  } else {
    steps.push({ step: 'keys', ok: view.publicKeys.length > 0 || !view.requireSignedResponses, message: view.publicKeys.length > 0 ? `${view.publicKeys.length} registered key(s)` : 'No keys: responses cannot be verified' });
    if (view.publicKeys.length === 0 && view.requireSignedResponses) return done('signature');
  }
  try {
    await client.callSync(code, 'sync_search', searchMessage([{ query: { kind: 'identifier', type: 'UIN', value: `connection-test-${crypto.randomUUID().slice(0, 8)}` } }]));
    steps.push({ step: 'request', ok: true, message: 'A signed search was answered, signature and schema verified' });
  } catch (error) {
    return fail('request', error);
  }
  return done();
}
