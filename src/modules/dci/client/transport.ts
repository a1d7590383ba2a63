import http from 'node:http';
import https from 'node:https';

/** Why a call failed, in the terms an operator acts on (test connection reports these). */
export type FailureKind = 'dns' | 'tls' | 'network' | 'timeout' | 'http' | 'auth' | 'signature' | 'schema' | 'rejected' | 'config';

export class DciCallError extends Error {
  override name = 'DciCallError';
  constructor(readonly kind: FailureKind, message: string, readonly httpStatus?: number, readonly retryable = false) {
    super(message);
  }
}

export interface HttpAnswer {
  status: number;
  body: unknown;
  text: string;
}

const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_OSSL|HOSTNAME/i;

/**
 * One HTTP POST (JSON or form) with a timeout, classifying failures: DNS, TLS, network, timeout.
 * node:http(s) rather than fetch, so TLS verification can be switched off per data source.
 */
export function postHttp(url: string, body: string, options: { headers: Record<string, string>; timeoutMs: number; verifyTls: boolean; method?: string }): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      reject(new DciCallError('config', `Not a valid URL: ${url}`));
      return;
    }
    const client = target.protocol === 'https:' ? https : http;
    const request = client.request(target, {
      method: options.method ?? 'POST',
      headers: { ...options.headers, ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) },
      ...(target.protocol === 'https:' ? { rejectUnauthorized: options.verifyTls } : {}),
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        resolve({ status: response.statusCode ?? 0, body: parsed, text });
      });
      response.on('error', (error) => reject(classify(error)));
    });
    const timer = setTimeout(() => {
      request.destroy(new DciCallError('timeout', `No answer within ${options.timeoutMs} ms`, undefined, true));
    }, options.timeoutMs);
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error instanceof DciCallError ? error : classify(error));
    });
    if (body) request.write(body);
    request.end();
  });
}

export function getHttp(url: string, options: { timeoutMs: number; verifyTls: boolean }): Promise<HttpAnswer> {
  return postHttp(url, '', { headers: { accept: 'application/json' }, method: 'GET', ...options });
}

function classify(error: Error & { code?: string }): DciCallError {
  const code = error.code ?? '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new DciCallError('dns', `The host name could not be resolved (${code})`, undefined, code === 'EAI_AGAIN');
  if (TLS_CODES.test(code) || TLS_CODES.test(error.message)) return new DciCallError('tls', `TLS failed: ${code || error.message}`);
  if (code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EPIPE') {
    return new DciCallError('network', `The registry could not be reached (${code})`, undefined, true);
  }
  return new DciCallError('network', `The call failed: ${code || error.message}`, undefined, true);
}
