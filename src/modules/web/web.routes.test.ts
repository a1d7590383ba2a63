import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { createTestSystem, type TestSystem } from '../../test-support/test-system.js';
import { sendProblem, toAppError } from '../../platform/http/problem.js';
import { isClientRoute, webRoutes } from './web.routes.js';

describe('web back office served at /', () => {
  describe('inside the whole server: never in the way of the API', () => {
    let system: TestSystem;
    before(async () => { system = await createTestSystem(); });
    after(async () => { await system.close(); });

    test('client routes answer HTML; /api, /auth, /docs, /health keep their own answers', async () => {
      const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
      const page = await system.http.inject({ method: 'GET', url: '/households/0d5c7a4e-0000-4000-8000-000000000001', headers: html });
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);

      const unknownApi = await system.http.inject({ method: 'GET', url: '/api/v2/NoSuchThing' });
      assert.equal(unknownApi.statusCode, 404);
      assert.equal(unknownApi.json().code, 'not_found');
      assert.equal((await system.http.inject({ method: 'GET', url: '/api/v2/Individual' })).statusCode, 401);
      assert.equal((await system.http.inject({ method: 'GET', url: '/auth/session' })).statusCode, 401);
      assert.equal((await system.http.inject({ method: 'GET', url: '/health' })).json().status, 'ok');
      assert.match((await system.http.inject({ method: 'GET', url: '/docs/' })).body, /swagger/i);
      assert.equal((await system.http.inject({ method: 'GET', url: '/robots.txt', headers: html })).statusCode, 404);
      // Not a browser (no text/html wanted): an unknown path stays a 404 problem, as before the app.
      const script = await system.http.inject({ method: 'GET', url: '/households' });
      assert.equal(script.statusCode, 404);
      assert.equal(script.json().code, 'not_found');
      // Only GET is answered by the app: other methods on unknown paths stay 404 problems.
      assert.equal((await system.http.inject({ method: 'POST', url: '/households', headers: html })).statusCode, 404);
    });

    test('the web routes are not part of the API document', async () => {
      const document = (await system.http.inject({ method: 'GET', url: '/api/v2/openapi.json' })).json() as { paths: Record<string, unknown> };
      assert.ok(!Object.keys(document.paths).some((route) => route === '/' || route.startsWith('/*') || route.startsWith('/assets')));
    });
  });

  describe('a build on disk', () => {
    let app: FastifyInstance;
    let distDir: string;
    before(async () => {
      distDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-web-'));
      fs.mkdirSync(path.join(distDir, 'assets'));
      fs.writeFileSync(path.join(distDir, 'index.html'), '<!doctype html><title>app</title><div id="root"></div>');
      fs.writeFileSync(path.join(distDir, 'assets/index-abc123.js'), 'console.log(1)');
      app = Fastify();
      app.setErrorHandler((error, request, reply) => sendProblem(reply, request, toAppError(error)));
      await app.register(webRoutes(distDir));
    });
    after(async () => {
      await app.close();
      fs.rmSync(distDir, { recursive: true, force: true });
    });

    test('index.html for / and every client route a browser asks for, never cached', async () => {
      for (const url of ['/', '/individuals/abc', '/register', '/import?x=1']) {
        const response = await app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
        assert.equal(response.statusCode, 200, url);
        assert.match(response.body, /<div id="root">/);
        assert.equal(response.headers['cache-control'], 'no-cache');
      }
    });

    test('hashed assets are cached for a year; a missing asset is a 404, not the app', async () => {
      const asset = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
      assert.equal(asset.statusCode, 200);
      assert.match(String(asset.headers['content-type']), /javascript/);
      assert.match(String(asset.headers['cache-control']), /max-age=31536000.*immutable/);
      assert.equal((await app.inject({ method: 'GET', url: '/assets/index-old.js' })).statusCode, 404);
      assert.equal((await app.inject({ method: 'GET', url: '/favicon.ico', headers: { accept: 'text/html' } })).statusCode, 404);
    });
  });

  test('isClientRoute: plain paths yes; server prefixes and file names no', () => {
    assert.equal(isClientRoute('/'), true);
    assert.equal(isClientRoute('/households/9b1f'), true);
    for (const path of ['/api/v2/Individual', '/api', '/auth/login', '/docs', '/docs/json', '/health', '/ready', '/metrics', '/oauth2/client/token', '/.well-known/jwks.json', '/assets/x.js', '/index.html']) {
      assert.equal(isClientRoute(path), false, path);
    }
  });
});
