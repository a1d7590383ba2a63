import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../platform/config.js';
import type { System } from '../app.js';
import { recordAudit } from '../platform/audit/audit.js';
import { systemActor } from '../platform/auth/access-tokens.js';
import { DEFAULT_KEK_FILE, EncryptionKeyError, LocalKeyProvider, generateKekText, parseKek } from '../platform/crypto/key-provider.js';
import { findJob } from '../platform/jobs/job-queue.js';
import { JobRunner } from '../platform/jobs/job-runner.js';
import { REENCRYPT_JOB } from '../platform/privacy/reencryption.js';
import { REINDEX_JOB } from '../platform/privacy/reindex.js';
import { runCommand } from './users.js';

// The keys of encryption at rest (see platform/crypto): rotating the data key, rewriting old
// ciphertexts under the newest one, and rewrapping the data keys under a new key-encryption key.

const cli = () => ({ actor: systemActor('cli') });

/** `keys rotate-data-key`: a new data key writes from now on; older ones keep decrypting. */
export async function keysRotateDataKey(system: System, options: { json?: boolean }): Promise<string> {
  const version = await system.encryption.keyRing.rotateDataKey();
  await recordAudit(system.database.db, cli(), { action: 'rotate-data-key', entityType: 'encryption-key', entityId: `data-v${version}`, after: { purpose: 'data', version } });
  if (options.json) return JSON.stringify({ version });
  return `New data key version ${version}: new values are encrypted with it (by running servers within 30 s); older ciphertexts stay readable. `
    + 'Run `commonweal keys reencrypt` to rewrite them under the new key.';
}

/**
 * `keys reencrypt`: queues the `privacy.reencrypt` job (or finds the one queued or running); a
 * server with job workers runs it in the background. `--run` runs it here and now instead.
 */
export async function keysReencrypt(system: System, options: { run?: boolean; json?: boolean }): Promise<string> {
  const { job, created } = await system.encryption.reencryption.enqueue('cli');
  if (!options.run) {
    if (options.json) return JSON.stringify({ jobId: job.id, state: job.state, created });
    return `${created ? 'Queued' : 'Found'} re-encryption job ${job.id} (${job.state}): a server with job workers runs it; GET /api/v2/Job/${job.id} shows its progress. `
      + 'Or run it from here: `commonweal keys reencrypt --run`.';
  }
  // Only this job type, in this process: other queued jobs are left to the servers.
  const runner = new JobRunner({ db: system.database.db, concurrency: 1, pollIntervalMs: 500, leaseSeconds: system.config.jobLeaseSeconds });
  runner.register(REENCRYPT_JOB, system.encryption.reencryption.runJob.bind(system.encryption.reencryption));
  await runner.drain();
  const finished = (await findJob(system.database.db, job.id))!;
  if (options.json) return JSON.stringify({ jobId: job.id, state: finished.state, result: finished.result, error: finished.error });
  if (finished.state === 'succeeded') {
    const result = finished.result as { version: number; rewritten: number };
    return `Re-encryption job ${job.id} succeeded: ${result.rewritten} rows rewritten under data key version ${result.version}.`;
  }
  return `Re-encryption job ${job.id} is ${finished.state}${finished.error ? `: ${finished.error}` : ' (another process runs it)'}.`;
}

/**
 * `keys rotate-index-key`: a new blind-index root key writes from now on; lookups try the old and
 * the new index until the `privacy.reindex` job (queued here; `--run` runs it here and now) has
 * recomputed every identifier and phone index and retired the old key.
 */
export async function keysRotateIndexKey(system: System, options: { run?: boolean; json?: boolean }): Promise<string> {
  const { version, job } = await system.encryption.reindex.rotate('cli');
  await recordAudit(system.database.db, cli(), { action: 'rotate-index-key', entityType: 'encryption-key', entityId: `index-v${version}`, after: { purpose: 'index', version, jobId: job.id } });
  if (!options.run) {
    if (options.json) return JSON.stringify({ version, jobId: job.id, state: job.state });
    return `New blind-index key version ${version}; lookups try the old and the new index meanwhile. Re-index job ${job.id} queued: a server with job workers runs it (GET /api/v2/Job/${job.id}), or \`commonweal keys rotate-index-key --run\` runs the next one here.`;
  }
  const runner = new JobRunner({ db: system.database.db, concurrency: 1, pollIntervalMs: 500, leaseSeconds: system.config.jobLeaseSeconds });
  runner.register(REINDEX_JOB, system.encryption.reindex.runJob.bind(system.encryption.reindex));
  await runner.drain();
  const finished = (await findJob(system.database.db, job.id))!;
  if (options.json) return JSON.stringify({ version, jobId: job.id, state: finished.state, result: finished.result, error: finished.error });
  const result = finished.result as { rewritten: number; retired: number } | null;
  return finished.state === 'succeeded'
    ? `Blind-index key version ${version}: ${result!.rewritten} rows re-indexed, ${result!.retired} older key(s) retired.`
    : `Re-index job ${job.id} is ${finished.state}${finished.error ? `: ${finished.error}` : ''}.`;
}

export interface RotateKekOptions {
  newKekFile: string;
  /** Write a new random KEK into `newKekFile` (which must not exist) first. */
  generate?: boolean;
  json?: boolean;
}

/**
 * `keys rotate-kek`: rewraps every key under the KEK in `newKekFile`, in one transaction. When the
 * current KEK is the default DATA_DIR/kek.key, that file is replaced by the new one; otherwise the
 * operator points ENCRYPTION_KEK(_FILE) at it before the next start.
 */
export async function keysRotateKek(system: System, options: RotateKekOptions): Promise<string> {
  const file = path.resolve(options.newKekFile);
  if (options.generate) {
    try {
      fs.writeFileSync(file, `${generateKekText()}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      throw new EncryptionKeyError(`Cannot create ${file}: ${(error as NodeJS.ErrnoException).code === 'EEXIST' ? 'it exists already (leave out --generate to use it)' : (error as Error).message}`);
    }
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new EncryptionKeyError(`Cannot read the new key-encryption key from ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}); --generate creates one`);
  }
  const next = new LocalKeyProvider(parseKek(text, file));
  const previous = system.encryption.keyRing.kekId;
  if (next.id === previous) throw new EncryptionKeyError('The new key-encryption key is the one in use already');
  const count = await system.encryption.keyRing.rewrapAll(next);
  await recordAudit(system.database.db, cli(), { action: 'rotate-kek', entityType: 'encryption-key', entityId: 'kek', before: { kek: previous }, after: { kek: next.id, keys: count } });
  const usesDefaultFile = system.config.encryptionKek === undefined && system.config.encryptionKekFile === undefined;
  let where: string;
  if (usesDefaultFile) {
    const defaultFile = path.join(system.config.dataDir, DEFAULT_KEK_FILE);
    fs.copyFileSync(file, `${defaultFile}.new`);
    fs.chmodSync(`${defaultFile}.new`, 0o600);
    fs.renameSync(`${defaultFile}.new`, defaultFile);
    where = `${defaultFile} now holds it.`;
  } else {
    where = `Set ${system.config.encryptionKekFile ? `ENCRYPTION_KEK_FILE=${file}` : 'ENCRYPTION_KEK to its content'} before the next start: the old KEK no longer opens this database. Running servers keep working with the keys they hold.`;
  }
  if (options.json) return JSON.stringify({ keys: count, kek: next.id, previous });
  return `Rewrapped ${count} keys under the new key-encryption key (${next.id}). ${where}`;
}

export const keysRotateDataKeyCommand = (config: Config, options: { json?: boolean }) => runCommand(config, (system) => keysRotateDataKey(system, options));
export const keysReencryptCommand = (config: Config, options: { run?: boolean; json?: boolean }) => runCommand(config, (system) => keysReencrypt(system, options));
export const keysRotateIndexKeyCommand = (config: Config, options: { run?: boolean; json?: boolean }) => runCommand(config, (system) => keysRotateIndexKey(system, options));
export const keysRotateKekCommand = (config: Config, options: RotateKekOptions) => runCommand(config, (system) => keysRotateKek(system, options));
