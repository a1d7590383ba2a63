import fs from 'node:fs';
import path from 'node:path';

// Summarises a V8 .cpuprofile (node --cpu-prof): self time by package or source file, and by
// function, so the report can say where the server's CPU went without opening a profiler.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  /** Sampled time, in ms, and the share of it that was idle (waiting for I/O). */
  totalMs: number;
  idlePercent: number;
  /** Busy time by where the code lives: a package under node_modules, a file under src/, Node's internals, GC. */
  byPlace: Array<{ place: string; ms: number; percentOfBusy: number }>;
  byFunction: Array<{ function: string; place: string; ms: number; percentOfBusy: number }>;
}

/**
 * The main thread's profile in `directory`, summarised; undefined when there is none. Node names
 * profiles CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile; thread 0 is the main thread (tsx adds a
 * loader thread whose profile holds only module compilation).
 */
export function summariseServerProfile(directory: string, top = 20): ProfileSummary | undefined {
  if (!fs.existsSync(directory)) return undefined;
  const files = fs.readdirSync(directory).filter((name) => name.endsWith('.cpuprofile'));
  const main = files.find((name) => name.split('.')[4] === '0') ?? files.sort((a, b) => fs.statSync(path.join(directory, b)).size - fs.statSync(path.join(directory, a)).size)[0];
  return main ? summariseProfile(path.join(directory, main), top) : undefined;
}

export function summariseProfile(file: string, top = 20): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  // Self time of a node: the time deltas of the samples that landed in it.
  const selfUs = new Map<number, number>();
  profile.samples.forEach((nodeId, index) => selfUs.set(nodeId, (selfUs.get(nodeId) ?? 0) + (profile.timeDeltas[index] ?? 0)));

  let totalUs = 0;
  let idleUs = 0;
  const places = new Map<string, number>();
  const functions = new Map<string, { place: string; us: number }>();
  for (const [nodeId, us] of selfUs) {
    const frame = byId.get(nodeId)!.callFrame;
    totalUs += us;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const place = placeOf(frame.url, frame.functionName);
    places.set(place, (places.get(place) ?? 0) + us);
    const name = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    const entry = functions.get(name) ?? { place, us: 0 };
    entry.us += us;
    functions.set(name, entry);
  }
  const busyUs = Math.max(1, totalUs - idleUs);
  const percent = (us: number) => Math.round((us / busyUs) * 1000) / 10;
  return {
    file,
    totalMs: Math.round(totalUs / 1000),
    idlePercent: Math.round((idleUs / Math.max(1, totalUs)) * 1000) / 10,
    byPlace: [...places].sort((a, b) => b[1] - a[1]).slice(0, top).map(([place, us]) => ({ place, ms: Math.round(us / 1000), percentOfBusy: percent(us) })),
    byFunction: [...functions].sort((a, b) => b[1].us - a[1].us).slice(0, top)
      .map(([name, { place, us }]) => ({ function: name, place, ms: Math.round(us / 1000), percentOfBusy: percent(us) })),
  };
}

function placeOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (packageMatch) return packageMatch[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const sourceMatch = /\/(src\/.+)$/.exec(url);
  return sourceMatch ? sourceMatch[1]! : url;
}

function shortUrl(url: string): string {
  const packageMatch = /node_modules\/(.+)$/.exec(url);
  if (packageMatch) return packageMatch[1]!;
  return /\/(src\/.+)$/.exec(url)?.[1] ?? url;
}

export function formatProfile(summary: ProfileSummary): string {
  const lines = [
    `Server CPU profile (${path.basename(summary.file)}): ${(summary.totalMs / 1000).toFixed(1)} s sampled, ${summary.idlePercent}% idle. Busy time by place:`,
    '',
    '| Place | ms | % of busy |',
    '|---|---:|---:|',
    ...summary.byPlace.map((row) => `| ${row.place} | ${row.ms.toLocaleString('en')} | ${row.percentOfBusy} |`),
    '',
    '| Function (self time) | Place | ms | % of busy |',
    '|---|---|---:|---:|',
    ...summary.byFunction.map((row) => `| \`${row.function.replace(/\|/g, '\\|')}\` | ${row.place} | ${row.ms.toLocaleString('en')} | ${row.percentOfBusy} |`),
  ];
  return lines.join('\n');
}
