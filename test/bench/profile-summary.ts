// npx tsx test/bench/profile-summary.ts DIR|FILE.cpuprofile… [-- --calls N] [-- --top 25]
//
// Where a node's CPU went, from V8 CPU profiles (`node --cpu-prof`, as `bench:scale --cpu-prof` writes
// them, one per process): self time by part — this project's modules by folder, each npm package, node's
// own internals, GC — and the busiest functions. With --calls, also per call.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { arg } from './support.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The part of the code a frame belongs to: src/<folder>, an npm package, node internals, or V8's own. */
export function partOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)' || functionName === '(program)' || functionName === '(root)') return functionName;
    return `native ${functionName || '(anonymous)'}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm ${pkg[1]}`;
  if (url.startsWith('node:')) return `node ${url.slice(5).split('/')[0]}`;
  const src = /\/(src|test|flows)\/(.*)$/.exec(url);
  if (src) {
    const [dir, rest] = [src[1], src[2]!];
    const folder = rest.includes('/') ? rest.slice(0, rest.indexOf('/')) : rest.replace(/\.ts$/, '');
    return `${dir}/${folder}`;
  }
  return url;
}

function files(args: string[]): string[] {
  return args.flatMap((a) => (statSync(a).isDirectory() ? readdirSync(a).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(a, f)) : [a]));
}

/**
 * Self time by part and by function; `window` (µs on the monotonic clock V8 and process.hrtime share)
 * keeps only the samples taken inside it, e.g. one benchmark step and its mail drain.
 */
export function summarise(file: string, window?: { fromUs: number; toUs: number }): { totalMs: number; busyMs: number; parts: Map<string, number>; fns: Map<string, number> } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /**
   * The part a sample is charged to: its own frame's, or — for node's internals and native code, which
   * run on some module's behalf (a socket write, a timer) — the nearest caller that is this project's
   * code or a package.
   */
  const owner = new Map<number, string>();
  const ownerOf = (id: number): string => {
    const known = owner.get(id);
    if (known) return known;
    const n = byId.get(id)!;
    let part = partOf(n.callFrame.url, n.callFrame.functionName);
    if (/^(node |native )/.test(part) && parent.has(id)) {
      const up = ownerOf(parent.get(id)!);
      if (!/^(node |native |\(program\)|\(root\))/.test(up)) part = up;
    }
    owner.set(id, part);
    return part;
  };
  const parts = new Map<string, number>();
  const fns = new Map<string, number>();
  let totalMs = 0;
  let busyMs = 0;
  let at = p.startTime;
  p.samples.forEach((id, i) => {
    at += p.timeDeltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) return;
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    const n = byId.get(id)!;
    const part = ownerOf(id);
    totalMs += ms;
    if (part === '(idle)') return;
    busyMs += ms;
    parts.set(part, (parts.get(part) ?? 0) + ms);
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${path.basename(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
    fns.set(fn, (fns.get(fn) ?? 0) + ms);
  });
  return { totalMs, busyMs, parts, fns };
}

function main(): void {
  const inputs = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  const calls = Number(arg('calls', '0'));
  const top = Number(arg('top', '25'));
  const from = Number(arg('from-us', 'NaN'));
  const window = Number.isFinite(from) ? { fromUs: from, toUs: Number(arg('to-us', 'Infinity')) } : undefined;
  for (const file of files(inputs)) {
    const s = summarise(file, window);
    const per = (ms: number) => (calls ? `  ${(ms / calls).toFixed(3)} ms/call` : '');
    console.log(`\n${file}: ${(s.totalMs / 1000).toFixed(1)} s profiled, busy ${(s.busyMs / 1000).toFixed(1)} s${per(s.busyMs)}`);
    for (const [part, ms] of [...s.parts].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`  ${((100 * ms) / s.busyMs).toFixed(1).padStart(5)} %  ${part}${per(ms)}`);
    }
    console.log('  busiest functions (self time):');
    for (const [fn, ms] of [...s.fns].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`  ${((100 * ms) / s.busyMs).toFixed(1).padStart(5)} %  ${fn}`);
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
