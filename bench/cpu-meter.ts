import { backendPids } from './database.js';
import { loadAverage, readCpuMs, readSystemCpu } from './proc.js';

/** CPU time used during one measurement window, in milliseconds. */
export interface CpuTotals {
  elapsedMs: number;
  /** The Commonweal server process (absent for the SQL floor). */
  serverMs?: number;
  /** PostgreSQL backends connected to the bench database. */
  postgresMs?: number;
  /** The bench process itself (autocannon or the pg driver). */
  benchMs: number;
  /** Share of the whole machine's CPU in use during the window, every process counted (others' too). */
  machineBusyPercent?: number;
  /** Load average (1 min) at the end of the window, as `uptime` shows it. */
  loadAverage1m: number;
}

/** Where the CPU went during one measurement, per completed request. */
export interface CpuFigures {
  serverMsPerRequest?: number;
  postgresMsPerRequest?: number;
  benchMsPerRequest: number;
  machineBusyPercent?: number;
  loadAverage1m: number;
}

/**
 * Reads CPU time of the server process, of the database's backends (from /proc, by the pids
 * pg_stat_activity lists) and of the bench process, before and after a measurement window.
 * A backend that starts inside the window counts from its start; one that ends inside it is missed
 * (pools keep their connections under load, so this is rare; short-lived parallel workers are).
 */
export class CpuMeter {
  private serverStart?: number;
  private backendStart = new Map<number, number>();
  private benchStart = process.cpuUsage();
  private systemStart = readSystemCpu();
  private started = performance.now();

  private constructor(private readonly databaseUrl: string, private readonly serverPid: number | undefined) {}

  static async start(databaseUrl: string, serverPid?: number): Promise<CpuMeter> {
    const meter = new CpuMeter(databaseUrl, serverPid);
    for (const pid of await backendPids(databaseUrl)) {
      const cpu = readCpuMs(pid);
      if (cpu !== undefined) meter.backendStart.set(pid, cpu);
    }
    meter.serverStart = serverPid === undefined ? undefined : readCpuMs(serverPid);
    meter.benchStart = process.cpuUsage();
    meter.systemStart = readSystemCpu();
    meter.started = performance.now();
    return meter;
  }

  /** Call right after the window closes, before anything else runs. */
  async stop(): Promise<CpuTotals> {
    const elapsedMs = performance.now() - this.started;
    const bench = process.cpuUsage(this.benchStart);
    const system = readSystemCpu();
    const serverEnd = this.serverPid === undefined ? undefined : readCpuMs(this.serverPid);
    const backendEnd = new Map<number, number>();
    for (const pid of new Set([...this.backendStart.keys(), ...await backendPids(this.databaseUrl)])) {
      const cpu = readCpuMs(pid);
      if (cpu !== undefined) backendEnd.set(pid, cpu);
    }
    let postgresMs = 0;
    for (const [pid, end] of backendEnd) postgresMs += end - (this.backendStart.get(pid) ?? 0);
    const busy = system && this.systemStart ? (system.busy - this.systemStart.busy) / Math.max(1, system.total - this.systemStart.total) : undefined;
    return {
      elapsedMs: Math.round(elapsedMs),
      ...(serverEnd !== undefined && this.serverStart !== undefined ? { serverMs: serverEnd - this.serverStart } : {}),
      ...(backendEnd.size > 0 ? { postgresMs } : {}),
      benchMs: (bench.user + bench.system) / 1000,
      ...(busy !== undefined ? { machineBusyPercent: Math.round(busy * 1000) / 10 } : {}),
      loadAverage1m: loadAverage()[0],
    };
  }
}

export function perRequest(totals: CpuTotals, requests: number): CpuFigures {
  const divide = (ms: number) => (requests > 0 ? Math.round((ms / requests) * 1000) / 1000 : NaN);
  return {
    ...(totals.serverMs !== undefined ? { serverMsPerRequest: divide(totals.serverMs) } : {}),
    ...(totals.postgresMs !== undefined ? { postgresMsPerRequest: divide(totals.postgresMs) } : {}),
    benchMsPerRequest: divide(totals.benchMs),
    ...(totals.machineBusyPercent !== undefined ? { machineBusyPercent: totals.machineBusyPercent } : {}),
    loadAverage1m: totals.loadAverage1m,
  };
}

/** CPU used per second of wall clock, as a percentage of one core. */
export const percentOfOneCore = (ms: number | undefined, elapsedMs: number) => (ms === undefined ? undefined : Math.round((ms / elapsedMs) * 1000) / 10);
