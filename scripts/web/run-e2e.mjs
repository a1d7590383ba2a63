#!/usr/bin/env node
// `npm run test:e2e`: browser tests (playwright-core driving Debian's Chromium) against a real
// server started by the tests. `--screenshots` runs only the screenshot tour (docs/screenshots/).
// Builds the web back office first when it is missing or stale.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const build = spawnSync(process.execPath, [path.join(root, 'scripts/web/ensure-build.mjs')], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const screenshots = process.argv.includes('--screenshots');
const dir = path.join(root, 'test/e2e');
const files = fs.readdirSync(dir).filter((name) => (screenshots ? name === 'screenshots.e2e.ts' : name.endsWith('.e2e.ts') && name !== 'screenshots.e2e.ts')).map((name) => path.join('test/e2e', name));
const result = spawnSync(process.execPath, [
  '--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=180000',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=./scripts/web/count-reporter.mjs', '--test-reporter-destination=stdout',
  ...files,
], { cwd: root, stdio: 'inherit', env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' } });
process.exit(result.status ?? 1);
