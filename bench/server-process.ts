import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPOSITORY_ROOT, commonwealEnvironment } from './commonweal-cli.js';
import { MemoryWatch, readCpuMs } from './proc.js';

/** A port nobody listens on right now (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * `commonweal serve` in its own process, as in production: the load comes from the bench process,
 * so client and server do not share an event loop. Its peak memory is polled from /proc while it runs.
 */
export class ServerProcess {
  private readonly memory: MemoryWatch;
  private output = '';
  private exited: Promise<number | null>;
  private hasExited = false;

  private constructor(private readonly child: ChildProcess, readonly baseUrl: string, private readonly dataDir: string) {
    this.memory = new MemoryWatch(child.pid!);
    const keep = (chunk: Buffer) => { this.output = (this.output + chunk.toString('utf8')).slice(-20_000); };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.on('exit', (code) => {
      this.hasExited = true;
      resolve(code);
    }));
  }

  /** `profileDirectory`: run under --cpu-prof; the profile is written there when the server exits. */
  static async start(databaseUrl: string, options: { poolSize?: number; jobWorkers?: number; profileDirectory?: string } = {}): Promise<ServerProcess> {
    const port = await freePort();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'commonweal-bench-'));
    const env = commonwealEnvironment(databaseUrl, {
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: dataDir,
      ...(options.poolSize !== undefined ? { DATABASE_POOL_SIZE: String(options.poolSize) } : {}),
      ...(options.jobWorkers !== undefined ? { JOB_WORKERS: String(options.jobWorkers) } : {}),
    });
    const profiling = options.profileDirectory ? ['--cpu-prof', '--cpu-prof-dir', options.profileDirectory] : [];
    const child = spawn(process.execPath, [...profiling, path.join(REPOSITORY_ROOT, 'bin', 'commonweal.mjs'), 'serve'], { cwd: REPOSITORY_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new ServerProcess(child, `http://127.0.0.1:${port}`, dataDir);
    try {
      await server.waitUntilReady(60_000);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Peak resident memory seen so far (VmHWM), in bytes. */
  get peakRssBytes(): number {
    this.memory.sample();
    return this.memory.peak;
  }

  cpuMs(): number | undefined {
    return readCpuMs(this.pid);
  }

  /** Last lines the server printed, for error messages. */
  get recentOutput(): string {
    return this.output.trim().split('\n').slice(-20).join('\n');
  }

  private async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.hasExited) throw new Error(`The server exited during start-up:\n${this.recentOutput}`);
      try {
        const response = await fetch(`${this.baseUrl}/ready`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`The server was not ready within ${timeoutMs / 1000} s:\n${this.recentOutput}`);
  }

  /** SIGTERM (graceful shutdown), SIGKILL if it has not exited after 15 s. Safe to call twice. */
  async stop(): Promise<void> {
    this.memory.stop();
    if (!this.hasExited) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => { if (!this.hasExited) this.child.kill('SIGKILL'); }, 15_000);
      await this.exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Last resort on an abrupt exit of the bench: no waiting possible, just make sure it dies. */
  killNow(): void {
    if (!this.hasExited) this.child.kill('SIGKILL');
  }
}
