import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, exportJWK, type JWK } from 'jose';
import { createTestSystem, type TestSystem } from '../../../test-support/test-system.js';
import { systemActor } from '../../../platform/auth/access-tokens.js';
import type { RequestContext } from '../../../platform/audit/audit.js';
import { customFieldDefinitions } from '../../registry/registry.tables.js';
import { checkSignature, encryptMessage, decryptMessage, loadDciSchemas, signatureStrategy, staticKeys, type EncryptedMessage } from '../protocol/index.js';
import { DCI, header, onboardPartner, searchItem, searchMessage, signedEnvelope, type TestPartner } from '../dci.test-support.js';

type Json = Record<string, any>;

const SEARCH = `${DCI}/registry/sync/search`;
const schemas = loadDciSchemas();

/**
 * Fixture: areas C > R1, C > R2; Anna (R1, 1990, female, ANNA0001, head) and Bob (R1, 2015, male,
 * BOBB0001, child) in household HH-1 (R1, poverty_score 3.5); Carl (R2, 1960, male, CARL0001,
 * disabled) alone in HH-2 (R2, poverty_score 7).
 */
describe('DCI sync search (/dci/registry/sync/search)', () => {
  let system: TestSystem;
  let partner: TestPartner;
  const global: RequestContext = { actor: systemActor('test') };
  const ids: Record<string, string> = {};

  const post = (body: unknown, authorization = partner.authorization) => system.http.inject({ method: 'POST', url: SEARCH, headers: { authorization, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const search = async (...items: Array<Record<string, unknown>>) => {
    const response = await post(await signedEnvelope(partner, searchMessage(...items)));
    assert.equal(response.statusCode, 200, response.body);
    return response.json() as Json;
  };
  const only = async (criteria: Record<string, unknown>) => (await search(searchItem(criteria))).message.search_response[0] as Json;
  const names = (item: Json) => (item.data.reg_records as Json[]).map((record) => record.demographic_info?.name?.given_name ?? record.group_identifier?.[0]?.identifier_value).sort();
  const errOf = async (body: unknown, code: string, authorization?: string) => {
    const response = await post(body, authorization);
    assert.equal(response.statusCode, 400, response.body);
    const ack = response.json() as Json;
    assert.equal(ack.message.ack_status, 'ERR');
    assert.equal(ack.message.error.code, code, ack.message.error.message);
    assert.equal(schemas.check('ack', ack).valid, true);
    return ack;
  };
  const rejectOf = async (body: unknown, code: string) => {
    const response = await post(body);
    assert.equal(response.statusCode, 200, response.body);
    const json = response.json() as Json;
    assert.equal(json.header.status, 'rjct');
    assert.equal(json.header.status_reason_code, code, json.header.status_reason_message);
    assert.equal(schemas.check('callbackHeader', json.header).valid, true);
    return json;
  };

  before(async () => {
    system = await createTestSystem({ DCI_MAX_BATCH_SIZE: '5' });
    for (const area of [{ code: 'C', name: 'Country', kind: 'country' }, { code: 'R1', name: 'North', kind: 'region', parentCode: 'C' }, { code: 'R2', name: 'South', kind: 'region', parentCode: 'C' }]) {
      await system.services.areas.createArea(global, area);
    }
    // The poverty score is a deployment's custom field (no core column): DCI poverty_score reads it.
    await system.testDatabase.db.insert(customFieldDefinitions).values({ appliesTo: 'group', name: 'poverty_score', label: 'Poverty score', valueSchema: { type: 'number' } });
    const registry = system.services.registry;
    const person = async (given: string, area: string, birthDate: string, gender: string, id: string, extra: Record<string, unknown> = {}) => (await registry.createIndividual(global, {
      name: { given, family: 'Tester' }, area, birthDate, gender, identifiers: [{ type: 'national-id', value: id }], ...extra,
    })).id;
    ids.anna = await person('Anna', 'R1', '1990-05-01', '2', 'ANNA0001', { civilStatus: 'married' });
    ids.bob = await person('Bob', 'R1', '2015-05-01', '1', 'BOBB0001');
    ids.carl = await person('Carl', 'R2', '1960-01-15', '1', 'CARL0001', { disability: { hasDisability: true, types: ['walking'] } });
    ids.hh1 = (await registry.createGroup(global, { groupType: 'household', name: 'North', area: 'R1', identifiers: [{ type: 'household-id', value: 'HH-1' }], custom: { poverty_score: 3.5 }, members: [{ individual: ids.anna, role: 'head' }, { individual: ids.bob, role: 'child' }] })).id;
    ids.hh2 = (await registry.createGroup(global, { groupType: 'household', name: 'South', area: 'R2', identifiers: [{ type: 'household-id', value: 'HH-2' }], custom: { poverty_score: 7 }, members: [{ individual: ids.carl, role: 'head' }] })).id;
    partner = await onboardPartner(system);
  });
  after(async () => { await system?.close(); });

  // ---- transport: token and scope ----------------------------------------------------------

  test('401 {errors} without a token or with a bad one; nothing is searched', async () => {
    const body = await signedEnvelope(partner, searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } })));
    for (const authorization of [undefined, 'Bearer not-a-token']) {
      const response = await system.http.inject({ method: 'POST', url: SEARCH, headers: authorization ? { authorization } : {}, payload: body });
      assert.equal(response.statusCode, 401);
      assert.deepEqual((response.json() as Json).errors.map((e: Json) => e.code), ['err.request.unauthorized']);
    }
  });

  test('403 {errors} for a token without dci:search; err.sender_id.invalid for a client that is not an (active) partner', async () => {
    const body = await signedEnvelope(partner, searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } })));
    const response = await system.http.inject({ method: 'POST', url: SEARCH, headers: await system.authAs('individual:read'), payload: body });
    assert.equal(response.statusCode, 403, response.body);
    assert.deepEqual((response.json() as Json).errors.map((e: Json) => e.code), ['err.request.forbidden']);
    await errOf(body, 'err.sender_id.invalid', (await system.authAs('dci:search')).authorization);
    const retired = await onboardPartner(system);
    await system.dci.partners.update(global, retired.senderId, undefined, { isActive: false });
    await errOf(await signedEnvelope(retired, searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'X' } }))), 'err.sender_id.invalid', retired.authorization);
  });

  // ---- the validation chain, one code each ------------------------------------------------

  test('err.request.bad: not an object, no header, no message, a header off the spec, malformed JSON', async () => {
    const good = await signedEnvelope(partner, searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'X' } })));
    await errOf([], 'err.request.bad');
    await errOf({ ...good, header: undefined }, 'err.request.bad');
    await errOf({ ...good, message: undefined }, 'err.request.bad');
    await errOf({ ...good, header: { ...(good.header as Json), total_count: 'one' } }, 'err.request.bad');
    await errOf({ ...good, message: { transaction_id: 't' } }, 'err.request.bad');
    await errOf({ ...good, signature: 42 }, 'err.request.bad');
    await errOf({ ...good, header: { ...(good.header as Json), message_id: 'x'.repeat(201) } }, 'err.request.bad');
    const malformed = await system.http.inject({ method: 'POST', url: SEARCH, headers: { authorization: partner.authorization, 'content-type': 'application/json' }, payload: '{"header": ' });
    assert.equal(malformed.statusCode, 400);
    assert.equal((malformed.json() as Json).message.error.code, 'err.request.bad');
  });

  test('version: err.version.not_supported for 2.0.0, rjct.version.invalid for a non-version', async () => {
    const message = searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'X' } }));
    await errOf(await signedEnvelope(partner, message, { version: '2.0.0' }), 'err.version.not_supported');
    await rejectOf(await signedEnvelope(partner, message, { version: 'latest' }), 'rjct.version.invalid');
  });

  test('rjct.action.invalid when the action is not the route\'s', async () => {
    await rejectOf(await signedEnvelope(partner, searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'X' } })), { action: 'subscribe' }), 'rjct.action.invalid');
  });

  test('err.sender_id.invalid (another sender\'s id) and err.receiver_id.invalid (not us)', async () => {
    const other = await onboardPartner(system);
    const message = searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'X' } }));
    await errOf(await signedEnvelope({ ...partner, senderId: other.senderId }, message), 'err.sender_id.invalid');
    await errOf(await signedEnvelope(partner, message, { receiver_id: 'someone-else.example.org' }), 'err.receiver_id.invalid');
  });

  test('signature: missing, tampered, wrong key, expired, placeholder — each refused under a required policy', async () => {
    const message = searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } }));
    const good = await signedEnvelope(partner, message);
    await errOf({ ...good, signature: undefined }, 'err.signature.missing');
    const tampered = structuredClone(good) as Json;
    tampered.message.search_request[0].search_criteria.query.value = 'CARL0001';
    await errOf(tampered, 'err.signature.invalid');
    const stranger = { ...partner, privateKey: crypto.generateKeyPairSync('ed25519').privateKey };
    await errOf(await signedEnvelope(stranger, message), 'err.signature.invalid');
    const h = header(partner);
    const expired = await signatureStrategy('signature-string').sign({ header: h, message }, { senderId: partner.senderId, kid: partner.kid, algorithm: 'EdDSA', privateKey: partner.privateKey }, { now: new Date(Date.now() - 3_600_000), ttlSeconds: 60 });
    const ack = await errOf({ signature: expired, header: h, message }, 'err.signature.invalid');
    assert.match(ack.message.error.message, /expired/);
    await errOf({ ...good, signature: 'unsigned-stub' }, 'err.signature.invalid');
  });

  test('an optional-signature partner may send no signature or a placeholder, never a bad one', async () => {
    const relaxed = await onboardPartner(system, { policy: 'optional' });
    const message = searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } }));
    for (const signature of [undefined, 'unsigned-stub']) {
      const response = await post({ signature, header: header(relaxed), message }, relaxed.authorization);
      assert.equal(response.statusCode, 200, response.body);
      assert.equal((response.json() as Json).message.search_response[0].status, 'succ');
    }
    const forged = await signedEnvelope({ ...relaxed, privateKey: crypto.generateKeyPairSync('ed25519').privateKey }, message);
    await errOf(forged, 'err.signature.invalid', relaxed.authorization);
  });

  test('rjct.message_id.duplicate for a replayed message (same id, even re-signed)', async () => {
    const message = searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } }));
    const first = await signedEnvelope(partner, message);
    assert.equal((await post(first)).statusCode, 200);
    await rejectOf(first, 'rjct.message_id.duplicate');
    await rejectOf(await signedEnvelope(partner, message, { message_id: (first.header as Json).message_id }), 'rjct.message_id.duplicate');
  });

  test('rjct.message_ts.invalid: no time zone, not a date, outside the window', async () => {
    const message = searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'X' } }));
    for (const ts of ['2026-01-02T03:04:05', '02.05.2024', new Date(Date.now() - 3_600_000).toISOString(), new Date(Date.now() + 3_600_000).toISOString()]) {
      await rejectOf(await signedEnvelope(partner, message, { message_ts: ts }), 'rjct.message_ts.invalid');
    }
  });

  test('rjct.total_count.invalid when it differs from the items; rjct.total_count.limit_exceeded past the batch limit', async () => {
    const item = () => searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'X' } });
    await rejectOf(await signedEnvelope(partner, searchMessage(item(), item()), { total_count: 3 }), 'rjct.total_count.invalid');
    await rejectOf(await signedEnvelope(partner, searchMessage(item(), item(), item(), item(), item(), item())), 'rjct.total_count.limit_exceeded');
  });

  test('err.encryption.invalid for an encrypted message we cannot decrypt', async () => {
    const { publicKey } = await generateKeyPair('ECDH-ES+A256KW', { crv: 'X25519' });
    const encrypted = await encryptMessage(searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'X' } })), { key: publicKey, kid: 'not-ours' });
    await errOf(await signedEnvelope(partner, encrypted as unknown as Record<string, unknown>, { is_msg_encrypted: true, total_count: 1 }), 'err.encryption.invalid');
  });

  // ---- the response ------------------------------------------------------------------------

  test('the response is spec-valid and signed with our key, verifiable from our JWKS', async () => {
    const json = await search(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } }));
    assert.equal(schemas.check('callbackHeader', json.header).valid, true);
    assert.deepEqual(schemas.check('searchResponse', json.message), { valid: true });
    assert.equal(json.header.action, 'on-search');
    assert.equal(json.header.receiver_id, partner.senderId);
    const jwks = (await system.http.inject({ method: 'GET', url: `${DCI}/.well-known/jwks.json` })).json() as { keys: JWK[] };
    assert.equal(schemas.check('jwks', jwks).valid, true);
    const keys = staticKeys({ [json.header.sender_id]: jwks.keys.filter((key) => key.use === 'sig') });
    assert.equal((await checkSignature(json.signature, { header: json.header, message: json.message }, 'required', 'signature-string', keys, { senderId: json.header.sender_id })).status, 'verified');
    const altered = { ...json.message, correlation_id: 'x' };
    assert.equal((await checkSignature(json.signature, { header: json.header, message: altered }, 'required', 'signature-string', keys, { senderId: json.header.sender_id })).status, 'invalid');
  });

  // ---- query types ---------------------------------------------------------------------------

  test('idtype-value: a member by identifier (code or system URI); a household through a member\'s identifier; nothing found is succ with none', async () => {
    const member = await only({ query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } });
    assert.equal(member.status, 'succ');
    assert.equal(member.data.reg_record_type, 'Member');
    assert.deepEqual(names(member), ['Anna']);
    const bySystem = await only({ query_type: 'idtype-value', query: { type: 'urn:commonweal:id:national-id', value: 'ANNA0001' } });
    assert.deepEqual(names(bySystem), ['Anna']);
    const household = await only({ query_type: 'idtype-value', response_entity: 'Group', query: { type: 'national-id', value: 'BOBB0001' } });
    assert.deepEqual(names(household), ['HH-1']);
    const none = await only({ query_type: 'idtype-value', query: { type: 'national-id', value: 'NOBODY00' } });
    assert.equal(none.status, 'succ');
    assert.deepEqual(none.data.reg_records, []);
    assert.equal(none.pagination.total_count, 0);
    const unknownType = await only({ query_type: 'idtype-value', query: { type: 'UIN', value: 'TEST-001' } });
    assert.equal(unknownType.status, 'rjct');
    assert.equal(unknownType.status_reason_code, 'rjct.search_criteria.invalid');
  });

  test('predicate: eq gt lt ge le in with and / or / not, numbers as numbers or strings', async () => {
    const predicate = async (query: unknown[]) => names(await only({ query_type: 'predicate', query }));
    assert.deepEqual(await predicate([{ expression1: { attribute_name: 'age', operator: 'lt', attribute_value: '25' } }]), ['Bob']);
    assert.deepEqual(await predicate([{ expression1: { attribute_name: 'age', operator: 'ge', attribute_value: 30 }, condition: 'and', expression2: { attribute_name: 'sex', operator: 'eq', attribute_value: 'male' } }]), ['Carl']);
    assert.deepEqual(await predicate([{ expression1: { attribute_name: 'birth_date', operator: 'gt', attribute_value: '2000-01-01' }, condition: 'or', expression2: { attribute_name: 'is_disabled', operator: 'eq', attribute_value: true } }]), ['Bob', 'Carl']);
    assert.deepEqual(await predicate([{ expression1: { attribute_name: 'location', operator: 'eq', attribute_value: 'R1' }, condition: 'not', expression2: { attribute_name: 'sex', operator: 'eq', attribute_value: 'female' } }]), ['Bob']);
    assert.deepEqual(await predicate([{ expression1: { attribute_name: 'national-id', operator: 'in', attribute_value: ['ANNA0001', 'CARL0001'] } }]), ['Anna', 'Carl']);
    assert.deepEqual(await predicate([{ expression1: { attribute_name: 'given_name', operator: 'in', attribute_value: 'Anna, Bob' } }]), ['Anna', 'Bob'], 'a comma-separated string is a list');
    assert.deepEqual(await predicate([{ seq_num: 2, expression1: { attribute_name: 'YOB', operator: 'le', attribute_value: 1990 } }, { seq_num: 1, expression1: { attribute_name: 'marital_status', operator: 'eq', attribute_value: 'M' } }]), ['Anna']);
    const bad = await only({ query_type: 'predicate', query: [{ expression1: { attribute_name: 'shoe_size', operator: 'eq', attribute_value: 42 } }] });
    assert.equal(bad.status_reason_code, 'rjct.search_criteria.invalid');
  });

  test('expression: the spec\'s Mongo form ($and $or $not $in $lt $gte …), collection Group', async () => {
    const expression = async (collection: string, query: unknown) => names(await only({ query_type: 'expression', query: { type: 'ns:org:QueryType:expression', value: { expression: { collection, query } } } }));
    assert.deepEqual(await expression('Group', { $and: [{ poverty_score: { $lt: 5 } }, { location: { $eq: 'C' } }, { group_size: { $lt: 5 } }] }), ['HH-1']);
    assert.deepEqual(await expression('Group', { $or: [{ group_size: { $gte: 2 } }, { poverty_score: { $gt: 6 } }] }), ['HH-1', 'HH-2']);
    assert.deepEqual(await expression('Member', { $not: { sex: 'male' } }), ['Anna']);
    assert.deepEqual(await expression('Member', { given_name: { $in: ['Bob', 'Carl'] }, age: { $lt: 80 } }), ['Bob', 'Carl']);
    const bad = await only({ query_type: 'expression', query: { type: 'x', value: { expression: { collection: 'Group', query: { $where: 'sleep(10)' } } } } });
    assert.equal(bad.status_reason_code, 'rjct.search_criteria.invalid');
  });

  test('Group mapping: head, size, members with demographics, disability, poverty score, location', async () => {
    const [record] = (await only({ query_type: 'idtype-value', response_entity: 'Group', query: { type: 'household-id', value: 'HH-2' } })).data.reg_records as Json[];
    assert.equal(record!['@type'], 'Group');
    assert.equal(record!.group_size, 1);
    assert.equal(record!.poverty_score, 7);
    assert.equal(record!.place_address, 'R2');
    assert.deepEqual(record!.group_identifier, [{ '@type': 'Identifier', identifier_type: 'household-id', identifier_value: 'HH-2' }]);
    const head = record!.group_head_info as Json;
    assert.equal(head.demographic_info['@type'], 'SRPerson');
    assert.deepEqual(head.demographic_info.name, { '@type': 'Name', given_name: 'Carl', surname: 'Tester' });
    assert.equal(head.demographic_info.sex, 'male');
    assert.equal(head.demographic_info.birth_date, '1960-01-15T00:00:00Z');
    assert.equal(head.is_disabled, true);
    assert.deepEqual(head.disability_info, [{ '@type': 'DisabilityInfo', disability_limitation_type: 'walking' }]);
    assert.equal(record!.member_list.length, 1);
    const [anna] = (await only({ query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } })).data.reg_records as Json[];
    assert.equal(anna!.marital_status, 'M');
    assert.equal(anna!.demographic_info.sex, 'female');
  });

  test('sort, 1-based pagination with totals; bad sort and bad pagination are refused per item', async () => {
    const everyone = { query_type: 'predicate', query: [{ expression1: { attribute_name: 'age', operator: 'ge', attribute_value: 0 } }] };
    const page = async (pageNumber: number, order: string) => only({ ...everyone, sort: [{ attribute_name: 'birth_date', sort_order: order }], pagination: { page_size: 2, page_number: pageNumber } });
    const first = await page(1, 'asc');
    assert.deepEqual((first.data.reg_records as Json[]).map((r) => r.demographic_info.name.given_name), ['Carl', 'Anna']);
    assert.deepEqual(first.pagination, { page_size: 2, page_number: 1, total_count: 3 });
    assert.deepEqual(((await page(2, 'asc')).data.reg_records as Json[]).map((r) => r.demographic_info.name.given_name), ['Bob']);
    assert.deepEqual(((await page(1, 'desc')).data.reg_records as Json[]).map((r) => r.demographic_info.name.given_name), ['Bob', 'Anna']);
    assert.equal((await only({ ...everyone, sort: [{ attribute_name: 'shoe_size', sort_order: 'asc' }] })).status_reason_code, 'rjct.sort.invalid');
    assert.equal((await only({ ...everyone, pagination: { page_size: 0 } })).status_reason_code, 'rjct.pagination.invalid');
    assert.equal((await only({ ...everyone, pagination: { page_size: 5000 } })).status_reason_code, 'rjct.pagination.invalid');
  });

  test('a batch: one bad item does not sink the others (duplicate reference, bad timestamp, unsupported query type)', async () => {
    const good = searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } }, 'ref-1');
    const duplicate = searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'BOBB0001' } }, 'ref-1');
    const badTime = { ...searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'BOBB0001' } }, 'ref-3'), timestamp: 'yesterday' };
    const graphql = searchItem({ query_type: 'graphql', query: { type: 'graphql', value: { expression: '{ x }' } } }, 'ref-4');
    const noCriteria = { reference_id: 'ref-5', timestamp: new Date().toISOString() };
    const json = await search(good, duplicate, badTime, graphql, noCriteria);
    const statuses = (json.message.search_response as Json[]).map((item) => [item.reference_id, item.status, item.status_reason_code ?? null]);
    assert.deepEqual(statuses, [['ref-1', 'succ', null], ['ref-1', 'rjct', 'rjct.reference_id.duplicate'], ['ref-3', 'rjct', 'rjct.timestamp.invalid'], ['ref-4', 'rjct', 'rjct.search_criteria.invalid'], ['ref-5', 'rjct', 'rjct.search_criteria.invalid']]);
    assert.equal(json.header.status, 'succ');
    assert.equal(json.header.completed_count, 5);
    assert.deepEqual(schemas.check('searchResponse', json.message), { valid: true });
  });

  // ---- who sees what -----------------------------------------------------------------------

  test('an area-limited partner finds only its areas; a partner without pii:reveal gets masked identifiers', async () => {
    const north = await onboardPartner(system, { areaCodes: ['R1'] });
    const body = await signedEnvelope(north, searchMessage(searchItem({ query_type: 'predicate', query: [{ expression1: { attribute_name: 'age', operator: 'ge', attribute_value: 0 } }] })));
    const found = (await post(body, north.authorization)).json() as Json;
    assert.deepEqual(names(found.message.search_response[0]), ['Anna', 'Bob']);
    const masked = await onboardPartner(system, { scopes: ['dci:search'] });
    const reply = (await post(await signedEnvelope(masked, searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } }))), masked.authorization)).json() as Json;
    const value = reply.message.search_response[0].data.reg_records[0].member_identifier[0].identifier_value as string;
    assert.notEqual(value, 'ANNA0001');
  });

  test('consent: a consent-based partner must send a consent block, and sees only what registrants consented to; the blocks are audited', async () => {
    const consentPartner = await onboardPartner(system, { legalBasis: 'consent' });
    const criteria = { query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } };
    const without = (await post(await signedEnvelope(consentPartner, searchMessage(searchItem(criteria))), consentPartner.authorization)).json() as Json;
    assert.equal(without.message.search_response[0].status_reason_code, 'rjct.search_criteria.invalid');
    const consent = { '@type': 'Consent', ts: new Date().toISOString(), purpose: { text: 'eligibility check', code: 'dpv:ServiceProvision' } };
    const envelope = await signedEnvelope(consentPartner, searchMessage(searchItem({ ...criteria, consent })));
    const withConsent = (await post(envelope, consentPartner.authorization)).json() as Json;
    const [record] = withConsent.message.search_response[0].data.reg_records as Json[];
    assert.ok(record, 'the registrant is found');
    assert.equal(record!.demographic_info.name, undefined, 'no consent given: the name is not released');
    const audit = await system.database.db.execute(`select after from audit_log where action = 'dci-search' and entity_id = '${(envelope.header as Json).message_id}'` as never) as unknown as { rows: Array<{ after: Json }> };
    assert.deepEqual(audit.rows[0]!.after.items[0].consent, consent);
  });

  // ---- other strategies --------------------------------------------------------------------

  test('a JWS partner signs with ES256 and gets a JWS-signed response', async () => {
    const jwsPartner = await onboardPartner(system, { strategy: 'jws' });
    const response = await post(await signedEnvelope(jwsPartner, searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } }))), jwsPartner.authorization);
    assert.equal(response.statusCode, 200, response.body);
    const json = response.json() as Json;
    assert.match(json.signature, /^[\w-]+\.\.[\w-]+$/);
    const jwks = (await system.http.inject({ method: 'GET', url: `${DCI}/.well-known/jwks.json` })).json() as { keys: JWK[] };
    assert.equal((await checkSignature(json.signature, { header: json.header, message: json.message }, 'required', 'jws', staticKeys({ [json.header.sender_id]: jwks.keys }), { senderId: json.header.sender_id })).status, 'verified');
  });

  test('an encrypted request (to our key from the JWKS) is answered encrypted to the partner\'s key', async () => {
    const secure = await onboardPartner(system);
    const partnerKeys = await generateKeyPair('ECDH-ES+A256KW', { crv: 'X25519', extractable: true });
    await system.dci.partners.update(global, secure.senderId, undefined, { encryptionPolicy: 'optional', encryptionKey: { ...(await exportJWK(partnerKeys.publicKey)), kid: 'partner-enc' } });
    const jwks = (await system.http.inject({ method: 'GET', url: `${DCI}/.well-known/jwks.json` })).json() as { keys: JWK[] };
    const ours = jwks.keys.find((key) => key.use === 'enc')!;
    const encrypted = await encryptMessage(searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } })), { key: ours, kid: ours.kid!, alg: ours.alg });
    const response = await post(await signedEnvelope(secure, encrypted as unknown as Record<string, unknown>, { is_msg_encrypted: true }), secure.authorization);
    assert.equal(response.statusCode, 200, response.body);
    const json = response.json() as Json;
    assert.equal(json.header.is_msg_encrypted, true);
    const clear = await decryptMessage(json.message as EncryptedMessage, async (kid) => (kid === 'partner-enc' ? partnerKeys.privateKey : undefined)) as Json;
    assert.deepEqual(names(clear.search_response[0]), ['Anna']);
  });

  test('a partner whose keys are published at its JWKS URL (fetched and cached; a key not in it refused)', async () => {
    const first = crypto.generateKeyPairSync('ed25519');
    const second = crypto.generateKeyPairSync('ed25519');
    let served: JWK[] = [{ ...(first.publicKey.export({ format: 'jwk' }) as JWK), kid: 'jw-1' }];
    const server = http.createServer((_request, response) => response.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: served })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const created = await system.dci.partners.create(global, { senderId: 'jwks.example.org', name: 'JWKS partner', scopes: ['dci:search'], jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json` });
      const grant = await system.services.apiClients.issueToken(created.clientId, created.clientSecret!);
      const remote: TestPartner = { senderId: 'jwks.example.org', clientId: created.clientId, authorization: `Bearer ${grant.accessToken}`, kid: 'jw-1', privateKey: first.privateKey, strategy: 'signature-string' };
      const message = () => searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'ANNA0001' } }));
      assert.equal((await post(await signedEnvelope(remote, message()), remote.authorization)).statusCode, 200);
      served = [...served, { ...(second.publicKey.export({ format: 'jwk' }) as JWK), kid: 'jw-2' }];
      await errOf(await signedEnvelope({ ...remote, kid: 'jw-3', privateKey: second.privateKey }, message()), 'err.signature.invalid', remote.authorization);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  // ---- the other DCI endpoints -------------------------------------------------------------

  test('/dci/oauth2/client/token issues the same tokens as /oauth2/client/token (form body or Basic), 401 {errors} otherwise', async () => {
    const created = await system.dci.partners.create(global, { senderId: 'token.example.org', name: 'Token test', scopes: ['dci:search'] });
    const form = await system.http.inject({ method: 'POST', url: `${DCI}/oauth2/client/token`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `grant_type=client_credentials&client_id=${created.clientId}&client_secret=${encodeURIComponent(created.clientSecret!)}` });
    assert.equal(form.statusCode, 200, form.body);
    const token = (form.json() as Json).access_token as string;
    assert.equal((await system.services.apiClients.issueToken(created.clientId, created.clientSecret!)).accessToken.split('.')[0], token.split('.')[0], 'same issuer and key');
    const basic = await system.http.inject({ method: 'POST', url: `${DCI}/oauth2/client/token`, headers: { authorization: `Basic ${Buffer.from(`${created.clientId}:${created.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials' });
    assert.equal(basic.statusCode, 200);
    const wrong = await system.http.inject({ method: 'POST', url: `${DCI}/oauth2/client/token`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `grant_type=client_credentials&client_id=${created.clientId}&client_secret=nope` });
    assert.equal(wrong.statusCode, 401);
    assert.equal((wrong.json() as Json).errors[0].code, 'err.request.unauthorized');
    const grant = await system.http.inject({ method: 'POST', url: `${DCI}/oauth2/client/token`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=password' });
    assert.equal(grant.statusCode, 400);
  });

  test('/dci/.well-known/locations.json: our areas as the spec\'s LocationHierarchy', async () => {
    const response = await system.http.inject({ method: 'GET', url: `${DCI}/.well-known/locations.json` });
    assert.equal(response.statusCode, 200);
    const json = response.json() as Json;
    assert.deepEqual(schemas.check('locations', json), { valid: true });
    const r1 = (json.locations as Json[]).find((place) => place.id === 'R1')!;
    assert.equal(r1.containedInPlace, 'C');
    assert.equal(r1.contained_in_place, 'C');
    assert.equal((json.locations as Json[]).find((place) => place.id === 'C')!.containedInPlace, null);
  });

  test('over real HTTP: a signed search and its signed answer', async () => {
    await system.http.listen({ port: 0, host: '127.0.0.1' });
    const { port } = system.http.server.address() as AddressInfo;
    const body = await signedEnvelope(partner, searchMessage(searchItem({ query_type: 'idtype-value', query: { type: 'national-id', value: 'CARL0001' } })));
    const response = await fetch(`http://127.0.0.1:${port}${SEARCH}`, { method: 'POST', headers: { authorization: partner.authorization, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(response.status, 200);
    const json = await response.json() as Json;
    assert.deepEqual(names(json.message.search_response[0]), ['Carl']);
    assert.match(json.signature, /^Signature: namespace="dci", kidId="commonweal\.test\|/);
  });
});
