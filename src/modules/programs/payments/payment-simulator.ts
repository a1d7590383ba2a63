import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

// `commonweal sim payments`: a disbursement API to pay against in development and tests. It accepts
// payments (deduplicated by endToEndId: a resent payment is counted, never paid again), settles each
// after `delayMs`, and fails a deterministic share of them (`failRate`, by a hash of the id).

export interface SimulatorOptions { port?: number; host?: string; delayMs?: number; failRate?: number }

interface Received { amount: string; currency: string; acceptedAt: number; submissions: number }

export interface PaymentSimulator {
  url: string;
  stats(): { payments: number; duplicateSubmissions: number };
  close(): Promise<void>;
}

export async function startPaymentSimulator(options: SimulatorOptions = {}): Promise<PaymentSimulator> {
  const delayMs = options.delayMs ?? 2000;
  const failRate = options.failRate ?? 0.1;
  const received = new Map<string, Received>();
  let duplicateSubmissions = 0;
  const fails = (id: string) => crypto.createHash('sha256').update(id).digest().readUInt16BE(0) / 65536 < failRate;

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const reply = (status: number, body: unknown) => { response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)); };
      try {
        const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> : {};
        if (request.method === 'POST' && request.url === '/payments') {
          let accepted = 0;
          let duplicates = 0;
          for (const payment of (body.payments ?? []) as Array<{ endToEndId: string; amount: string; currency: string }>) {
            const existing = received.get(payment.endToEndId);
            if (existing) { existing.submissions += 1; duplicates += 1; duplicateSubmissions += 1; continue; }
            received.set(payment.endToEndId, { amount: payment.amount, currency: payment.currency, acceptedAt: Date.now(), submissions: 1 });
            accepted += 1;
          }
          return reply(202, { accepted, duplicates });
        }
        if (request.method === 'POST' && request.url === '/payments/status') {
          const now = Date.now();
          return reply(200, {
            statuses: ((body.ids ?? []) as string[]).map((id) => {
              const payment = received.get(id);
              if (!payment) return { endToEndId: id, status: 'unknown' };
              if (now - payment.acceptedAt < delayMs) return { endToEndId: id, status: 'accepted' };
              return fails(id) ? { endToEndId: id, status: 'failed', reason: 'simulated: beneficiary account rejected' } : { endToEndId: id, status: 'paid', reference: `SIM-${id.slice(0, 12)}` };
            }),
          });
        }
        if (request.method === 'GET' && request.url === '/stats') return reply(200, { payments: received.size, duplicateSubmissions });
        return reply(404, { error: 'not found' });
      } catch {
        return reply(400, { error: 'invalid JSON' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    stats: () => ({ payments: received.size, duplicateSubmissions }),
    close: () => new Promise((resolve) => { server.close(() => resolve()); }),
  };
}
