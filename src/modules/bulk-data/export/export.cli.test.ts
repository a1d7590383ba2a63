import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { systemActor } from '../../../platform/auth/access-tokens.js';
import { createSystem, type System } from '../../../app.js';
import { loadConfig } from '../../../platform/config.js';
import { seedRegistry } from '../../demo-data/seed-registry.js';
import type { ExportRequest } from './export.service.js';

const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, '../../../../bin/commonweal.mjs');

/** `commonweal export` as an operator runs it, on a throwaway embedded database. */
describe('commonweal export', () => {
  let dataDir: string;
  const environment = () => ({ ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent', DATABASE_URL: '' });
  const commonweal = (...args: string[]) => run(process.execPath, [bin, ...args], { env: environment(), maxBuffer: 64 * 1024 * 1024 });

  /** Runs `work` on the system over the CLI's embedded database (the CLI must not be running). */
  const withSystem = async <T>(work: (system: System) => Promise<T>): Promise<T> => {
    const system = await createSystem(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', JOB_WORKERS: '0', SEED_DEMO_DATA: 'false' }));
    try {
      return await work(system);
    } finally {
      await system.close();
    }
  };
  /** What the export service writes for each request. */
  const expectedCsv = (...requests: ExportRequest[]) => withSystem(async (system) => {
    const texts: string[] = [];
    for (const request of requests) {
      const parts: Buffer[] = [];
      const sink = new Writable({ write(chunk: Buffer, _encoding, callback) { parts.push(chunk); callback(); } });
      await system.services.exports.writeCsv(systemActor('test'), request, sink);
      texts.push(Buffer.concat(parts).toString('utf8'));
    }
    return texts;
  });
  const rowCount = (csv: string) => (parse(csv, { columns: true }) as unknown[]).length;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'commonweal-export-'));
    await withSystem((system) => seedRegistry(system.services, { households: 6, seed: 3 }));
  });
  after(() => { fs.rmSync(dataDir, { recursive: true, force: true }); });

  // Each run starts a process and the embedded database (seconds), so the cases share runs.
  test('writes the same CSV as the export job, to a file or stdout, filtered like the API', async () => {
    const out = path.join(dataDir, 'individuals.csv');
    const toFile = await commonweal('export', '--resource', 'individual', '--out', out,
      '--name', 'a', '--area', 'DM01', '--param', 'birthdate=ge1950-01-01', '--param', 'birthdate=le2020-12-31');
    const toStdout = await commonweal('export', '--resource', 'group', '--out', '-');
    const [filtered, all, groups] = await expectedCsv(
      { resourceType: 'Individual', search: { name: 'a', area: 'DM01', birthdate: ['ge1950-01-01', 'le2020-12-31'] } },
      { resourceType: 'Individual' },
      { resourceType: 'Group' },
    );

    const written = fs.readFileSync(out, 'utf8');
    assert.equal(written, filtered);
    const rows = rowCount(written);
    assert.ok(rows > 0 && rows < rowCount(all!), `${rows} of ${rowCount(all!)} individuals match`);
    assert.equal(toFile.stdout, '');
    assert.match(toFile.stderr, new RegExp(`Exported ${rows} individuals in [\\d.]+ s \\(\\d+ rows/s\\) to `));
    assert.deepEqual(fs.readdirSync(dataDir).filter((name) => name.endsWith('.partial')), []);

    assert.equal(toStdout.stdout, groups);
    assert.equal(rowCount(toStdout.stdout), 6);
  });

  test('a bad search parameter or resource exits 2 with the reason and writes no file', async () => {
    const out = path.join(dataDir, 'never.csv');
    await assert.rejects(commonweal('export', '--resource', 'individual', '--out', out, '--param', 'colour=red'), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr, /\/search\/colour: is not a known field/);
      return true;
    });
    await assert.rejects(commonweal('export', '--resource', 'household', '--out', out), (error: { stderr: string }) => /Allowed choices are individual, group/.test(error.stderr));
    await assert.rejects(commonweal('export', '--resource', 'group', '--out', out, '--param', 'novalue'), (error: { code: number; stderr: string }) => error.code === 2 && /must be name=value/.test(error.stderr));
    assert.equal(fs.existsSync(out), false);
  });
});
