import crypto from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import {
  ackOf, checkSignature, dciTimestamp, loadDciSchemas, PartnerKeys, SCHEMA_BASE, signatureStrategy, DCI_VERSION, type SigningKey,
} from '../protocol/index.js';
import { CRVS_PERSONS, DR_PERSONS, IBR_BENEFICIARIES } from './seeds.js';

type Json = Record<string, unknown>;
export type SimKind = 'crvs' | 'ibr' | 'dr';

/** A client the simulated registry knows: OAuth credentials, its DCI sender id and how to verify it. */
export interface SimClient {
  clientId: string;
  clientSecret: string;
  senderId: string;
  publicKeys?: JWK[];
  jwksUrl?: string;
  /** How the registry authenticates its callbacks to this client (OAuth client credentials at tokenUrl). */
  callback?: { tokenUrl: string; clientId: string; clientSecret: string };
}

/** Misbehaviour on demand, for failure tests and demos. */
export interface SimFaults {
  /** Answer the next N DCI requests with HTTP 503. */
  fail5xx: number;
  /** Delay every DCI answer by this many ms. */
  delayMs: number;
  /** Sign answers and callbacks with a key not in our JWKS. */
  wrongSignature: boolean;
  /** Send answers whose message breaks the spec's schema. */
  invalidSchema: boolean;
  /** Do not send asynchronous callbacks (only txn/status knows the answer). */
  dropCallbacks: boolean;
  /** Send every callback twice. */
  duplicateCallbacks: boolean;
  /** Tokens issued live this long (seconds). */
  tokenTtlSeconds: number;
}

export interface SimOptions {
  kind: SimKind;
  senderId?: string;
  clients: SimClient[];
  /** Delay before asynchronous callbacks (default 50 ms). */
  callbackDelayMs?: number;
}

const REG_TYPE: Record<SimKind, string> = { crvs: 'ns:org:RegistryType:Civil', ibr: 'ns:org:RegistryType:IBR', dr: 'ns:org:RegistryType:DR' };
const EVENT_TYPES: Record<string, string> = { birth: 'spdci-common:RegistryEventType:LiveBirth', death: 'spdci-common:RegistryEventType:Death', marriage: 'spdci-common:RegistryEventType:Marriage', divorce: 'spdci-common:RegistryEventType:Divorce' };

interface Transaction {
  client: SimClient;
  action: string;
  transactionId: string;
  correlationId: string;
  response: Json;
}

interface Subscription {
  code: string;
  client: SimClient;
  notifyUri: string;
  eventType?: string;
  active: boolean;
}

/**
 * A small but real DCI registry (CRVS, IBR or DR) for tests and demos: OAuth client credentials,
 * Ed25519-signed answers and a JWKS, requests checked against the registry's official spec and
 * their signatures verified, sync and async search, txn/status, subscribe/unsubscribe and notify.
 */
export class DciSimulator {
  readonly app: FastifyInstance;
  readonly faults: SimFaults = { fail5xx: 0, delayMs: 0, wrongSignature: false, invalidSchema: false, dropCallbacks: false, duplicateCallbacks: false, tokenTtlSeconds: 3600 };
  readonly records: Json[];
  readonly senderId: string;
  readonly received: Array<{ path: string; header: Json }> = [];
  readonly subscriptions: Subscription[] = [];
  private readonly schemas = loadDciSchemas();
  private readonly tokens = new Map<string, { client: SimClient; expiresAt: number }>();
  private readonly transactions = new Map<string, Transaction>();
  private readonly callbackTokens = new Map<string, { token: string; expiresAt: number }>();
  private readonly pendingCallbacks = new Set<Promise<void>>();
  private key!: SigningKey;
  private wrongKey!: SigningKey;
  private jwk!: JWK;
  private readonly keys: PartnerKeys;
  url = '';

  constructor(private readonly options: SimOptions) {
    this.senderId = options.senderId ?? `${options.kind}.sim`;
    this.records = structuredClone(options.kind === 'crvs' ? CRVS_PERSONS : options.kind === 'ibr' ? IBR_BENEFICIARIES : DR_PERSONS);
    this.keys = new PartnerKeys(async (senderId) => {
      const client = this.options.clients.find((candidate) => candidate.senderId === senderId);
      return client ? { publicKeys: client.publicKeys ?? [], jwksUrl: client.jwksUrl ?? null } : undefined;
    }, { cooldownMs: 0 });
    this.app = Fastify({ logger: false });
    this.routes();
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const kid = `${this.options.kind}-sim-1`;
    this.key = { senderId: this.senderId, kid, algorithm: 'EdDSA', privateKey: pair.privateKey };
    this.jwk = { ...(await exportJWK(pair.publicKey)), kid, alg: 'EdDSA', use: 'sig' };
    const other = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    this.wrongKey = { ...this.key, privateKey: other.privateKey };
    await this.app.listen({ port, host });
    const address = this.app.server.address();
    this.url = `http://${host}:${typeof address === 'object' && address ? address.port : port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.pendingCallbacks]);
    await this.app.close();
  }

  /** Waits for the callbacks under way (tests). */
  async settle(): Promise<void> {
    while (this.pendingCallbacks.size > 0) await Promise.allSettled([...this.pendingCallbacks]);
  }

  /** Records a vital event (CRVS) and notifies the subscribers of its type. */
  async recordEvent(type: 'birth' | 'death' | 'marriage' | 'divorce', record: Json): Promise<number> {
    this.records.push(record);
    const eventType = EVENT_TYPES[type]!;
    const targets = this.subscriptions.filter((subscription) => subscription.active && (!subscription.eventType || subscription.eventType === eventType));
    for (const subscription of targets) {
      const message = {
        transaction_id: crypto.randomUUID(),
        notify_event: [{ reference_id: crypto.randomUUID(), timestamp: dciTimestamp(), data: { version: '1.0.0', reg_type: REG_TYPE[this.options.kind], reg_event_type: eventType, reg_record_type: 'spdci-extensions-crvs:Person', reg_records: record } }],
      };
      this.callback(subscription.client, subscription.notifyUri, 'notify', message, true);
    }
    await this.settle();
    return targets.length;
  }

  // ---- HTTP ------------------------------------------------------------------------------------

  private routes(): void {
    const app = this.app;
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))));
    app.get('/.well-known/jwks.json', async () => ({ keys: [this.jwk] }));
    app.post('/oauth2/client/token', async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, string>;
      const client = this.options.clients.find((candidate) => candidate.clientId === body.client_id && candidate.clientSecret === body.client_secret);
      if (body.grant_type !== 'client_credentials' || !client) return reply.code(401).send({ error: 'invalid_client' });
      const token = crypto.randomBytes(24).toString('base64url');
      this.tokens.set(token, { client, expiresAt: Date.now() + this.faults.tokenTtlSeconds * 1000 });
      return { access_token: token, token_type: 'bearer', expires_in: String(this.faults.tokenTtlSeconds) };
    });
    app.post('/sim/events', async (request) => {
      const { type, record } = request.body as { type: 'birth' | 'death' | 'marriage' | 'divorce'; record: Json };
      return { notified: await this.recordEvent(type, record) };
    });

    const dci = (path: string, action: string, schema: string, handle: (client: SimClient, header: Json, message: Json, reply: FastifyReply) => Promise<unknown>) => {
      app.post(path, async (request, reply) => {
        if (this.faults.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.faults.delayMs));
        if (this.faults.fail5xx > 0) {
          this.faults.fail5xx -= 1;
          return reply.code(503).send({ errors: [{ code: 'err.service.unavailable', message: 'simulated outage' }] });
        }
        const token = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
        const session = token ? this.tokens.get(token) : undefined;
        if (!session || session.expiresAt < Date.now()) return reply.code(401).send({ errors: [{ code: 'err.request.unauthorized', message: 'missing or expired token' }] });
        const envelope = request.body as { signature?: unknown; header?: Json; message?: Json };
        const header = envelope?.header ?? {};
        this.received.push({ path, header });
        const correlation = crypto.randomUUID();
        const headerCheck = this.check('MsgHeader_V1.0.0', header);
        const messageCheck = this.check(schema, envelope?.message);
        if (!headerCheck.valid || !messageCheck.valid || header.action !== action) {
          const problems = [...(headerCheck.valid ? [] : headerCheck.problems), ...(messageCheck.valid ? [] : messageCheck.problems)].map((problem) => `${problem.path} ${problem.message}`);
          return reply.code(400).send(ackOf(correlation, 'ERR', { code: 'err.request.bad', message: problems.join('; ') || `action must be ${action}` }));
        }
        if (header.sender_id !== session.client.senderId) return reply.code(400).send(ackOf(correlation, 'ERR', { code: 'err.sender_id.invalid', message: 'sender_id is not this client' }));
        const signature = await checkSignature(envelope.signature, { header, message: envelope.message }, 'required', 'signature-string', this.keys, { senderId: String(header.sender_id) });
        if (signature.status !== 'verified') return reply.code(400).send(ackOf(correlation, 'ERR', { code: 'err.signature.invalid', message: 'message' in signature ? signature.message : 'not verified' }));
        return handle(session.client, header, envelope.message!, reply);
      });
    };

    const search = (message: Json, correlationId: string) => this.searchResponse(message, correlationId);
    dci('/registry/sync/search', 'search', 'SearchRequest', async (client, header, message) => this.signed(client, header, 'on-search', search(message, crypto.randomUUID())));
    dci('/registry/search', 'search', 'SearchRequest', async (client, header, message) => this.accept(client, header, message, 'search', (correlationId) => search(message, correlationId)));
    dci('/registry/subscribe', 'subscribe', 'SubscribeRequest', async (client, header, message) => this.accept(client, header, message, 'subscribe', (correlationId) => this.subscribe(client, header, message, correlationId)));
    dci('/registry/unsubscribe', 'unsubscribe', 'UnSubscribeRequest', async (client, header, message) => this.accept(client, header, message, 'unsubscribe', (correlationId) => this.unsubscribe(message, correlationId)));
    dci('/registry/sync/txn/status', 'txn-status', 'TxnStatusRequest', async (client, header, message) => this.signed(client, header, 'txn-on-status', this.txnStatus(client, message)));
    if (this.options.kind === 'ibr') {
      dci('/registry/sync/enrolled', 'search', 'EnrolledRequest', async (client, header, message) => this.signed(client, header, 'on-search', this.enrolled(message)));
      dci('/registry/sync/enrollment/updates', 'notify', 'EnrollmentUpdatesRequest', async (client, header, message) => this.signed(client, header, 'notify', this.enrollmentUpdates(message)));
    }
    if (this.options.kind === 'dr') {
      dci('/registry/sync/disabled', 'search', 'DisabledRequest', async (client, header, message) => this.signed(client, header, 'on-search', this.disabled(message)));
    }
  }

  private check(name: string, value: unknown) {
    return this.schemas.checkRef(`${SCHEMA_BASE}${this.options.kind}#/components/schemas/${name}`, value);
  }

  private async signed(client: SimClient, requestHeader: Json, action: string, message: Json): Promise<Json> {
    const body = this.faults.invalidSchema ? { ...message, transaction_id: undefined, search_response: 'not a list' } : message;
    const header = {
      version: DCI_VERSION, message_id: crypto.randomUUID(), message_ts: dciTimestamp(), action, status: 'succ',
      total_count: Number(requestHeader.total_count ?? 1), completed_count: Number(requestHeader.total_count ?? 1), sender_id: this.senderId, receiver_id: client.senderId, is_msg_encrypted: false,
    };
    const signature = await signatureStrategy('signature-string').sign({ header, message: body }, this.faults.wrongSignature ? this.wrongKey : this.key, { ttlSeconds: 300 });
    return { signature, header, message: body };
  }

  /** Async endpoints: ACK now, the callback later (unless dropped), and txn/status knows the answer. */
  private accept(client: SimClient, header: Json, message: Json, action: string, build: (correlationId: string) => Json): unknown {
    const correlationId = crypto.randomUUID();
    const response = build(correlationId);
    const transactionId = String(message.transaction_id);
    this.transactions.set(`${client.senderId}|${transactionId}`, { client, action, transactionId, correlationId, response });
    if (!this.faults.dropCallbacks && typeof header.sender_uri === 'string') {
      const callbackAction = { search: 'on-search', subscribe: 'on-subscribe', unsubscribe: 'on-unsubscribe' }[action]!;
      this.callback(client, header.sender_uri, callbackAction, response, false);
    }
    return ackOf(correlationId);
  }

  private callback(client: SimClient, uri: string, action: string, message: Json, isRequest: boolean): void {
    const send = async () => {
      await new Promise((resolve) => setTimeout(resolve, this.options.callbackDelayMs ?? 50));
      const header: Json = isRequest
        ? { version: DCI_VERSION, message_id: crypto.randomUUID(), message_ts: dciTimestamp(), action, sender_id: this.senderId, receiver_id: client.senderId, total_count: 1, is_msg_encrypted: false }
        : { version: DCI_VERSION, message_id: crypto.randomUUID(), message_ts: dciTimestamp(), action, status: 'succ', total_count: 1, completed_count: 1, sender_id: this.senderId, receiver_id: client.senderId, is_msg_encrypted: false };
      const signature = await signatureStrategy('signature-string').sign({ header, message }, this.faults.wrongSignature ? this.wrongKey : this.key, { ttlSeconds: 300 });
      const body = JSON.stringify({ signature, header, message });
      const times = this.faults.duplicateCallbacks ? 2 : 1;
      for (let index = 0; index < times; index += 1) {
        try {
          await fetch(uri, { method: 'POST', headers: { 'content-type': 'application/json', ...(await this.callbackAuth(client)) }, body, signal: AbortSignal.timeout(10_000) });
        } catch {
          // The subscriber is down: a real registry would retry; the simulator does not.
        }
      }
    };
    const promise = send().finally(() => this.pendingCallbacks.delete(promise));
    this.pendingCallbacks.add(promise);
  }

  private async callbackAuth(client: SimClient): Promise<Record<string, string>> {
    if (!client.callback) return {};
    const cached = this.callbackTokens.get(client.clientId);
    if (cached && cached.expiresAt > Date.now()) return { authorization: `Bearer ${cached.token}` };
    const response = await fetch(client.callback.tokenUrl, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.callback.clientId, client_secret: client.callback.clientSecret }).toString(),
    });
    const grant = (await response.json()) as { access_token: string; expires_in?: number | string };
    this.callbackTokens.set(client.clientId, { token: grant.access_token, expiresAt: Date.now() + (Number(grant.expires_in ?? 300) - 30) * 1000 });
    return { authorization: `Bearer ${grant.access_token}` };
  }

  // ---- registry behaviour ------------------------------------------------------------------------

  private searchResponse(message: Json, correlationId: string): Json {
    const items = (message.search_request as Json[]).map((item) => {
      const criteria = item.search_criteria as Json;
      const matches = this.records.filter((record) => matchesQuery(record, String(criteria.query_type), criteria.query));
      const shown = this.options.kind === 'ibr' ? matches.map(beneficiaryRecord) : matches;
      return {
        reference_id: item.reference_id, timestamp: dciTimestamp(), status: 'succ',
        // The DR spec of this revision has reg_records as one object (a list only in its newer revision).
        data: { version: '1.0.0', reg_type: REG_TYPE[this.options.kind], reg_record_type: 'Person', reg_records: this.options.kind === 'dr' ? (shown[0] ?? {}) : shown },
        pagination: { page_size: Math.max(shown.length, 1), page_number: 1, total_count: shown.length },
      };
    });
    return { transaction_id: message.transaction_id, correlation_id: correlationId, search_response: items };
  }

  private subscribe(client: SimClient, header: Json, message: Json, correlationId: string): Json {
    const items = (message.subscribe_request as Json[]).map((item) => {
      const code = `SUB-${crypto.randomUUID().slice(0, 8)}`;
      const criteria = item.subscribe_criteria as Json;
      const notifyUri = String(header.sender_uri ?? '').replace(/\/on-subscribe$/, '/notify');
      this.subscriptions.push({ code, client, notifyUri, eventType: criteria.reg_event_type as string | undefined, active: true });
      return { reference_id: item.reference_id, timestamp: dciTimestamp(), status: 'succ', subscriptions: [{ code, status: 'subscribe', timestamp: dciTimestamp() }] };
    });
    return { transaction_id: message.transaction_id, correlation_id: correlationId, subscribe_response: items };
  }

  private unsubscribe(message: Json, correlationId: string): Json {
    const codes = (message.subscription_codes as string[] | undefined) ?? [];
    for (const subscription of this.subscriptions) if (codes.includes(subscription.code)) subscription.active = false;
    return { transaction_id: message.transaction_id, correlation_id: correlationId, timestamp: dciTimestamp(), status: 'succ', subscription_status: codes.map((code) => ({ code, status: 'unsubscribe', timestamp: dciTimestamp() })) };
  }

  private txnStatus(client: SimClient, message: Json): Json {
    const request = message.txnstatus_request as Json;
    const found = this.transactions.get(`${client.senderId}|${String(request.attribute_value)}`);
    return {
      transaction_id: message.transaction_id, correlation_id: crypto.randomUUID(),
      txnstatus_response: { txn_type: request.txn_type, ...(found ? { txn_status: txnStatusForm(found.response) } : {}) },
    };
  }

  private enrolled(message: Json): Json {
    const criteria = message.enrolled_criteria as Json;
    const query = (criteria.query ?? {}) as Record<string, { eq?: string }>;
    const value = query.person_identifier?.eq ?? query['member.member_identifier']?.eq;
    const matches = this.records.filter((record) => identifiersOf(record).some((identifier) => identifier.identifier_value === value));
    return { transaction_id: message.transaction_id, correlation_id: crypto.randomUUID(), enrolled_response: [{ reference_id: crypto.randomUUID(), timestamp: dciTimestamp(), status: 'succ', enrolled_status: matches.length > 0 ? 'yes' : 'no' }] };
  }

  private enrollmentUpdates(message: Json): Json {
    const beneficiaries = ((message.enrolled_updates as Json).beneficiaries as Json[] | undefined) ?? [];
    for (const beneficiary of beneficiaries) {
      const keys = identifiersOf(beneficiary).map((identifier) => identifier.identifier_value);
      const existing = this.records.find((record) => identifiersOf(record).some((identifier) => keys.includes(identifier.identifier_value)));
      if (existing) Object.assign(existing, beneficiary);
      else this.records.push(beneficiary);
    }
    return { transaction_id: message.transaction_id, correlation_id: crypto.randomUUID(), enrolled_response: beneficiaries.map(() => ({ reference_id: crypto.randomUUID(), timestamp: dciTimestamp(), status: 'succ' })) };
  }

  private disabled(message: Json): Json {
    const criteria = message.disabled_criteria as Json;
    const query = (criteria.query ?? {}) as Record<string, { eq?: string }>;
    const value = query['member.member_identifier']?.eq ?? query.person_identifier?.eq;
    const match = this.records.find((record) => identifiersOf(record).some((identifier) => identifier.identifier_value === value));
    return { transaction_id: message.transaction_id, correlation_id: crypto.randomUUID(), disabled_response: [{ reference_id: crypto.randomUUID(), timestamp: dciTimestamp(), status: 'succ', disabled_status: match?.has_disability ? 'yes' : 'no' }] };
  }
}

/**
 * The spec's TxnStatusResponse has `reg_records` as one object (its search form), where SearchResponse
 * has a list: a finished search is reported with its first record per item, as the schema requires.
 */
function txnStatusForm(response: Json): Json {
  if (!Array.isArray(response.search_response)) return response;
  return {
    ...response,
    search_response: (response.search_response as Json[]).map((item) => {
      const data = item.data as Json | undefined;
      if (!data || !Array.isArray(data.reg_records)) return item;
      const records = data.reg_records as Json[];
      const { pagination: _pagination, ...rest } = item;
      return records.length === 0 ? { ...rest, data: { ...data, reg_records: {} } } : { ...rest, data: { ...data, reg_records: records[0] } };
    }),
  };
}

function identifiersOf(record: Json): Array<{ identifier_type: string; identifier_value: string }> {
  const value = record.identifier;
  return (Array.isArray(value) ? value : value ? [value] : []) as Array<{ identifier_type: string; identifier_value: string }>;
}

function beneficiaryRecord(record: Json): Json {
  return { identifier: record.identifier, name: record.name, programme_enrolments: record.programs };
}

/** idtype-value, predicate (eq gt lt ge le in on top-level fields) and expression ({query: {field: value}}). */
function matchesQuery(record: Json, queryType: string, query: unknown): boolean {
  if (queryType === 'idtype-value') {
    const { type, value } = query as { type?: string; value?: unknown };
    return identifiersOf(record).some((identifier) => identifier.identifier_type === type && identifier.identifier_value === String(value));
  }
  const compare = (name: string, operator: string, expected: unknown) => {
    const actual = name === 'identifier' ? identifiersOf(record).map((identifier) => identifier.identifier_value) : [record[name]];
    return actual.some((value) => {
      if (value === undefined || value === null || value === '') return false;
      const left = String(value);
      const right = expected;
      switch (operator) {
        case 'eq': return left === String(right);
        case 'gt': return left > String(right);
        case 'lt': return left < String(right);
        case 'ge': return left >= String(right);
        case 'le': return left <= String(right);
        case 'in': return (Array.isArray(right) ? right : String(right).split(',')).map(String).includes(left);
        default: return false;
      }
    });
  };
  if (queryType === 'predicate' && Array.isArray(query)) {
    return query.every((item: Json) => {
      const first = item.expression1 as Json;
      const one = compare(String(first.attribute_name), String(first.operator), first.attribute_value);
      if (!item.condition || !item.expression2) return one;
      const second = item.expression2 as Json;
      const two = compare(String(second.attribute_name), String(second.operator), second.attribute_value);
      return item.condition === 'or' ? one || two : item.condition === 'not' ? one && !two : one && two;
    });
  }
  if (queryType === 'expression') {
    const expression = ((query as Json).value as Json | undefined)?.expression as Json | undefined;
    const fields = (expression?.query ?? expression ?? {}) as Json;
    return Object.entries(fields).every(([name, value]) => compare(name, 'eq', value));
  }
  return false;
}
