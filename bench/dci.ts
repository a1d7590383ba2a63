// The DCI registry server at national scale, on the bench database (already seeded by `npm run
// bench`; never re-seeded or dropped here): sync search by identifier and a predicate search of 100
// records (latency per request, signature verification of the request and signing of the response
// included), and notify throughput (registry events → signed notify callbacks received by a local
// receiver). `commonweal serve` runs in its own process as in production; the bench process signs
// requests, verifies responses and receives the callbacks. Runs on its own: `npm run bench:dci`
// (options: --database-url URL --seconds S --notifications N).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import type { JWK } from 'jose';
import pg from 'pg';
import pino from 'pino';
import { createSystem, type System } from '../src/app.js';
import { loadConfig } from '../src/platform/config.js';
import { systemActor } from '../src/platform/auth/access-tokens.js';
import { checkSignature, signatureStrategy, staticKeys, type KeyResolver } from '../src/modules/dci/protocol/index.js';
import { benchKekEnvironment } from './encryption.js';
import { DEFAULT_ADMIN_URL, DEFAULT_DATABASE } from './options.js';
import { REGION_CODES, nationalIdOf, randomStream, pickIndex, subtreeAreaIds } from './keys.js';
import { countData } from './database.js';
import { loadAverage } from './proc.js';
import { ServerProcess } from './server-process.js';
import { CpuMeter, type CpuTotals } from './cpu-meter.js';
import { formatProfile, summariseServerProfile } from './cpu-profile.js';

const SENDER_ID = 'bench-dci.example.org';
const context = { actor: systemActor('bench') };

export interface LatencyFigure {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  /** Client side, outside the measured latency: signing the request, verifying the response. */
  clientSignP50Ms: number;
  clientVerifyP50Ms: number;
  recordsPerResponse: number;
  cpu: CpuPer;
}

/** CPU per request (or notification) of the server process and of PostgreSQL: what the machine's load does not change. */
export interface CpuPer {
  serverMs: number | null;
  postgresMs: number | null;
  machineBusyPercent: number | null;
  loadAverage1m: number;
}

function cpuPer(totals: CpuTotals, count: number): CpuPer {
  const per = (ms: number | undefined) => (ms === undefined || count === 0 ? null : round(ms / count));
  return { serverMs: per(totals.serverMs), postgresMs: per(totals.postgresMs), machineBusyPercent: totals.machineBusyPercent ?? null, loadAverage1m: totals.loadAverage1m };
}

export interface DciFigures {
  households: number;
  individuals: number;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
  syncSearchById: LatencyFigure & { target: boolean };
  predicateSearch100: LatencyFigure & { target: boolean; query: string };
  notify: { notifications: number; seconds: number; relayStoredAllAfterSeconds: number | null; perSecond: number; firstAfterMs: number; signaturesChecked: number; cpu: CpuPer; target: boolean };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const round = (value: number) => Math.round(value * 100) / 100;

/** The partner's callback endpoint: counts notifications, keeps a few to check their signatures. */
class Receiver {
  notifies = 0;
  firstAt = 0;
  lastAt = 0;
  samples: Array<Record<string, unknown>> = [];
  waiting = new Map<string, (body: Record<string, unknown>) => void>();
  private server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { header?: { action?: string }; message?: { correlation_id?: string } };
      if (body.header?.action === 'notify') {
        this.notifies += 1;
        this.lastAt = performance.now();
        if (this.firstAt === 0) this.firstAt = this.lastAt;
        if (this.samples.length < 20) this.samples.push(body as Record<string, unknown>);
      } else if (body.message?.correlation_id) {
        this.waiting.get(body.message.correlation_id)?.(body as Record<string, unknown>);
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"message":{"ack_status":"ACK"}}');
    });
  });

  port = 0;
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  callback(correlationId: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no callback for ${correlationId} within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(correlationId, (body) => {
        clearTimeout(timer);
        resolve(body);
      });
    });
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

interface BenchPartner {
  authorization: string;
  sign(header: Record<string, unknown>, message: Record<string, unknown>): Promise<string>;
}

/** The bench partner: created once, its key and callback host renewed each run; a fresh token. */
async function benchPartner(system: System, receiverPort: number, start: () => Promise<string>): Promise<BenchPartner> {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const kid = `bench-${crypto.randomUUID().slice(0, 8)}`;
  const settings = {
    publicKeys: [{ ...(publicKey.export({ format: 'jwk' }) as JWK), kid }], allowedCallbackHosts: [`127.0.0.1:${receiverPort}`],
    signaturePolicy: 'required' as const, signatureStrategy: 'signature-string' as const, scopes: ['dci:search', 'dci:subscribe', 'dci:txn-status', 'pii:reveal'],
    isActive: true,
  };
  let clientId: string;
  let secret: string;
  const existing = (await system.dci.partners.list()).find((partner) => partner.senderId === SENDER_ID);
  if (existing) {
    await system.dci.partners.update(context, SENDER_ID, undefined, settings);
    clientId = existing.clientId;
    secret = (await system.services.apiClients.rotateSecret(context, clientId, 0)).clientSecret;
  } else {
    const created = await system.dci.partners.create(context, { senderId: SENDER_ID, name: 'Bench DCI partner', ...settings });
    clientId = created.clientId;
    secret = created.clientSecret!;
  }
  // The server starts after the key change (it caches partners a few seconds); the token is its own (issuer = its URL).
  const baseUrl = await start();
  const response = await fetch(`${baseUrl}/oauth2/client/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }).toString(),
  });
  const grant = (await response.json()) as { access_token?: string };
  if (!grant.access_token) throw new Error(`no token for the bench partner: HTTP ${response.status}`);
  return {
    authorization: `Bearer ${grant.access_token}`,
    sign: (header, message) => signatureStrategy('signature-string').sign({ header, message }, { senderId: SENDER_ID, kid, algorithm: 'EdDSA', privateKey }),
  };
}

function headerOf(action: string, totalCount: number, senderUri?: string): Record<string, unknown> {
  return {
    version: '1.0.0', message_id: crypto.randomUUID(), message_ts: new Date().toISOString(), action, sender_id: SENDER_ID, total_count: totalCount,
    ...(senderUri ? { sender_uri: senderUri } : {}),
  };
}

async function searchLatencies(
  databaseUrl: string, server: ServerProcess, partner: BenchPartner, keys: KeyResolver, ourSenderId: string, seconds: number,
  criteria: () => Record<string, unknown>, expectRecords: (count: number) => boolean,
): Promise<LatencyFigure> {
  const latencies: number[] = [];
  const signTimes: number[] = [];
  const verifyTimes: number[] = [];
  let records = 0;
  const baseUrl = server.baseUrl;
  let warmup = 20;
  let deadline = Infinity;
  let meter: CpuMeter | undefined;
  // At least `seconds` and at least 50 measured requests (at most four times `seconds`), after 20 unmeasured.
  const hardStop = () => performance.now() > deadline + 3 * seconds * 1000;
  while (warmup > 0 || ((performance.now() < deadline || latencies.length < 50) && !hardStop())) {
    const message = { transaction_id: crypto.randomUUID(), search_request: [{ reference_id: crypto.randomUUID(), timestamp: new Date().toISOString(), search_criteria: criteria() }] };
    const header = headerOf('search', 1);
    const signStarted = performance.now();
    const signature = await partner.sign(header, message);
    const started = performance.now();
    const response = await fetch(`${baseUrl}/dci/registry/sync/search`, { method: 'POST', headers: { authorization: partner.authorization, 'content-type': 'application/json' }, body: JSON.stringify({ signature, header, message }) });
    const body = (await response.json()) as { signature: string; header: Record<string, unknown>; message: { search_response: Array<{ status: string; data?: { reg_records: unknown[] } }> } };
    const elapsed = performance.now() - started;
    if (response.status !== 200 || body.message?.search_response?.[0]?.status !== 'succ') throw new Error(`search failed: HTTP ${response.status} ${JSON.stringify(body).slice(0, 500)}`);
    const count = body.message.search_response[0]!.data!.reg_records.length;
    if (!expectRecords(count)) throw new Error(`search returned ${count} records`);
    const verifyStarted = performance.now();
    const check = await checkSignature(body.signature, { header: body.header, message: body.message }, 'required', 'signature-string', keys, { senderId: ourSenderId });
    if (check.status !== 'verified') throw new Error(`response signature ${check.status}`);
    const verified = performance.now() - verifyStarted;
    if (warmup > 0) {
      warmup -= 1;
      if (warmup === 0) {
        meter = await CpuMeter.start(databaseUrl, server.pid);
        deadline = performance.now() + seconds * 1000;
      }
      continue;
    }
    latencies.push(elapsed);
    signTimes.push(started - signStarted);
    verifyTimes.push(verified);
    records += count;
  }
  const cpu = cpuPer(await meter!.stop(), latencies.length);
  return {
    cpu,
    requests: latencies.length, p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)),
    clientSignP50Ms: round(percentile(signTimes, 50)), clientVerifyP50Ms: round(percentile(verifyTimes, 50)), recordsPerResponse: round(records / latencies.length),
  };
}

export async function measureDci(databaseUrl: string, options: { seconds?: number; notifications?: number; profileDirectory?: string; log?: (message: string) => void } = {}): Promise<DciFigures> {
  const seconds = options.seconds ?? 10;
  const notifications = options.notifications ?? 5000;
  const log = options.log ?? (() => undefined);
  const loadAverageBefore = loadAverage();
  const data = await countData(databaseUrl);
  const config = loadConfig({ ...process.env, ...benchKekEnvironment(), DATABASE_URL: databaseUrl, SEED_DEMO_DATA: 'false', JOB_WORKERS: '0', LOG_LEVEL: 'silent', DATABASE_POOL_SIZE: '4' } as Record<string, string>);
  const system: System = await createSystem(config, { logger: pino({ level: 'silent' }) });
  const receiver = new Receiver();
  await receiver.start();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let server: ServerProcess | undefined;
  try {
    const partner = await benchPartner(system, receiver.port, async () => {
      server = await ServerProcess.start(databaseUrl, { poolSize: 10, jobWorkers: 1, profileDirectory: options.profileDirectory });
      return server.baseUrl;
    });
    if (!server) throw new Error('the server did not start');
    const ourSenderId = new URL(server.baseUrl).host;
    const keys = staticKeys({ [ourSenderId]: system.dci.keys.jwks().keys.filter((key) => key.use === 'sig') });
    const random = randomStream(7);

    log(`sync search by identifier, ${seconds} s, one request at a time`);
    const byId = await searchLatencies(databaseUrl, server, partner, keys, ourSenderId, seconds,
      () => ({ query_type: 'idtype-value', response_entity: 'Member', query: { type: 'national-id', value: nationalIdOf(pickIndex(random, data.households)) } }),
      (count) => count <= 1);
    log(`  p50 ${byId.p50Ms} ms, p99 ${byId.p99Ms} ms over ${byId.requests} requests`);

    const region = REGION_CODES[0]!;
    const predicate = `area eq ${region} and age ge 60, 100 per page, pages 1-20`;
    log(`predicate search (${predicate}), ${seconds} s`);
    const byPredicate = await searchLatencies(databaseUrl, server, partner, keys, ourSenderId, seconds,
      () => ({
        query_type: 'predicate', response_entity: 'Member', pagination: { page_size: 100, page_number: 1 + pickIndex(random, 20) },
        query: [{ seq_num: 1, expression1: { attribute_name: 'area', operator: 'eq', attribute_value: region }, condition: 'and', expression2: { attribute_name: 'age', operator: 'ge', attribute_value: 60 } }],
      }),
      (count) => count <= 100);
    log(`  p50 ${byPredicate.p50Ms} ms, p99 ${byPredicate.p99Ms} ms over ${byPredicate.requests} requests`);

    log(`notify throughput: subscribe, then ${notifications} registry events in ${region}`);
    // A run killed before its clean-up left its subscription active: end it (the triggers would record every write).
    await client.query(`update dci_subscriptions set status = 'unsubscribe', unsubscribed_at = now()
      where status = 'subscribe' and partner_id = (select id from dci_partners where sender_id = $1)`, [SENDER_ID]);
    const subscribeMessage = {
      transaction_id: crypto.randomUUID(),
      subscribe_request: [{ reference_id: 'bench', timestamp: new Date().toISOString(), subscribe_criteria: {
        reg_event_type: 'REGISTER', notify_record_type: 'Member', filter_type: 'predicate',
        // Ends by itself 15 minutes on, even if this run is killed before its clean-up.
        frequency: { start_time: new Date().toISOString(), end_time: new Date(Date.now() + 15 * 60_000).toISOString(), frequency: '* * * * *' },
        filter: [{ seq_num: 1, expression1: { attribute_name: 'area', operator: 'eq', attribute_value: region } }],
      } }],
    };
    const subscribeHeader = headerOf('subscribe', 1, `http://127.0.0.1:${receiver.port}/registry/on-subscribe`);
    const ackResponse = await fetch(`${server.baseUrl}/dci/registry/subscribe`, {
      method: 'POST', headers: { authorization: partner.authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ signature: await partner.sign(subscribeHeader, subscribeMessage), header: subscribeHeader, message: subscribeMessage }),
    });
    const ack = (await ackResponse.json()) as { message: { ack_status: string; correlation_id: string } };
    if (ack.message?.ack_status !== 'ACK') throw new Error(`subscribe not acknowledged: ${JSON.stringify(ack)}`);
    const onSubscribe = await receiver.callback(ack.message.correlation_id) as { message: { subscribe_response: Array<{ status: string; subscriptions?: Array<{ code: string }> }> } };
    const code = onSubscribe.message.subscribe_response[0]?.subscriptions?.[0]?.code;
    if (!code) throw new Error(`subscription refused: ${JSON.stringify(onSubscribe)}`);
    try {
      // Synthetic REGISTER events for existing individuals of the region (the registry itself is not changed).
      const areaIds = await subtreeAreaIds(databaseUrl, region);
      const notifyMeter = await CpuMeter.start(databaseUrl, server.pid);
      const started = performance.now();
      await client.query(`insert into dci_registry_events (event, kind, registrant_uuid)
        select 'REGISTER', 'individual', uuid from registrants where kind = 'individual' and area_id = any($1::bigint[]) limit $2`, [areaIds, notifications]);
      const deadline = Date.now() + 300_000;
      // When the relay has stored them all (its part) vs when the receiver has them all (the dispatcher's).
      let storedAt = 0;
      while (receiver.notifies < notifications && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (storedAt === 0) {
          const { rows: [row] } = await client.query<{ stored: string }>('select count(*) as stored from dci_deliveries where subscription_id = (select id from dci_subscriptions where code = $1)', [code]);
          if (Number(row?.stored ?? 0) >= notifications) storedAt = performance.now();
        }
      }
      const notifyCpu = cpuPer(await notifyMeter.stop(), receiver.notifies);
      const total = receiver.notifies;
      const spanSeconds = (receiver.lastAt - started) / 1000;
      let checked = 0;
      for (const sample of receiver.samples) {
        const body = sample as { signature: string; header: unknown; message: unknown };
        const check = await checkSignature(body.signature, { header: body.header, message: body.message }, 'required', 'signature-string', keys, { senderId: ourSenderId });
        if (check.status !== 'verified') throw new Error(`notify signature ${check.status}`);
        checked += 1;
      }
      const perSecond = Math.round(total / spanSeconds);
      const relaySeconds = storedAt ? round((storedAt - started) / 1000) : undefined;
      log(`  ${total} notifications in ${round(spanSeconds)} s (${perSecond}/s), first after ${Math.round(receiver.firstAt - started)} ms; all stored by the relay after ${relaySeconds ?? '?'} s`);
      return {
        households: data.households, individuals: data.individuals, loadAverageBefore, loadAverageAfter: loadAverage(),
        syncSearchById: { ...byId, target: byId.p99Ms <= 20 },
        predicateSearch100: { ...byPredicate, query: predicate, target: byPredicate.p99Ms <= 60 },
        notify: { notifications: total, seconds: round(spanSeconds), relayStoredAllAfterSeconds: relaySeconds ?? null, perSecond, firstAfterMs: Math.round(receiver.firstAt - started), signaturesChecked: checked, cpu: notifyCpu, target: total >= notifications && perSecond >= 500 },
      };
    } finally {
      // Never leave the bench partner subscribed: the registry triggers would record events for every later write.
      await client.query("update dci_subscriptions set status = 'unsubscribe', unsubscribed_at = now() where code = $1", [code]);
      await client.query("update dci_deliveries set status = 'cancelled' where status = 'pending' and subscription_id = (select id from dci_subscriptions where code = $1)", [code]);
    }
  } finally {
    await server?.stop();
    await receiver.stop();
    await client.end();
    await system.close();
  }
}

export function formatDci(figures: DciFigures): string {
  const mark = (ok: boolean) => (ok ? '' : ' ✗');
  return [
    `DCI on ${figures.individuals.toLocaleString('en')} individuals (${figures.households.toLocaleString('en')} households); load average ${figures.loadAverageBefore.join(' ')} before, ${figures.loadAverageAfter.join(' ')} after`,
    '| figure | p50 | p99 | target | requests |',
    '|---|---:|---:|---|---:|',
    `| sync search by identifier (signed request verified, response signed) | ${figures.syncSearchById.p50Ms} ms | ${figures.syncSearchById.p99Ms} ms${mark(figures.syncSearchById.target)} | p99 ≤ 20 ms | ${figures.syncSearchById.requests} |`,
    `| predicate search, 100 records (${figures.predicateSearch100.query}) | ${figures.predicateSearch100.p50Ms} ms | ${figures.predicateSearch100.p99Ms} ms${mark(figures.predicateSearch100.target)} | p99 ≤ 60 ms | ${figures.predicateSearch100.requests} |`,
    `CPU per request (server process + PostgreSQL): by identifier ${figures.syncSearchById.cpu.serverMs} + ${figures.syncSearchById.cpu.postgresMs} ms, predicate ${figures.predicateSearch100.cpu.serverMs} + ${figures.predicateSearch100.cpu.postgresMs} ms; per notification ${figures.notify.cpu.serverMs} + ${figures.notify.cpu.postgresMs} ms (machine busy ${figures.notify.cpu.machineBusyPercent ?? '?'} % during notify).`,
    `Client side (not in the latencies): signing ${figures.syncSearchById.clientSignP50Ms} ms, verifying the response ${figures.syncSearchById.clientVerifyP50Ms} ms (p50).`,
    `Notify: ${figures.notify.notifications} signed notifications in ${figures.notify.seconds} s = ${figures.notify.perSecond}/s${mark(figures.notify.target)} (target ≥ 500/s), first after ${figures.notify.firstAfterMs} ms, all stored by the relay after ${figures.notify.relayStoredAllAfterSeconds ?? '?'} s; ${figures.notify.signaturesChecked} signatures verified.`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'database-url': { type: 'string' }, seconds: { type: 'string' }, notifications: { type: 'string' }, 'profile-server': { type: 'boolean', default: false } }, strict: true });
  const databaseUrl = values['database-url'] ?? `${DEFAULT_ADMIN_URL}/${DEFAULT_DATABASE}`;
  const log = (message: string) => process.stderr.write(`[bench dci ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
  log(`load average ${loadAverage().join(' ')} on ${os.cpus().length} cores`);
  const profileDirectory = values['profile-server'] ? path.join(import.meta.dirname, 'results', 'profiles', `dci-${Date.now()}`) : undefined;
  const figures = await measureDci(databaseUrl, { seconds: Number(values.seconds ?? 10), notifications: Number(values.notifications ?? 5000), profileDirectory, log });
  const file = path.join(import.meta.dirname, 'results', `dci-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ databaseUrl: databaseUrl.replace(/\/\/[^@]*@/, '//'), ...figures }, null, 2));
  console.log(formatDci(figures));
  const profile = profileDirectory ? summariseServerProfile(profileDirectory, 30) : undefined;
  if (profile) console.log(`\n${formatProfile(profile)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
