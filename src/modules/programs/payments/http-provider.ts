import type { PaymentLine } from './payment-files.js';

// The HTTP provider's side of a disbursement API (the shape `commonweal sim payments` serves):
// POST {base}/payments {payments: [...]} accepts payments, deduplicated by endToEndId (so a resent
// chunk never pays twice); POST {base}/payments/status {ids} reports each one's status.

export type RemoteStatus = 'accepted' | 'paid' | 'failed' | 'unknown';

export interface DisbursementClient {
  submit(lines: PaymentLine[]): Promise<{ accepted: number; duplicates: number }>;
  statuses(endToEndIds: string[]): Promise<Array<{ endToEndId: string; status: RemoteStatus; reference?: string; reason?: string }>>;
}

export class HttpDisbursementClient implements DisbursementClient {
  constructor(private readonly baseUrl: string, private readonly timeoutMs = 30_000) {}

  async submit(lines: PaymentLine[]) {
    return this.post<{ accepted: number; duplicates: number }>('/payments', {
      payments: lines.map((line) => ({ endToEndId: line.endToEndId, amount: line.amount, currency: line.currency, beneficiary: line.registrantId })),
    });
  }

  async statuses(endToEndIds: string[]) {
    return (await this.post<{ statuses: Array<{ endToEndId: string; status: RemoteStatus; reference?: string; reason?: string }> }>('/payments/status', { ids: endToEndIds })).statuses;
  }

  private async post<T>(path: string, body: unknown): Promise<T> {
    const response = await fetch(new URL(path.replace(/^\//, ''), this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`), {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!response.ok) throw new Error(`The disbursement API answered ${response.status} to ${path}`);
    return (await response.json()) as T;
  }
}
