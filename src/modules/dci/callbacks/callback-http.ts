import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { CallbackTarget } from './callback-target.js';

export interface CallbackResponse {
  status: number;
  /** The start of the body (for the attempt record and the ack check). */
  body: string;
}

const MAX_BODY = 4096;
const keepAliveHttp = new http.Agent({ keepAlive: true, maxSockets: 64 });
const keepAliveHttps = new https.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * POSTs JSON to a checked callback target, connecting to the checked address (the `lookup`
 * override), with a timeout covering the whole exchange. Redirects are not followed: a partner
 * cannot bounce our signed messages elsewhere.
 */
export function postJson(target: CallbackTarget, body: string, headers: Record<string, string>, timeoutMs: number): Promise<CallbackResponse> {
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const isHttps = target.url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const request = (isHttps ? https : http).request(target.url, {
      method: 'POST',
      agent: isHttps ? keepAliveHttps : keepAliveHttp,
      lookup,
      headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(body).toString(), ...headers },
    }, (response) => {
      let received = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (received.length < MAX_BODY) received += chunk.slice(0, MAX_BODY - received.length);
      });
      response.on('end', () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, body: received });
      });
      response.on('error', fail);
    });
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    function fail(error: Error) {
      clearTimeout(timer);
      reject(error);
    }
    request.on('error', fail);
    request.end(body);
  });
}
