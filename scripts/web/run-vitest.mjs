#!/usr/bin/env node
// `npm run test:web`: the web component tests (vitest, jsdom), closed by a plain
// "N passed, N failed" line that CI reads (vitest's own summary is not one it knows).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cw-vitest-')), 'report.json');
const result = spawnSync('npx', ['vitest', 'run', '--config', 'web/vite.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
let passed = 0;
let failed = 0;
if (fs.existsSync(report)) {
  const json = JSON.parse(fs.readFileSync(report, 'utf8'));
  passed = json.numPassedTests;
  // A file that fails to load has no tests but is a failure all the same.
  failed = json.numFailedTests + (json.numFailedTests === 0 && !json.success ? 1 : 0);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(result.status ?? 1);
