import fs from 'node:fs';
import os from 'node:os';

// Reading other processes' memory and CPU from /proc (Linux). Elsewhere every figure is undefined.

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux architecture Node supports.

/** Resident memory of a process, from /proc/<pid>/status: current (VmRSS) and peak (VmHWM), in bytes. */
export function readMemory(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    const rss = kib('VmRSS');
    const peak = kib('VmHWM');
    return Number.isFinite(rss) ? { rss, peak: Number.isFinite(peak) ? peak : rss } : undefined;
  } catch {
    return undefined; // gone, or not Linux
  }
}

/** CPU time (user + system) a process has used so far, in milliseconds. */
export function readCpuMs(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * Polls a process's peak resident memory while it runs. VmHWM is the kernel's own high-water mark,
 * so short peaks between polls still count; polling only keeps the last value before it exits.
 */
export class MemoryWatch {
  private peakBytes = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number, intervalMs = 250) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    this.sample();
  }

  sample(): void {
    const memory = readMemory(this.pid);
    if (memory) this.peakBytes = Math.max(this.peakBytes, memory.peak, memory.rss);
  }

  /** The highest value seen so far, in bytes (0 when nothing could be read). */
  get peak(): number {
    return this.peakBytes;
  }

  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return this.peakBytes;
  }
}

/** The `uptime` figures: load averages over 1, 5 and 15 minutes (runnable processes, not percent). */
export function loadAverage(): [number, number, number] {
  const [one, five, fifteen] = os.loadavg();
  return [round2(one ?? 0), round2(five ?? 0), round2(fifteen ?? 0)];
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** Busy and total CPU time of the whole machine so far (all cores, /proc/stat), in clock ticks. */
export function readSystemCpu(): { busy: number; total: number } | undefined {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const total = values.reduce((sum, value) => sum + value, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}
