// End-to-end support: a real Commonweal server (the `commonweal serve` command, embedded PGlite,
// demo data) on a free port, and Debian's Chromium driven by playwright-core. Nothing is downloaded.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

const root = path.resolve(import.meta.dirname, '../..');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface RunningServer {
  baseUrl: string;
  dataDir: string;
  passwords: Map<string, string>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts `commonweal serve` with demo data in a fresh data directory; resolves once it answers /ready. */
export async function startServer(options: { households?: number } = {}): Promise<RunningServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-e2e-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, [path.join(root, 'bin/commonweal.mjs'), 'serve'], {
    cwd: root,
    env: {
      ...process.env, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: baseUrl, DATA_DIR: dataDir, DATABASE_URL: '',
      DEMO_HOUSEHOLDS: String(options.households ?? 80), LOG_LEVEL: 'warn', JOB_POLL_INTERVAL_MS: '200', RATE_LIMIT_PER_MINUTE: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`The server stopped during start-up:\n${output}`);
    if (Date.now() > deadline) { await stop(); throw new Error(`The server did not get ready in time:\n${output}`); }
    const ready = await fetch(`${baseUrl}/ready`).then((response) => response.ok, () => false);
    if (ready && fs.existsSync(path.join(dataDir, 'demo-users.json'))) break;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  const accounts = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo-users.json'), 'utf8')) as Array<{ username: string; password: string }>;
  return { baseUrl, dataDir, passwords: new Map(accounts.map((account) => [account.username, account.password])), stop };
}

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) throw new Error(`No Chromium at ${CHROMIUM_PATH}: apt-get update && apt-get install -y chromium`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A new browser page signed in through the sign-in screen as a demo account. */
export async function signIn(browser: Browser, server: RunningServer, username: string, viewport = { width: 1280, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport, locale: 'en-GB', acceptDownloads: true, timezoneId: 'UTC' });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await page.goto(`${server.baseUrl}/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(server.passwords.get(username) ?? '');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Search the registry' }).waitFor();
  return page;
}

/** The API as a signed-in user, outside the browser (to find test data). */
export async function apiSession(server: RunningServer, username: string) {
  const login = await fetch(`${server.baseUrl}/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: server.passwords.get(username) }),
  });
  if (!login.ok) throw new Error(`sign-in of ${username} failed: ${login.status}`);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const { csrfToken } = await login.json() as { csrfToken: string };
  return {
    get: async (url: string) => {
      const response = await fetch(`${server.baseUrl}${url}`, { headers: { cookie } });
      if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
      return response.json() as Promise<any>;
    },
    post: async (url: string, body: unknown) => {
      const response = await fetch(`${server.baseUrl}${url}`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
      return response.json() as Promise<any>;
    },
    csrfToken,
  };
}
