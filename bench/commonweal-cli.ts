import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { MemoryWatch } from './proc.js';
import { benchKekEnvironment } from './encryption.js';

export const REPOSITORY_ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(REPOSITORY_ROOT, 'bin', 'commonweal.mjs');

/** Commands running right now, so an interrupted bench can stop them too. */
const running = new Set<ChildProcess>();

/** Kills every command still running (SIGKILL: used only when the bench itself is going down). */
export function killRunningCommands(): void {
  for (const child of running) child.kill('SIGKILL');
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall-clock time of the whole command, start-up and migrations included. */
  seconds: number;
  /** Peak resident memory of the command's process, in bytes. */
  peakRssBytes: number;
}

/**
 * The environment of every process the bench starts: quiet logs, no demo data, no stray job workers,
 * and one key-encryption key for all of them (the bench database's data keys are wrapped by it).
 */
export function commonwealEnvironment(databaseUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...benchKekEnvironment(),
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'warn',
    SEED_DEMO_DATA: 'false',
    // The load generator is one client sending thousands of requests a second: no per-client limit.
    RATE_LIMIT_PER_MINUTE: '0',
    ...extra,
  };
}

/**
 * Runs `commonweal <args>` (bin/commonweal.mjs, through tsx) as a child process and waits for it.
 * `echo` copies its output to our stderr as it comes, for long commands.
 */
export function runCommonweal(args: string[], env: NodeJS.ProcessEnv, options: { echo?: boolean; allowFailure?: boolean } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPOSITORY_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    const memory = new MemoryWatch(child.pid!);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (options.echo) process.stderr.write(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (options.echo) process.stderr.write(chunk);
    });
    child.on('error', (error) => {
      running.delete(child);
      memory.stop();
      reject(error);
    });
    child.on('close', (code) => {
      running.delete(child);
      const peakRssBytes = memory.stop();
      const run = { code: code ?? 1, stdout, stderr, seconds: (performance.now() - started) / 1000, peakRssBytes };
      if (run.code !== 0 && !options.allowFailure) {
        reject(new Error(`commonweal ${args.join(' ')} exited with ${run.code}:\n${stderr.trim() || stdout.trim()}`));
      } else {
        resolve(run);
      }
    });
  });
}

/** The sub-commands `commonweal --help` lists, to find out which of import/export exist in this build. */
export async function availableCommands(): Promise<Set<string>> {
  const { stdout } = await runCommonweal(['--help'], process.env);
  const commands = /Commands:\n([\s\S]*)/.exec(stdout)?.[1] ?? '';
  return new Set([...commands.matchAll(/^ {2}(\S+)/gm)].map((match) => match[1]!));
}
