import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createSystem } from '../../../app.js';
import { loadConfig } from '../../../platform/config.js';
import { registrants } from '../../registry/registry.tables.js';
import { csv } from './import.test-support.js';

const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, '../../../../bin/commonweal.mjs');

/** `commonweal import` as an operator runs it, on a throwaway embedded database. */
describe('commonweal import (CLI)', () => {
  let dir: string;
  const environment = (dataDir = 'data') => ({ ...process.env, DATA_DIR: path.join(dir, dataDir), LOG_LEVEL: 'silent', DATABASE_URL: '', SEED_DEMO_DATA: 'false' });
  const commonweal = (...args: string[]) => run(process.execPath, [bin, ...args], { env: environment() });
  const write = (name: string, content: string) => {
    fs.writeFileSync(path.join(dir, name), content);
    return path.join(dir, name);
  };
  /** Counts in the embedded database, opened after the CLI process has exited. */
  const registrantCount = async (dataDir: string) => {
    const system = await createSystem(loadConfig({ DATA_DIR: path.join(dir, dataDir), LOG_LEVEL: 'silent', JOB_WORKERS: '0', SEED_DEMO_DATA: 'false' }));
    try {
      return (await system.database.db.select({ id: registrants.id }).from(registrants)).length;
    } finally {
      await system.close();
    }
  };

  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'commonweal-import-cli-')); });
  after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  test('imports a CSV with a mapping file, saves the mapping, prints the counts and writes the report', async () => {
    const file = write('people.csv', csv([
      ['NID', 'First', 'Last', 'Sex', 'HH', 'Role'],
      ['CL000001', 'Ana', 'Reyes', 'F', 'H-1', 'head'],
      ['CL000002', 'Ben', 'Reyes', 'M', 'H-1', 'spouse'],
      ['CL000003', 'Cid', 'Reyes', 'Q', 'H-1', 'child'],
    ]));
    const mappingFile = write('mapping.json', JSON.stringify({ columns: { NID: 'identifier:national-id', First: 'given_name', Last: 'family_name', Sex: 'gender', HH: 'household_id', Role: 'household_role' } }));
    const reportFile = path.join(dir, 'problems.csv');
    const { stdout } = await commonweal('import', file, '--mapping-file', mappingFile, '--save-mapping', 'monthly', '--report', reportFile);
    assert.match(stdout, /Saved mapping "monthly" \(version 1\)/);
    assert.match(stdout, /Started import job [0-9a-f-]{36}/);
    assert.match(stdout, /Imported 3 rows \(\d+ rows\/s\): 2 created, 0 updated, 1 rejected; 1 households and 2 memberships created/);
    assert.equal(fs.readFileSync(reportFile, 'utf8'), 'row,column,value,reason\n4,Sex,Q,"""Q"" is not a code of vocabulary ""gender"""\n');

    // The saved mapping by name; the same file again is a new import that changes nothing.
    const again = await commonweal('import', file, '--mapping', 'monthly');
    assert.match(again.stdout, /Imported 3 rows .*: 0 created, 0 updated, 1 rejected; 0 households/);
    assert.match(again.stdout, /Pass --report FILE.csv/);
  });

  test('usage errors exit 2; a file that cannot be read fails the job and exits 1', async () => {
    const file = write('plain.csv', 'identifier:national-id,given_name\nCL100001,Ivy\n');
    await assert.rejects(commonweal('import', file, '--mapping', 'no-such'), (error: { code: number; stderr: string }) => error.code === 2 && /no saved import mapping named "no-such"/.test(error.stderr));
    await assert.rejects(commonweal('import', write('people.txt', 'x')), (error: { code: number; stderr: string }) => error.code === 2 && /--format csv\|xlsx/.test(error.stderr));
    await assert.rejects(commonweal('import', write('empty.csv', '')), (error: { code: number; stderr: string }) => error.code === 2 && /empty/.test(error.stderr));
    const broken = write('broken.csv', 'identifier:national-id,given_name\nCL100002,Ok\nCL100003,"Unclosed\n');
    await assert.rejects(commonweal('import', broken), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /failed: The CSV file cannot be read/);
      return true;
    });
  });

  test('Ctrl-C hands the job back; the same command continues it: exact counts, no duplicates', async (t) => {
    const rows: string[][] = [['identifier:national-id', 'given_name', 'family_name']];
    for (let index = 0; index < 1500; index += 1) rows.push([`CR${String(index).padStart(6, '0')}`, `P${index}`, 'Resume']);
    const file = write('large.csv', csv(rows));
    const child = spawn(process.execPath, [bin, 'import', file, '--batch-size', '5'], { env: environment('resume') });
    let stdout = '';
    let interrupting = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (interrupting || !/Started import job/.test(stdout)) return;
      interrupting = true; // once: a second Ctrl-C would force the process down
      setTimeout(() => child.kill('SIGINT'), 500);
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    if (code === 0) return t.skip('the import finished before the interrupt: nothing to resume on this machine');
    assert.equal(code, 130, stdout);
    const done = Number(/Interrupted after (\d+) rows/.exec(stdout)?.[1]);
    assert.ok(done < 1500, stdout);

    const resumed = await run(process.execPath, [bin, 'import', file, '--batch-size', '5'], { env: environment('resume') });
    assert.match(resumed.stdout, new RegExp(`Continuing import job [0-9a-f-]{36} after ${done} rows`));
    assert.match(resumed.stdout, /Imported 1500 rows .*: 1500 created, 0 updated, 0 rejected/);
    assert.equal(await registrantCount('resume'), 1500);
  });
});
