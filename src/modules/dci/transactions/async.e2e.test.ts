import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';
import { createTestSystem, type TestSystem } from '../../../test-support/test-system.js';
import { systemActor } from '../../../platform/auth/access-tokens.js';
import type { RequestContext } from '../../../platform/audit/audit.js';
import { checkSignature, loadDciSchemas, staticKeys } from '../protocol/index.js';
import { onboardPartner, searchItem, searchMessage, signedEnvelope, type TestPartner } from '../dci.test-support.js';

type Json = Record<string, any>;

const schemas = loadDciSchemas();
const global: RequestContext = { actor: systemActor('test') };
const OUR_ID = 'commonweal.test';

/** A partner's callback endpoint: records every POST; can be taken down and brought back on the same port. */
class Receiver {
  received: Array<{ path: string; authorization?: string; body: Json }> = [];
  /** Answer this many requests with 503 before accepting again. */
  failNext = 0;
  private server?: http.Server;
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = http.createServer((request, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      request.on('end', () => {
        if (this.failNext > 0) {
          this.failNext -= 1;
          response.writeHead(503).end();
          return;
        }
        this.received.push({ path: request.url ?? '', authorization: request.headers.authorization, body: JSON.parse(text) as Json });
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ message: { ack_status: 'ACK', timestamp: new Date().toISOString(), correlation_id: crypto.randomUUID() } }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  of(action: string, predicate: (body: Json) => boolean = () => true): Json[] {
    return this.received.filter((record) => record.body.header?.action === action && predicate(record.body)).map((record) => record.body);
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('DCI asynchronous endpoints, callbacks and subscriptions over real HTTP', () => {
  let system: TestSystem;
  let base: string;
  const receiver = new Receiver();
  let partner: TestPartner;
  let other: TestPartner;
  let ourKeys: ReturnType<typeof staticKeys>;
  const ids: Record<string, string> = {};

  const post = async (path: string, body: unknown, authorization = partner.authorization) => {
    const response = await fetch(`${base}/dci${path}`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, json: (await response.json()) as Json };
  };
  const envelope = (who: TestPartner, action: string, message: Record<string, unknown>, path: string, overrides: Record<string, unknown> = {}) => {
    const items = (message.search_request ?? message.subscribe_request) as unknown[] | undefined;
    return signedEnvelope(who, message, { action, sender_uri: receiver.url(path), total_count: items?.length ?? 1, ...overrides });
  };
  const ack = async (path: string, body: Json, authorization?: string) => {
    const response = await post(path, body, authorization);
    assert.equal(response.status, 200, JSON.stringify(response.json));
    assert.equal(response.json.message.ack_status, 'ACK');
    assert.equal(schemas.check('ack', response.json).valid, true);
    return response.json.message.correlation_id as string;
  };
  const verified = async (body: Json) => {
    const check = await checkSignature(body.signature, { header: body.header, message: body.message }, 'required', 'signature-string', ourKeys, { senderId: OUR_ID });
    assert.equal(check.status, 'verified', JSON.stringify(check));
  };
  let adminHeaders: { authorization: string } | undefined;
  const admin = async (path: string) => {
    adminHeaders ??= await system.authAs('dci:admin');
    const response = await system.http.inject({ method: 'GET', url: path, headers: adminHeaders });
    assert.equal(response.statusCode, 200, response.body);
    return response.json() as Json;
  };
  const subscribe = async (who: TestPartner, criteria: Record<string, unknown>) => {
    const message = { transaction_id: crypto.randomUUID(), subscribe_request: [{ reference_id: crypto.randomUUID(), timestamp: new Date().toISOString(), subscribe_criteria: criteria }] };
    const correlation = await ack('/registry/subscribe', await envelope(who, 'subscribe', message, '/registry/on-subscribe'), who.authorization);
    const callback = await waitFor('on-subscribe', () => receiver.of('on-subscribe', (body) => body.message.correlation_id === correlation)[0]);
    return callback;
  };
  const unsubscribe = async (who: TestPartner, codes: string[]) => {
    const message = { transaction_id: crypto.randomUUID(), timestamp: new Date().toISOString(), subscription_codes: codes };
    const correlation = await ack('/registry/unsubscribe', await envelope(who, 'unsubscribe', message, '/registry/on-unsubscribe'), who.authorization);
    return waitFor('on-unsubscribe', () => receiver.of('on-unsubscribe', (body) => body.message.correlation_id === correlation)[0]);
  };
  const person = async (given: string, area: string, id: string) => (await system.services.registry.createIndividual(global, {
    name: { given, family: 'Tester' }, area, birthDate: '1990-01-01', gender: '2', identifiers: [{ type: 'national-id', value: id }],
  })).id;
  /** Everything in flight has been turned into notifications and sent (or attempted). */
  const settle = async () => {
    await system.dciAsync.relay.drain();
    await system.dciAsync.dispatcher.drain();
  };

  before(async () => {
    system = await createTestSystem({ DCI_CALLBACK_RETRY_BASE_MS: '100', DCI_CALLBACK_RETRY_MAX_MS: '300', DCI_CALLBACK_POLL_MS: '25', JOB_POLL_INTERVAL_MS: '20' });
    await system.http.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(system.http.server.address() as AddressInfo).port}`;
    await receiver.start();
    for (const area of [{ code: 'C', name: 'Country', kind: 'country' }, { code: 'R1', name: 'North', kind: 'region', parentCode: 'C' }, { code: 'R2', name: 'South', kind: 'region', parentCode: 'C' }]) {
      await system.services.areas.createArea(global, area);
    }
    ids.anna = await person('Anna', 'R1', 'ANNA0001');
    const scopes = ['dci:search', 'dci:subscribe', 'dci:txn-status', 'pii:reveal'];
    partner = await onboardPartner(system, { scopes, allowedCallbackHosts: [`127.0.0.1:${receiver.port}`] });
    other = await onboardPartner(system, { scopes, allowedCallbackHosts: [`127.0.0.1:${receiver.port}`] });
    await system.dci.partners.update(global, partner.senderId, undefined, { callbackCredentials: { bearerToken: 'our-token-for-partner' } });
    ourKeys = staticKeys({ [OUR_ID]: system.dci.keys.jwks().keys.filter((key) => key.use === 'sig') as JWK[] });
    system.jobs.start();
    system.dciAsync.start();
  });
  after(async () => {
    await system?.dciAsync.stop();
    await system?.jobs.stop();
    await receiver.stop();
    await system?.close();
  });
  beforeEach(() => {
    receiver.received = [];
    receiver.failNext = 0;
  });

  test('async search: spec ACK at once, then a signed on-search callback with our bearer token; state and attempts in the admin API', async () => {
    const message = searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } }));
    const correlation = await ack('/registry/search', await envelope(partner, 'search', message, '/registry/on-search'));
    const callback = await waitFor('on-search', () => receiver.of('on-search', (body) => body.message.correlation_id === correlation)[0]);
    const record = receiver.received.find((entry) => entry.body === callback)!;
    assert.equal(record.path, '/registry/on-search');
    assert.equal(record.authorization, 'Bearer our-token-for-partner');
    assert.equal(callback.header.status, 'succ');
    assert.equal(callback.header.receiver_id, partner.senderId);
    assert.equal(callback.message.transaction_id, message.transaction_id);
    assert.equal(callback.message.search_response[0].status, 'succ');
    assert.equal(callback.message.search_response[0].data.reg_records[0].demographic_info.name.given_name, 'Anna');
    assert.equal(schemas.check('callbackHeader', callback.header).valid, true);
    assert.equal(schemas.check('searchResponse', callback.message).valid, true, JSON.stringify(schemas.check('searchResponse', callback.message)));
    await verified(callback);

    const transaction = await waitFor('delivered state', async () => {
      const view = await admin(`/api/v2/DciTransaction/${correlation}`);
      return view.deliveries[0]?.status === 'delivered' ? view : undefined;
    });
    assert.equal(transaction.status, 'succ');
    assert.equal(transaction.senderId, partner.senderId);
    assert.equal(transaction.deliveries[0].messageId, callback.header.message_id);
    assert.deepEqual(transaction.deliveries[0].attemptLog.map((attempt: Json) => attempt.outcome), ['delivered']);
    const list = await admin(`/api/v2/DciTransaction?senderId=${encodeURIComponent(partner.senderId)}&action=search`);
    assert.ok(list.items.some((item: Json) => item.id === correlation));
  });

  test('a receiver that is down for a while gets the callback once it is back (retried with backoff, every attempt recorded)', async () => {
    const port = receiver.port;
    await receiver.stop();
    const message = searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } }));
    const correlation = await ack('/registry/search', await envelope(partner, 'search', message, '/registry/on-search'));
    await waitFor('two failed attempts', async () => {
      const view = await admin(`/api/v2/DciTransaction/${correlation}`);
      return (view.deliveries[0]?.attemptLog.length ?? 0) >= 2 ? view : undefined;
    });
    await receiver.start(port);
    const callback = await waitFor('on-search after recovery', () => receiver.of('on-search', (body) => body.message.correlation_id === correlation)[0]);
    await verified(callback);
    const view = await waitFor('delivered', async () => {
      const current = await admin(`/api/v2/DciTransaction/${correlation}`);
      return current.deliveries[0].status === 'delivered' ? current : undefined;
    });
    const outcomes = view.deliveries[0].attemptLog.map((attempt: Json) => attempt.outcome) as string[];
    assert.ok(outcomes.length >= 3, outcomes.join());
    assert.deepEqual(outcomes.slice(0, -1).every((outcome) => outcome === 'failed'), true);
    assert.equal(outcomes.at(-1), 'delivered');
    assert.equal(receiver.of('on-search', (body) => body.message.correlation_id === correlation).length, 1);
  });

  test('a sender_uri outside the allowed hosts is refused at once (err.sender_uri.invalid); nothing is stored or sent', async () => {
    const before = (await admin('/api/v2/DciTransaction?_count=200')).count;
    const message = searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } }));
    for (const uri of ['http://evil.example.org/registry/on-search', `http://127.0.0.1:${receiver.port + 1}/x`, 'file:///etc/passwd']) {
      const response = await post('/registry/search', await envelope(partner, 'search', message, '/unused', { sender_uri: uri }));
      assert.equal(response.status, 400);
      assert.equal(response.json.message.ack_status, 'ERR');
      assert.equal(response.json.message.error.code, 'err.sender_uri.invalid');
    }
    assert.equal((await admin('/api/v2/DciTransaction?_count=200')).count, before);
  });

  test('an allowed host name that resolves to an internal address is not called back (refused, recorded)', async () => {
    const named = await onboardPartner(system, { scopes: ['dci:search'], allowedCallbackHosts: [`localhost:${receiver.port}`] });
    const message = searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } }));
    const correlation = await ack('/registry/search', await envelope(named, 'search', message, '/x', { sender_uri: `http://localhost:${receiver.port}/registry/on-search` }), named.authorization);
    const view = await waitFor('refused', async () => {
      const current = await admin(`/api/v2/DciTransaction/${correlation}`);
      return current.deliveries[0]?.status === 'refused' ? current : undefined;
    });
    assert.match(view.deliveries[0].lastError, /internal address/);
    assert.equal(view.deliveries[0].attemptLog[0].outcome, 'refused');
    assert.equal(receiver.received.length, 0);
  });

  test('a duplicate message_id is refused (rjct.message_id.duplicate) and answered only once', async () => {
    const message = searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } }));
    const body = await envelope(partner, 'search', message, '/registry/on-search');
    const correlation = await ack('/registry/search', body);
    const again = await post('/registry/search', body);
    assert.equal(again.status, 400);
    assert.equal(again.json.message.ack_status, 'ERR');
    assert.equal(again.json.message.error.code, 'err.request.bad');
    assert.match(again.json.message.error.message, /^rjct\.message_id\.duplicate/);
    await waitFor('on-search', () => receiver.of('on-search', (b) => b.message.correlation_id === correlation)[0]);
    await settle();
    assert.equal(receiver.of('on-search', (b) => b.message.transaction_id === message.transaction_id).length, 1);
    const list = await admin(`/api/v2/DciTransaction?transactionId=${encodeURIComponent(message.transaction_id as string)}`);
    assert.equal(list.count, 1);
  });

  test('token and scope: 401 {errors} without a token, 403 without dci:subscribe; admin API needs dci:admin', async () => {
    const message = { transaction_id: crypto.randomUUID(), timestamp: new Date().toISOString(), subscription_codes: ['x'] };
    const body = await envelope(partner, 'unsubscribe', message, '/registry/on-unsubscribe');
    const anonymous = await fetch(`${base}/dci/registry/unsubscribe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as Json).errors[0].code, 'err.request.unauthorized');
    const searchOnly = await onboardPartner(system, { scopes: ['dci:search'], allowedCallbackHosts: [`127.0.0.1:${receiver.port}`] });
    const forbidden = await post('/registry/unsubscribe', await envelope(searchOnly, 'unsubscribe', message, '/registry/on-unsubscribe'), searchOnly.authorization);
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.json.errors[0].code, 'err.request.forbidden');
    const notAdmin = await system.http.inject({ method: 'GET', url: '/api/v2/DciTransaction', headers: await system.authAs('dci:search') });
    assert.equal(notAdmin.statusCode, 403);
    const anonymousAdmin = await system.http.inject({ method: 'GET', url: '/api/v2/DciSubscription' });
    assert.equal(anonymousAdmin.statusCode, 401);
  });

  test('subscribe → on-subscribe with a code; REGISTER notifications only for matching registrants, signed, in order per registrant', async () => {
    const onSubscribe = await subscribe(partner, {
      reg_event_type: 'REGISTER', notify_record_type: 'Member',
      filter_type: 'predicate', filter: [{ seq_num: 1, expression1: { attribute_name: 'area', operator: 'eq', attribute_value: 'R1' } }],
    });
    assert.equal(onSubscribe.header.action, 'on-subscribe');
    assert.equal(schemas.check('header', onSubscribe.header).valid, true, 'on-subscribe uses MsgHeader_V1.0.0 in the spec');
    assert.equal(schemas.check('subscribeResponse', onSubscribe.message).valid, true);
    const item = onSubscribe.message.subscribe_response[0];
    assert.equal(item.status, 'succ', JSON.stringify(item));
    const code = item.subscriptions[0].code as string;
    await verified(onSubscribe);

    const north = await person('Nora', 'R1', 'NORA0001');
    await person('Sam', 'R2', 'SAMM0001'); // outside the filter
    const notify = await waitFor('notify', () => receiver.of('notify')[0]);
    assert.equal(notify.header.meta.subscription_code, code);
    assert.equal(notify.message.notify_event[0].data.reg_event_type, 'REGISTER');
    assert.equal(notify.message.notify_event[0].data.reg_records.demographic_info.name.given_name, 'Nora');
    assert.equal(notify.message.notify_event[0].data.reg_records['@id'].endsWith(north), true);
    assert.equal(schemas.check('notifyEventRequest', notify.message).valid, true, JSON.stringify(schemas.check('notifyEventRequest', notify.message)));
    assert.equal(schemas.check('callbackHeader', notify.header).valid, true);
    await verified(notify);
    await settle();
    assert.equal(receiver.of('notify').length, 1, 'Sam (R2) does not match the filter');
    await unsubscribe(partner, [code]);
  });

  test('UPDATE notifications of one registrant arrive in commit order, even when the first delivery has to be retried', async () => {
    const onSubscribe = await subscribe(partner, {
      reg_event_type: 'UPDATE', notify_record_type: 'Member', filter: { type: 'national-id', value: 'ANNA0001' },
    });
    const code = onSubscribe.message.subscribe_response[0].subscriptions[0].code as string;
    receiver.failNext = 2; // the first notification fails twice; the later ones must wait for it
    let version = (await system.services.registry.getIndividual(global, ids.anna!)).version;
    for (const family of ['One', 'Two', 'Three']) {
      version = (await system.services.registry.updateIndividual(global, ids.anna!, { name: { family } }, version)).version;
    }
    await person('Other', 'R1', 'OTHR0001'); // not Anna: no UPDATE notification
    const notes = await waitFor('three notifications', () => {
      const list = receiver.of('notify', (body) => body.header.meta.subscription_code === code);
      return list.length >= 3 ? list : undefined;
    });
    // Each carries the record as it is when the notification is made: the last one the latest state.
    assert.equal(notes.at(-1)!.message.notify_event[0].data.reg_records.demographic_info.name.surname, 'Three');
    const eventIds = notes.map((note) => Number(note.header.meta.event_id));
    assert.deepEqual(eventIds, [...eventIds].sort((a, b) => a - b), 'delivered in event order');
    assert.equal(new Set(notes.map((note) => note.header.message_id)).size, 3, 'one message id per notification');
    assert.ok(notes.every((note) => note.message.notify_event[0].data.reg_event_type === 'UPDATE'));
    await unsubscribe(partner, [code]);
  });

  test('NewHouseHoldMember: a member joining a household notifies a Group subscription with the household', async () => {
    const household = await system.services.registry.createGroup(global, { groupType: 'household', name: 'North', area: 'R1', members: [{ individual: ids.anna!, role: 'head' }] });
    const onSubscribe = await subscribe(partner, {
      reg_event_type: 'spdci:common:RegistryEventType:NewHouseHoldMember', notify_record_type: 'Group',
      filter: { type: 'ns:org:QueryType:expression', value: { expression: { collection: 'Group', query: { location: { $eq: 'R1' } } } } }, filter_type: 'expression',
    });
    const code = onSubscribe.message.subscribe_response[0].subscriptions[0].code as string;
    const kid = await person('Kid', 'R1', 'KIDD0001');
    await system.services.registry.addMember(global, household.id, { individual: kid, role: 'child' });
    const notify = await waitFor('NewHouseHoldMember', () => receiver.of('notify', (body) => body.header.meta.subscription_code === code)[0]);
    const data = notify.message.notify_event[0].data;
    assert.equal(data.reg_event_type, 'NewHouseHoldMember');
    assert.equal(data.reg_record_type, 'Group');
    assert.ok(data.reg_records['@id'].endsWith(household.id));
    assert.deepEqual((data.reg_records.member_list as Json[]).map((member) => member.demographic_info.name.given_name).sort(), ['Anna', 'Kid']);
    await unsubscribe(partner, [code]);
  });

  test("unsubscribe stops notifications; another sender's code is refused and its subscription keeps notifying", async () => {
    const mine = (await subscribe(partner, { reg_event_type: 'REGISTER', notify_record_type: 'Member', filter: [{ expression1: { attribute_name: 'area', operator: 'eq', attribute_value: 'R2' } }] }))
      .message.subscribe_response[0].subscriptions[0].code as string;
    const theirs = (await subscribe(other, { reg_event_type: 'REGISTER', notify_record_type: 'Member', filter: [{ expression1: { attribute_name: 'area', operator: 'eq', attribute_value: 'R2' } }] }))
      .message.subscribe_response[0].subscriptions[0].code as string;

    const refused = await unsubscribe(partner, [theirs]);
    assert.equal(refused.message.status, 'rjct');
    assert.equal(refused.message.status_reason_code, 'rjct.subscription_code.invalid');
    assert.deepEqual(refused.message.subscription_status, []);
    assert.equal(schemas.check('unsubscribeResponse', refused.message).valid, true);

    const ended = await unsubscribe(partner, [mine]);
    assert.equal(ended.message.status, 'succ');
    assert.deepEqual(ended.message.subscription_status, [{ code: mine, status: 'unsubscribe' }]);
    const twice = await unsubscribe(partner, [mine]);
    assert.equal(twice.message.status_reason_code, 'rjct.event.already_unsubscribed');

    await person('Sue', 'R2', 'SUEE0001');
    await waitFor("other sender's notify", () => receiver.of('notify', (body) => body.header.meta.subscription_code === theirs)[0]);
    await settle();
    assert.equal(receiver.of('notify', (body) => body.header.meta.subscription_code === mine).length, 0);
    const subscriptions = await admin(`/api/v2/DciSubscription?senderId=${encodeURIComponent(other.senderId)}`);
    assert.equal(subscriptions.items.find((item: Json) => item.code === theirs).status, 'subscribe');
    await unsubscribe(other, [theirs]);
  });

  test('nothing is notified after the subscription end time', async () => {
    const end = new Date(Date.now() + 1500).toISOString();
    const code = (await subscribe(partner, {
      reg_event_type: 'REGISTER', notify_record_type: 'Member', filter: [{ expression1: { attribute_name: 'area', operator: 'eq', attribute_value: 'R1' } }],
      frequency: { start_time: new Date().toISOString(), end_time: end, frequency: '0 * * * * ? *' },
    })).message.subscribe_response[0].subscriptions[0].code as string;
    await new Promise((resolve) => setTimeout(resolve, Date.parse(end) - Date.now() + 100));
    await person('Late', 'R1', 'LATE0001');
    await settle();
    assert.equal(receiver.of('notify', (body) => body.header.meta.subscription_code === code).length, 0);
  });

  test('an invalid filter or event type is rejected per item with the spec reason codes', async () => {
    const message = {
      transaction_id: crypto.randomUUID(),
      subscribe_request: [
        { reference_id: 'a', timestamp: new Date().toISOString(), subscribe_criteria: { reg_event_type: 'LiveBirth', notify_record_type: 'Member', filter: { type: 'national-id', value: 'X' } } },
        { reference_id: 'b', timestamp: new Date().toISOString(), subscribe_criteria: { reg_event_type: 'REGISTER', notify_record_type: 'Member', filter: { type: 'UIN', value: 'X' } } },
        { reference_id: 'c', timestamp: new Date().toISOString(), subscribe_criteria: { reg_event_type: 'REGISTER', notify_record_type: 'Member', filter: [{ expression1: { attribute_name: 'shoe_size', operator: 'gt', attribute_value: 3 } }] } },
      ],
    };
    const correlation = await ack('/registry/subscribe', await envelope(partner, 'subscribe', message, '/registry/on-subscribe'));
    const callback = await waitFor('on-subscribe', () => receiver.of('on-subscribe', (body) => body.message.correlation_id === correlation)[0]);
    const codes = (callback.message.subscribe_response as Json[]).map((item) => [item.reference_id, item.status, item.status_reason_code]);
    assert.deepEqual(codes, [['a', 'rjct', 'rjct.notify_types.invalid'], ['b', 'rjct', 'rjct.notify_details.invalid'], ['c', 'rjct', 'rjct.notify_details.invalid']]);
    assert.equal(schemas.check('subscribeResponse', callback.message).valid, true);
  });

  test('txn status, sync and async: a finished search by transaction_id, reference ids and correlation id; never another sender\'s', async () => {
    const message = searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } }, 'ref-1'));
    const correlation = await ack('/registry/search', await envelope(partner, 'search', message, '/registry/on-search'));
    await waitFor('on-search', () => receiver.of('on-search', (body) => body.message.correlation_id === correlation)[0]);
    const status = async (who: TestPartner, attributeType: string, value: unknown) => {
      const request = { transaction_id: crypto.randomUUID(), txnstatus_request: { reference_id: 'q-1', txn_type: 'search', attribute_type: attributeType, attribute_value: value } };
      const response = await post('/registry/sync/txn/status', await signedEnvelope(who, request, { action: 'txn-status' }), who.authorization);
      assert.equal(response.status, 200, JSON.stringify(response.json));
      assert.equal(response.json.header.action, 'txn-on-status');
      assert.equal(schemas.check('txnStatusResponse', response.json.message).valid, true, JSON.stringify(schemas.check('txnStatusResponse', response.json.message)));
      await verified(response.json);
      return response.json.message.txnstatus_response.txn_status as Json;
    };
    for (const [type, value] of [['transaction_id', message.transaction_id], ['reference_id_list', ['ref-1']], ['correlation_id', correlation]] as const) {
      const found = await status(partner, type, value);
      assert.equal(found.correlation_id, correlation, type);
      assert.equal(found.search_response[0].reference_id, 'ref-1');
      assert.equal(found.search_response[0].status, 'succ');
      assert.equal(found.search_response[0].data.reg_records[0].demographic_info.name.given_name, 'Anna');
    }
    const hidden = await status(other, 'transaction_id', message.transaction_id);
    assert.equal(hidden.search_response[0].status, 'rjct');
    assert.equal(hidden.search_response[0].status_reason_code, 'rjct.reference_id.invalid');
    assert.equal(hidden.search_response[0].data, undefined);

    const asyncRequest = { transaction_id: crypto.randomUUID(), txnstatus_request: { reference_id: 'q-2', txn_type: 'search', attribute_type: 'transaction_id', attribute_value: message.transaction_id } };
    const asyncCorrelation = await ack('/registry/txn/status', await envelope(partner, 'txn-status', asyncRequest, '/registry/txn/on-status'));
    const callback = await waitFor('txn-on-status', () => receiver.of('txn-on-status', (body) => body.message.correlation_id === asyncCorrelation)[0]);
    assert.equal(callback.message.transaction_id, asyncRequest.transaction_id);
    assert.equal(callback.message.txnstatus_response.txn_status.search_response[0].status, 'succ');
    assert.equal(schemas.check('txnStatusResponse', callback.message).valid, true);
    await verified(callback);
  });

  test('malformed async requests are ERR acknowledgements, never a 5xx, and store nothing', async () => {
    const before = (await admin('/api/v2/DciTransaction?_count=200')).count;
    for (const path of ['/registry/search', '/registry/subscribe', '/registry/unsubscribe', '/registry/txn/status', '/registry/sync/txn/status']) {
      const body = await envelope(partner, path.includes('txn') ? 'txn-status' : path.split('/').pop()!, { transaction_id: 'x' }, '/registry/on-x');
      delete (body as Json).message;
      const response = await post(path, body);
      assert.equal(response.status, 400, path);
      assert.equal(response.json.message.ack_status, 'ERR');
      assert.equal(response.json.message.error.code, 'err.request.bad');
    }
    const wrongAction = await post('/registry/subscribe', await envelope(partner, 'search', searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'A' } })), '/registry/on-search'));
    assert.equal(wrongAction.status, 400);
    assert.match(wrongAction.json.message.error.message, /^rjct\.action\.invalid|^\/message/);
    assert.equal((await admin('/api/v2/DciTransaction?_count=200')).count, before);
  });
});
