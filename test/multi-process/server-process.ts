// Helpers for the multi-process tests: real `commonweal serve` processes (and one-off CLI commands)
// spawned as an operator would start them, with their JSON log lines collected for assertions.
// Every process started here is registered, so `killAll()` in an `after` hook (and, as a last
// resort, the test process's own exit) can never leave one behind.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

export const bin = path.resolve(import.meta.dirname, '../../bin/commonweal.mjs');

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Kills (SIGKILL) every process these helpers started that is still running, and waits for them. */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((child) => {
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    return withTimeout(gone, 10_000, `process ${child.pid} to die`).catch(() => {});
  }));
}

/** A TCP port that was free a moment ago (the kernel picks it; we close it again at once). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  name: string;
  port: number;
  /** Base URL this process listens on, e.g. http://127.0.0.1:41234 */
  url: string;
  child: ChildProcess;
  /** Every stdout/stderr line so far (the banner, JSON log lines, anything else). */
  output(): string;
  /** The JSON log lines written so far, parsed. */
  logs(): Array<Record<string, any>>;
  /** Settles when the process has exited. */
  exited: Promise<Exit>;
  isRunning(): boolean;
  kill(signal: NodeJS.Signals): void;
}

/** Environment every spawned server starts from: the caller's variables win. */
function baseEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = { ...process.env };
  // Never inherit the test runner's own settings by accident.
  for (const name of ['DATABASE_URL', 'PORT', 'PUBLIC_URL', 'JOB_WORKERS', 'SEED_DEMO_DATA', 'DATA_DIR', 'NODE_TEST_CONTEXT', 'NODE_OPTIONS']) delete environment[name];
  return { ...environment, ...extra };
}

/**
 * Starts `node bin/commonweal.mjs serve` on a free port and resolves once `/ready` answers 200.
 * Rejects (and kills the process) if it exits first or is not ready within `readyTimeoutMs`.
 */
export async function startServer(name: string, environment: Record<string, string>, readyTimeoutMs = 90_000): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await startServerOnce(name, environment, readyTimeoutMs);
    } catch (error) {
      // The free port was taken by someone else between our check and the server's listen: try another.
      if (attempt >= 3 || !/EADDRINUSE/.test((error as Error).message)) throw error;
    }
  }
}

async function startServerOnce(name: string, environment: Record<string, string>, readyTimeoutMs: number): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [bin, 'serve'], {
    env: baseEnvironment({ HOST: '127.0.0.1', LOG_LEVEL: 'info', ...environment, PORT: String(port) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let text = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; });
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const server: ServerProcess = {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => text,
    logs: () => text.split('\n').flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as Record<string, any>];
      } catch {
        return []; // a line still being written
      }
    }),
    exited,
    isRunning: () => child.exitCode === null && child.signalCode === null,
    kill: (signal) => { child.kill(signal); },
  };

  const deadline = Date.now() + readyTimeoutMs;
  let exitedEarly: Exit | undefined;
  void exited.then((exit) => { exitedEarly = exit; });
  for (;;) {
    if (exitedEarly) throw new Error(`${name} exited before it was ready (${JSON.stringify(exitedEarly)}):\n${text}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} was not ready within ${readyTimeoutMs} ms:\n${text}`);
    }
    const status = await fetch(`${server.url}/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0);
    if (status === 200) return server;
    await sleep(100);
  }
}

/** Runs a one-off `commonweal …` command; rejects on a non-zero exit or after `timeoutMs` (killing it). */
export async function runCommonweal(args: string[], environment: Record<string, string>, timeoutMs = 120_000): Promise<{ stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], {
    env: baseEnvironment({ LOG_LEVEL: 'silent', ...environment }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = await new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  clearTimeout(timer);
  running.delete(child);
  if (exit.code !== 0) throw new Error(`commonweal ${args.join(' ')} failed (${JSON.stringify(exit)}):\n${stdout}\n${stderr}`);
  return { stdout, stderr };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** A tiny JSON HTTP client for one server, with an optional bearer token. */
export function clientFor(server: { url: string }, token?: string) {
  const headers = (extra: Record<string, string> = {}) => ({ ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra });
  const call = async (method: string, url: string, body?: unknown, extra: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}${url}`, {
      method,
      headers: headers(body === undefined ? extra : { 'content-type': 'application/json', ...extra }), // extra may override the type
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  };
  return {
    get: (url: string, extra?: Record<string, string>) => call('GET', url, undefined, extra),
    post: (url: string, body?: unknown, extra?: Record<string, string>) => call('POST', url, body ?? {}, extra),
    patch: (url: string, body: unknown, extra: Record<string, string> = {}) => call('PATCH', url, body, { 'content-type': 'application/merge-patch+json', ...extra }),
  };
}

/** Client-credentials token from `server`'s token endpoint. */
export async function fetchToken(server: { url: string }, clientId: string, clientSecret: string): Promise<string> {
  const response = await fetch(`${server.url}/oauth2/client/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }).toString(),
    signal: AbortSignal.timeout(30_000),
  });
  const body = await response.json() as { access_token?: string };
  if (response.status !== 200 || !body.access_token) throw new Error(`Token request to ${server.url} failed: ${response.status} ${JSON.stringify(body)}`);
  return body.access_token;
}
