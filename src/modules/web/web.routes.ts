import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { AppError } from '../../platform/errors.js';

/** Where `npm run web:build` writes the back office (web/vite.config.ts). */
export const WEB_DIST_DIR = path.resolve(import.meta.dirname, '../../../web/dist');

/** Paths the server answers itself: the back office's client routes never shadow them. */
const SERVER_PREFIXES = ['/api/', '/auth/', '/oauth2/', '/docs', '/.well-known/', '/health', '/ready', '/metrics', '/assets/'];

/** A request path the single-page app answers with its index.html (a client route, not a file or an API). */
export function isClientRoute(urlPath: string): boolean {
  if (SERVER_PREFIXES.some((prefix) => urlPath === prefix.replace(/\/$/, '') || urlPath.startsWith(prefix))) return false;
  // A path whose last segment has an extension asks for a file: a missing one is a 404, not the app.
  return !/\.[A-Za-z0-9]+$/.test(urlPath);
}

/**
 * The web back office at `/`: hashed assets under /assets (cached for a year), index.html for every
 * client route a browser asks for (never cached, so a new build is picked up at once). Without a build, `/` says how to
 * make one. Public routes: the app itself holds no data; every API call it makes is authorised.
 */
export function webRoutes(distDir: string = WEB_DIST_DIR) {
  return async (app: FastifyInstance) => {
    app.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), public: true };
      route.schema = { ...(route.schema ?? {}), hide: true };
    });
    const indexFile = path.join(distDir, 'index.html');
    const isBuilt = fs.existsSync(indexFile);
    if (isBuilt) {
      await app.register(fastifyStatic, {
        root: path.join(distDir, 'assets'),
        prefix: '/assets/',
        index: false,
        // File names carry a content hash: a changed file is a new name, so a year's caching is safe.
        maxAge: '365d',
        immutable: true,
      });
    }

    const sendApp = async (request: FastifyRequest, reply: FastifyReply) => {
      const urlPath = request.url.split('?')[0] ?? '/';
      // A client route is what a browser navigates to (it asks for HTML); API clients and scripts
      // asking for anything else keep getting the 404 problem for an unknown path.
      const wantsPage = urlPath === '/' || (request.headers.accept ?? '').includes('text/html');
      if (!isClientRoute(urlPath) || !wantsPage) throw new AppError('not_found', `No route for ${request.method} ${urlPath}`);
      reply.header('cache-control', 'no-cache');
      // The app's own rules for the browser: scripts and styles only from here, no framing.
      reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'");
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'same-origin');
      if (!isBuilt) {
        return reply.type('text/html; charset=utf-8').send('<!doctype html><html lang="en"><meta charset="utf-8"><title>Commonweal</title>'
          + '<p>The web back office is not built. Run <code>npm run web:build</code> (or <code>npm start</code>, which builds it when missing), then reload.</p>'
          + '<p>The API is at <a href="/docs">/docs</a>.</p></html>');
      }
      return reply.type('text/html; charset=utf-8').send(fs.createReadStream(indexFile));
    };
    app.get('/', sendApp);
    app.get('/*', sendApp);
  };
}
