#!/usr/bin/env node
// Runs before `npm start`: builds the web back office (web/dist) when it is missing or older than
// its sources, so a fresh clone serves the UI after a plain `npm install`. Without Vite (a
// production install without dev dependencies) it says so and the server starts with the API only.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const root = path.resolve(import.meta.dirname, '../..');
const web = path.join(root, 'web');
const builtIndex = path.join(web, 'dist/index.html');

function newestChange(entry) {
  if (!fs.existsSync(entry)) return 0;
  const stat = fs.statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...fs.readdirSync(entry).map((name) => newestChange(path.join(entry, name))));
}

const sources = [path.join(web, 'src'), path.join(web, 'index.html'), path.join(web, 'vite.config.ts'), path.join(root, 'package-lock.json'), path.join(root, 'src/platform/auth/roles.ts')];
const builtAt = fs.existsSync(builtIndex) ? fs.statSync(builtIndex).mtimeMs : 0;
const sourcesAt = Math.max(...sources.map(newestChange));
if (builtAt >= sourcesAt) process.exit(0);

let viteBin;
try {
  viteBin = path.join(path.dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin/vite.js');
} catch {
  console.warn('web/dist is missing or stale and Vite is not installed (dev dependencies omitted?): the server starts without the back office UI.');
  process.exit(0);
}
console.log(builtAt === 0 ? 'Building the web back office (first start)…' : 'Web sources changed: rebuilding the web back office…');
const result = spawnSync(process.execPath, [viteBin, 'build', '--config', path.join(web, 'vite.config.ts'), '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
