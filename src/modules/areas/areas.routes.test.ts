import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { systemActor } from '../../platform/auth/access-tokens.js';
import { listAuditForEntity } from '../../platform/audit/audit-queries.js';

const context = { actor: systemActor('test') };
const MERGE_PATCH = { 'content-type': 'application/merge-patch+json' };

describe('Area API', () => {
  let system: TestSystem;
  let reader: { authorization: string };
  let writer: { authorization: string };
  let outsider: { authorization: string };

  before(async () => {
    system = await createTestSystem();
  });
  beforeEach(async () => {
    await system.reset();
    [reader, writer, outsider] = await Promise.all([
      system.authAs('area:read'),
      system.authAs('area:write'),
      system.authAs('individual:read'),
    ]);
  });
  after(() => system.close());

  const request = (options: InjectOptions) => system.http.inject(options);

  /** A link is absolute on the configured public URL; `inject` takes its path and query. */
  function pathOf(link: string): string {
    assert.ok(link.startsWith(`${system.config.publicUrl}/`), `${link} is not on ${system.config.publicUrl}`);
    return link.slice(system.config.publicUrl.length);
  }

  interface AreaPage { resourceType: string; count: number; items: Array<{ code: string }>; links: { self: string; next?: string } }

  /** Country C with regions R1 (district D1 with village V1) and R2. */
  async function createSampleTree(): Promise<void> {
    const areas = system.services.areas;
    await areas.createArea(context, { code: 'C', name: 'Country', kind: 'country' });
    await areas.createArea(context, { code: 'R1', name: 'North', kind: 'region', parentCode: 'C' });
    await areas.createArea(context, { code: 'R2', name: 'South', kind: 'region', parentCode: 'C' });
    await areas.createArea(context, { code: 'D1', name: 'Riverside', kind: 'district', parentCode: 'R1' });
    await areas.createArea(context, { code: 'V1', name: 'Mill Village', kind: 'village', parentCode: 'D1' });
  }

  function assertProblem(response: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, status: number, code: string, path?: string): void {
    const problem = response.json() as { code: string; errors?: Array<{ path: string }> };
    assert.equal(response.statusCode, status, JSON.stringify(problem));
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    assert.equal(problem.code, code);
    if (path) assert.ok(problem.errors?.some((error) => error.path === path), `expected a problem at ${path}: ${JSON.stringify(problem.errors)}`);
  }

  describe('GET /api/v2/Area', () => {
    it('searches by parent, ancestor, kind and name, showing codes only', async () => {
      await createSampleTree();
      const codes = async (query: string) => {
        const response = await request({ method: 'GET', url: `/api/v2/Area?${query}`, headers: reader });
        assert.equal(response.statusCode, 200, response.body);
        return (response.json() as { items: Array<{ code: string }> }).items.map((area) => area.code);
      };
      assert.deepEqual(await codes('parent=C'), ['R1', 'R2']);
      assert.deepEqual(await codes('ancestor=R1'), ['D1', 'V1']);
      assert.deepEqual(await codes('kind=region'), ['R1', 'R2']);
      assert.deepEqual(await codes('name=mill'), ['V1']);
      assert.deepEqual(await codes('code=D1&isActive=true'), ['D1']);

      const response = await request({ method: 'GET', url: '/api/v2/Area?code=V1', headers: reader });
      const page = response.json() as { resourceType: string; count: number; items: Array<Record<string, unknown>>; links: Record<string, string> };
      assert.equal(page.resourceType, 'SearchResult');
      assert.equal(page.count, 1);
      assert.deepEqual(page.links, { self: `${system.config.publicUrl}/api/v2/Area?code=V1` });
      const [village] = page.items;
      assert.deepEqual(Object.keys(village!).sort(), ['code', 'createdAt', 'depth', 'isActive', 'kind', 'name', 'parentCode', 'updatedAt', 'version']);
      assert.equal(village?.parentCode, 'D1');
    });

    it('pages with a next link that keeps the filters', async () => {
      await createSampleTree();
      const first = await request({ method: 'GET', url: '/api/v2/Area?ancestor=C&_count=3', headers: reader });
      assert.equal(first.statusCode, 200, first.body);
      const firstPage = first.json() as AreaPage;
      assert.equal(firstPage.resourceType, 'SearchResult');
      assert.equal(firstPage.count, 3);
      assert.deepEqual(firstPage.items.map((area) => area.code), ['D1', 'R1', 'R2']);
      assert.equal(firstPage.links.self, `${system.config.publicUrl}/api/v2/Area?ancestor=C&_count=3`);
      assert.ok(firstPage.links.next?.startsWith(`${system.config.publicUrl}/api/v2/Area?ancestor=C&_count=3&_cursor=`), firstPage.links.next);
      const second = await request({ method: 'GET', url: pathOf(firstPage.links.next!), headers: reader });
      assert.equal(second.statusCode, 200, second.body);
      const secondPage = second.json() as AreaPage;
      assert.deepEqual(secondPage.items.map((area) => area.code), ['V1']);
      assert.equal(secondPage.count, 1);
      assert.equal(secondPage.links.self, firstPage.links.next);
      assert.equal(secondPage.links.next, undefined);
      assert.ok(!('next' in secondPage.links), 'the last page has no next link');
    });

    it('walks every page by following links.next, with no area twice', async () => {
      await createSampleTree();
      const seen: string[] = [];
      let url: string | undefined = '/api/v2/Area?isActive=true&_count=2';
      while (url) {
        const response = await request({ method: 'GET', url, headers: reader });
        assert.equal(response.statusCode, 200, response.body);
        const page = response.json() as AreaPage;
        assert.ok(page.count <= 2);
        seen.push(...page.items.map((area) => area.code));
        if (page.links.next) assert.match(page.links.next, /[?&]isActive=true&_count=2&_cursor=[^&]+$/);
        url = page.links.next && pathOf(page.links.next);
      }
      assert.deepEqual(seen, ['C', 'D1', 'R1', 'R2', 'V1']);
    });

    it('rejects unknown or malformed query parameters', async () => {
      assertProblem(await request({ method: 'GET', url: '/api/v2/Area?region=C', headers: reader }), 400, 'unknown_parameter', 'query:/region');
      assertProblem(await request({ method: 'GET', url: '/api/v2/Area?_count=501', headers: reader }), 400, 'validation_failed');
      assertProblem(await request({ method: 'GET', url: '/api/v2/Area?_cursor=%25%25', headers: reader }), 400, 'unknown_parameter', 'query:/_cursor');
      // Decodes to a well-formed code, but is not the encoding this server writes ("R1" is UjE).
      assertProblem(await request({ method: 'GET', url: '/api/v2/Area?_cursor=UjE=', headers: reader }), 400, 'unknown_parameter', 'query:/_cursor');
      assertProblem(await request({ method: 'GET', url: `/api/v2/Area?_cursor=${'A'.repeat(300)}`, headers: reader }), 400, 'unknown_parameter', 'query:/_cursor');
    });

    it('needs a token with area:read', async () => {
      assertProblem(await request({ method: 'GET', url: '/api/v2/Area' }), 401, 'unauthenticated');
      assertProblem(await request({ method: 'GET', url: '/api/v2/Area', headers: outsider }), 403, 'forbidden');
    });
  });

  describe('GET /api/v2/Area/:code', () => {
    it('returns the area with its ETag, parent and breadcrumb', async () => {
      await createSampleTree();
      const response = await request({ method: 'GET', url: '/api/v2/Area/V1', headers: reader });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers.etag, 'W/"1"');
      const area = response.json() as Record<string, unknown>;
      assert.deepEqual({ ...area, createdAt: undefined, updatedAt: undefined }, {
        code: 'V1', name: 'Mill Village', kind: 'village', parentCode: 'D1', depth: 3, isActive: true, version: 1,
        createdAt: undefined, updatedAt: undefined,
        ancestors: [
          { code: 'C', name: 'Country', kind: 'country' },
          { code: 'R1', name: 'North', kind: 'region' },
          { code: 'D1', name: 'Riverside', kind: 'district' },
        ],
      });
    });

    it('answers 404 for an unknown code', async () => {
      assertProblem(await request({ method: 'GET', url: '/api/v2/Area/NOPE', headers: reader }), 404, 'not_found');
    });

    it('needs a token with area:read', async () => {
      assertProblem(await request({ method: 'GET', url: '/api/v2/Area/C' }), 401, 'unauthenticated');
      assertProblem(await request({ method: 'GET', url: '/api/v2/Area/C', headers: outsider }), 403, 'forbidden');
    });
  });

  describe('POST /api/v2/Area', () => {
    const create = (headers: Record<string, string>, payload: unknown) => request({ method: 'POST', url: '/api/v2/Area', headers, payload: payload as object });

    it('creates an area (201, Location, ETag) and audits it as the calling client', async () => {
      await createSampleTree();
      const response = await create(writer, { code: 'D2', name: 'Lakeside', kind: 'district', parentCode: 'R2' });
      assert.equal(response.statusCode, 201, response.body);
      assert.equal(response.headers.location, '/api/v2/Area/D2');
      assert.equal(response.headers.etag, 'W/"1"');
      assert.deepEqual((response.json() as { ancestors: Array<{ code: string }> }).ancestors.map((area) => area.code), ['C', 'R2']);
      const [entry] = await listAuditForEntity(system.database.db, 'area', 'D2');
      assert.equal(entry?.actor.type, 'client');
      assert.equal(entry?.requestId, response.headers['x-request-id']);
    });

    it('rejects unknown fields, bad codes and unknown parents', async () => {
      await createSampleTree();
      assertProblem(await create(writer, { code: 'X1', name: 'X', kind: 'district', parentCode: 'R1', population: 5 }), 400, 'validation_failed', '/population');
      assertProblem(await create(writer, { code: 'bad code!', name: 'X', kind: 'district' }), 400, 'validation_failed', '/code');
      assertProblem(await create(writer, { code: 'X1', name: 'X', kind: 'district', parentCode: 'NOPE' }), 400, 'validation_failed', '/parentCode');
    });

    // Needs app.ts to wire the vocabulary service in: new AreaService(db, vocabularies).
    it('rejects a kind that is not an area-kind code', async () => {
      await createSampleTree();
      assertProblem(await create(writer, { code: 'X1', name: 'X', kind: 'galaxy', parentCode: 'R1' }), 400, 'validation_failed', '/kind');
    });

    it('answers 409 for a code already in use', async () => {
      await createSampleTree();
      assertProblem(await create(writer, { code: 'R1', name: 'North again', kind: 'region', parentCode: 'C' }), 409, 'duplicate_identifier');
    });

    it('needs a token with area:write', async () => {
      const area = { code: 'C', name: 'Country', kind: 'country' };
      assertProblem(await create({}, area), 401, 'unauthenticated');
      assertProblem(await create(reader, area), 403, 'forbidden');
    });
  });

  describe('PATCH /api/v2/Area/:code', () => {
    const patch = (code: string, headers: Record<string, string>, payload: unknown) =>
      request({ method: 'PATCH', url: `/api/v2/Area/${code}`, headers: { ...MERGE_PATCH, ...headers }, payload: JSON.stringify(payload) });

    it('renames and moves an area with its subtree, returning the new ETag', async () => {
      await createSampleTree();
      const response = await patch('D1', { ...writer, 'if-match': 'W/"1"' }, { name: 'Riverside East', parentCode: 'R2' });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.headers.etag, 'W/"2"');
      assert.deepEqual((response.json() as { parentCode: string; name: string }).parentCode, 'R2');
      const village = (await request({ method: 'GET', url: '/api/v2/Area/V1', headers: reader })).json() as { ancestors: Array<{ code: string }> };
      assert.deepEqual(village.ancestors.map((area) => area.code), ['C', 'R2', 'D1']);
    });

    it('needs If-Match (428) and refuses a stale one (412)', async () => {
      await createSampleTree();
      assertProblem(await patch('R1', writer, { name: 'X' }), 428, 'precondition_required');
      assertProblem(await patch('R1', { ...writer, 'if-match': 'W/"5"' }, { name: 'X' }), 412, 'precondition_failed');
    });

    it('refuses a move under the area\'s own descendant (422)', async () => {
      await createSampleTree();
      assertProblem(await patch('R1', { ...writer, 'if-match': 'W/"1"' }, { parentCode: 'V1' }), 422, 'business_rule_violated');
    });

    it('accepts the patch as application/json too', async () => {
      await createSampleTree();
      const asJson = await request({ method: 'PATCH', url: '/api/v2/Area/R1', headers: { ...writer, 'if-match': 'W/"1"', 'content-type': 'application/json; charset=utf-8' }, payload: '{"name":"Far North"}' });
      assert.equal(asJson.statusCode, 200, asJson.body);
      assert.equal(asJson.headers.etag, 'W/"2"');
      assert.equal((asJson.json() as { name: string }).name, 'Far North');
    });

    it('rejects unknown or read-only fields, unknown parents and other media types', async () => {
      await createSampleTree();
      const ifMatch = { ...writer, 'if-match': 'W/"1"' };
      assertProblem(await patch('R1', ifMatch, { code: 'R9' }), 400, 'validation_failed', '/code');
      assertProblem(await patch('R1', ifMatch, { parentCode: 'NOPE' }), 400, 'validation_failed', '/parentCode');
      const asText = await request({ method: 'PATCH', url: '/api/v2/Area/R1', headers: { ...ifMatch, 'content-type': 'text/plain' }, payload: '{"name":"X"}' });
      assertProblem(asText, 415, 'unsupported_media_type');
      const asForm = await request({ method: 'PATCH', url: '/api/v2/Area/R1', headers: { ...ifMatch, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'name=X' });
      assertProblem(asForm, 415, 'unsupported_media_type');
      const unchanged = await request({ method: 'GET', url: '/api/v2/Area/R1', headers: reader });
      assert.equal(unchanged.headers.etag, 'W/"1"', 'a refused patch changes nothing');
    });

    // Needs app.ts to wire the vocabulary service in: new AreaService(db, vocabularies).
    it('rejects a kind that is not an area-kind code', async () => {
      await createSampleTree();
      assertProblem(await patch('R1', { ...writer, 'if-match': 'W/"1"' }, { kind: 'galaxy' }), 400, 'validation_failed', '/kind');
    });

    it('answers 404 for an unknown area', async () => {
      assertProblem(await patch('NOPE', { ...writer, 'if-match': 'W/"1"' }, { name: 'X' }), 404, 'not_found');
    });

    it('needs a token with area:write', async () => {
      assertProblem(await patch('C', { 'if-match': 'W/"1"' }, { name: 'X' }), 401, 'unauthenticated');
      assertProblem(await patch('C', { ...reader, 'if-match': 'W/"1"' }, { name: 'X' }), 403, 'forbidden');
    });
  });

  describe('POST /api/v2/Area/:code/$deactivate', () => {
    const deactivate = (code: string, headers: Record<string, string>, payload: unknown) =>
      request({ method: 'POST', url: `/api/v2/Area/${code}/$deactivate`, headers, payload: payload as object });

    it('deactivates a leaf area', async () => {
      await createSampleTree();
      const response = await deactivate('V1', writer, { reason: 'flooded' });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.headers.etag, 'W/"2"');
      assert.equal((response.json() as { isActive: boolean }).isActive, false);
    });

    it('is refused while the area has active children (422)', async () => {
      await createSampleTree();
      assertProblem(await deactivate('D1', writer, { reason: 'merged' }), 422, 'business_rule_violated');
    });

    it('rejects a missing reason, unknown fields and a stale If-Match', async () => {
      await createSampleTree();
      assertProblem(await deactivate('V1', writer, {}), 400, 'validation_failed', '/reason');
      assertProblem(await deactivate('V1', writer, { reason: 'x', when: 'now' }), 400, 'validation_failed', '/when');
      assertProblem(await deactivate('V1', { ...writer, 'if-match': 'W/"3"' }, { reason: 'x' }), 412, 'precondition_failed');
    });

    it('needs a token with area:write', async () => {
      assertProblem(await deactivate('C', {}, { reason: 'x' }), 401, 'unauthenticated');
      assertProblem(await deactivate('C', reader, { reason: 'x' }), 403, 'forbidden');
    });
  });

  it('documents the endpoints in OpenAPI under the area tag', async () => {
    const document = (await request({ method: 'GET', url: '/api/v2/openapi.json' })).json() as { paths: Record<string, Record<string, { tags?: string[] }>> };
    assert.deepEqual(document.paths['/api/v2/Area']?.get?.tags, ['area']);
    assert.ok(document.paths['/api/v2/Area/{code}']?.patch);
    assert.ok(document.paths['/api/v2/Area/{code}/$deactivate']?.post);
  });
});
