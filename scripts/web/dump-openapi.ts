// Writes the OpenAPI document of the API as the server serves it, by building the system in
// process on a throwaway in-memory database (no server, no port), to web/src/api/openapi.json.
// `npm run web:api` then regenerates web/src/api/schema.d.ts from it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { createSystem } from '../../src/app.js';
import { loadConfig } from '../../src/platform/config.js';
import { openDatabase } from '../../src/platform/database/database.js';

const root = path.resolve(import.meta.dirname, '../..');
const output = path.join(root, 'web/src/api/openapi.json');

const config = loadConfig({
  SEED_DEMO_DATA: 'false', JOB_WORKERS: '0', LOG_LEVEL: 'silent', PUBLIC_URL: 'http://localhost:8080',
  ENCRYPTION_KEK: crypto.randomBytes(32).toString('base64'),
});
const database = await openDatabase({});
const system = await createSystem(config, { database, logger: pino({ level: 'silent' }) });
try {
  await system.http.ready();
  const document = system.http.swagger();
  fs.mkdirSync(path.dirname(output), { recursive: true });
  fs.writeFileSync(output, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`wrote ${path.relative(root, output)}`);
} finally {
  await system.close();
}
