import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { SingleBar, Presets } from 'cli-progress';
import type { Config } from '../platform/config.js';
import { AppError } from '../platform/errors.js';
import { systemActor } from '../platform/auth/access-tokens.js';
import { createSystem } from '../app.js';
import type { ExportSearch } from '../modules/bulk-data/export/export.service.js';

export interface ExportCommandOptions {
  resource: 'individual' | 'group';
  out: string;
  name?: string;
  area?: string;
  /** `name=value`, repeatable; a name given twice becomes a repeated parameter. */
  param: string[];
}

/**
 * `commonweal export --resource individual|group [--name X] [--area CODE] [--param name=value …] --out FILE|-`:
 * the same export as POST /api/v2/$export (same validation, same CSV), run here directly.
 * Progress goes to stderr, so `--out -` leaves stdout pure CSV.
 */
export async function exportCommand(config: Config, options: ExportCommandOptions): Promise<void> {
  const resourceType = options.resource === 'individual' ? 'Individual' : 'Group';
  const search = searchOf(options);
  // Logs to stderr too: with --out - anything on stdout would end up in the CSV.
  const system = await createSystem({ ...config, jobWorkers: 0 }, { logger: pino({ level: config.logLevel }, pino.destination(2)) });
  const toStdout = options.out === '-';
  // Written next to the target and renamed at the end, so a failed run leaves no half file behind.
  const partial = toStdout ? undefined : path.join(path.dirname(path.resolve(options.out)), `.${path.basename(options.out)}.partial`);
  const bar = new SingleBar({ format: 'Exporting [{bar}] {value}/{total} rows | {rate} rows/s | ETA {eta}s', hideCursor: true, stream: process.stderr }, Presets.shades_classic);
  const started = Date.now();
  const rate = (done: number) => (done / Math.max((Date.now() - started) / 1000, 0.001)).toFixed(0);
  try {
    const destination = partial ? fs.createWriteStream(partial) : process.stdout;
    const { rows } = await system.services.exports.writeCsv(systemActor('cli'), { resourceType, search }, destination, {
      onProgress: (done, total) => {
        if (done === 0) bar.start(total, 0, { rate: '0' });
        else bar.update(done, { rate: rate(done) });
      },
    });
    if (partial) fs.renameSync(partial, options.out);
    bar.stop();
    const seconds = (Date.now() - started) / 1000;
    console.error(`Exported ${rows} ${options.resource}s in ${seconds.toFixed(1)} s (${rate(rows)} rows/s)${toStdout ? '' : ` to ${options.out}`}.`);
  } catch (error) {
    if (partial) fs.rmSync(partial, { force: true });
    throw error;
  } finally {
    bar.stop();
    await system.close();
  }
}

function searchOf(options: ExportCommandOptions): ExportSearch {
  const search: ExportSearch = {};
  const add = (name: string, value: string) => {
    const existing = search[name];
    search[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  };
  if (options.name !== undefined) add('name', options.name);
  if (options.area !== undefined) add('area', options.area);
  for (const param of options.param) {
    const separator = param.indexOf('=');
    if (separator <= 0) throw AppError.validation(`--param "${param}" must be name=value, e.g. --param gender=2`, [{ path: '--param', message: 'must be name=value' }]);
    add(param.slice(0, separator), param.slice(separator + 1));
  }
  return search;
}
