// npm run bench:scale [-- --step-seconds 15] [-- --rates 100,200,…] [-- --only default,one,cores,kamailio,baseline]
//                     [-- --cpu-prof DIR] [-- --baseline-ref 62607e4] [-- --baseline-rate 400] [-- --keep] [-- --all-rates]
//
// The notify path as users run it: `chakushin start` (what `npm start` execs) with every part embedded —
// the SIP engine and the app workers, PostgreSQL, the SMTP catcher — driven by a SIPp caller through the
// 着信お知らせメール B2BUA to a SIPp line, one mail per call. Each topology is ramped rate by rate until a
// step is not clean (a failed call, a mail not out 20 s after the step, or p99 INVITE→180 at 50 ms or
// more). Per step: post-dial delay (INVITE→180 as the caller sees it, and what the node adds over SIPp
// UAC→UAS direct at that rate), call end → SMTP 250 p50/p99, and CPU per call of the node's whole
// process tree (node, workers, PostgreSQL) from the step's first call until its last mail is out.
//
// Topologies, in one run: default (src/config.ts defaultWorkers: one per core), one worker (WORKERS=1),
// one per core (WORKERS = cores, when that is not the default), the default node behind
// Kamailio (docker/kamailio/kamailio.cfg), and --baseline-ref (the 2026-11-22 code) beside this code at
// --baseline-rate. --cpu-prof writes each process's V8 profile and says where a call's CPU went;
// --all-rates runs every rate listed even after one that is not clean (for profiles at given rates).
// DATABASE_URL: the nodes use that PostgreSQL instead of their embedded one (its CPU is then not counted).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { defaultWorkers, loadConfig } from '../../src/config.ts';
import { openDatabase, type Database } from '../../src/store/database.ts';
import { startKamailio } from '../support/kamailio.ts';
import { freePort } from '../support/ports.ts';
import { runSipp, startSipp } from '../support/sipp.ts';
import { cpuSince, startBenchNode, treeCpuSeconds, type BenchNode } from './node-process.ts';
import { summarise } from './profile-summary.ts';
import { arg, pct } from './support.ts';

const here = import.meta.dirname;
const repo = path.resolve(here, '../..');
const UAC = path.join(here, '../sipp/notify-uac-answer.xml');
const UAS = path.join(here, '../sipp/notify-uas-answer.xml');
const CALLED = '0611112222';
const CALLER = '0612345678';

const stepSeconds = Number(arg('step-seconds', '15'));
const rates = arg('rates', '100,200,300,400,500,600,700,800').split(',').map(Number);
const only = new Set(arg('only', 'default,one,cores,kamailio,baseline').split(','));
const cpuProfDir = process.argv.includes('--cpu-prof') ? path.resolve(arg('cpu-prof', 'var/bench/cpu-prof')) : undefined;
/** Older commits run beside this code at --baseline-rate: the 2026-11-22 code, and whatever else is named. */
const baselineRefs = arg('baseline-ref', '62607e4').split(',');
const baselineRate = Number(arg('baseline-rate', '400'));
/** A step counts only if its mails are all out this long after its last call. */
const drainLimitMs = Number(arg('drain-ms', '20000'));
const CLEAN_P99_MS = 50;
/** Extra NODE_OPTIONS for every topology's node (e.g. V8 flags to try). */
const nodeOptions = arg('node-options', '');

interface Step {
  rate: number;
  calls: number;
  ok: number;
  p50: number;
  p99: number;
  addedP50: number;
  addedP99: number;
  mailP50: number;
  mailP99: number;
  mailsPending: number;
  cpuMsPerCall: number;
  /** ms per call by process: service, workers, postgres. */
  cpuParts: Record<string, number>;
  /** PostgreSQL commits per call (the bench's own few queries included). */
  commitsPerCall: number;
  load: number;
  clean: boolean;
  /** The step's span on the monotonic clock (µs), first call to last mail out: for reading CPU profiles. */
  window: { fromUs: number; toUs: number };
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

/** Where a call's CPU went in one step, from the node's CPU profiles (one per process): ms per call by part. */
function profileOf(dir: string, s: Step): [string, number][] {
  const parts = new Map<string, number>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'))) {
    for (const [part, ms] of summarise(path.join(dir, f), s.window).parts) parts.set(part, (parts.get(part) ?? 0) + ms / s.calls);
  }
  return [...parts].sort((a, b) => b[1] - a[1]);
}

const directCache = new Map<number, { p50: number; p99: number }>();

async function sippStep(rate: number, calls: number, remote: { host: string; port: number } | 'direct', uasPort: number) {
  const timeoutMs = (calls / rate) * 1000 + 30_000;
  const uas = await startSipp({ scenario: UAS, localPort: uasPort, calls, timeoutMs, extraArgs: ['-d', '0', '-max_recv_loops', '10000'] });
  const r = await runSipp({
    scenario: UAC, remote: remote === 'direct' ? { port: uasPort } : remote, service: remote === 'direct' ? 'line' : CALLED,
    calls, rate, limit: 20_000, timeoutMs, traceRtt: true,
    keys: { from: `<sip:${CALLER}@127.0.0.1>`, hdr1: 'X-Bench: 1', hdr2: 'X-Bench: 1' },
    extraArgs: ['-d', '100'],
  });
  await uas.stop();
  const ok = r.stats?.successful ?? 0;
  const rtt180 = r.rtt.get(1) ?? [];
  if (calls - ok > 0) console.log(`    SIPp errors (first lines): ${r.errors.split('\n').slice(0, 4).join(' | ')}`);
  return { ok, p50: pct(rtt180, 50), p99: pct(rtt180, 99) };
}

async function direct(rate: number, uasPort: number) {
  let d = directCache.get(rate);
  if (!d) {
    const r = await sippStep(rate, rate * Math.min(stepSeconds, 10), 'direct', uasPort);
    d = { p50: r.p50, p99: r.p99 };
    directCache.set(rate, d);
  }
  return d;
}

const load1 = () => os.loadavg()[0]!;

/** Transactions committed in the node's database so far (each statement outside a transaction is one). */
async function commits(pool: pg.Pool): Promise<number> {
  return Number((await pool.query('select xact_commit from pg_stat_database where datname = current_database()')).rows[0].xact_commit);
}

async function maxCallId(pool: pg.Pool): Promise<number> {
  return Number((await pool.query('select coalesce(max(id), 0) as id from incoming_call')).rows[0].id);
}

/** Waits for the step's mails; returns those still pending at the deadline and the end → 250 latencies. */
async function mailsOf(pool: pg.Pool, sinceId: number): Promise<{ pending: number; lat: number[] }> {
  const deadline = Date.now() + drainLimitMs;
  let pending = 0;
  for (;;) {
    pending = (await pool.query(
      `select count(*)::int as n from mail_outbox o join incoming_call i on i.id = o.incoming_call_id where i.id > $1 and o.state = 'pending'`, [sinceId])).rows[0].n;
    if (pending === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const lat = (await pool.query<{ ms: number }>(
    `select extract(epoch from (o.sent_at - i.end_at)) * 1000 as ms from mail_outbox o join incoming_call i on i.id = o.incoming_call_id
      where i.id > $1 and o.state = 'sent'`, [sinceId])).rows.map((r) => Number(r.ms));
  return { pending, lat };
}

interface Topology {
  label: string;
  root: string;
  env?: Record<string, string>;
  /** Where SIPp sends (the node itself, or Kamailio in front of it); `cpu`: the front's CPU seconds so far. */
  via?: (node: BenchNode) => Promise<{ target: { host: string; port: number }; cpu(): number; stop(): Promise<void> }>;
  rates: number[];
}

async function provision(node: BenchNode, uasPort: number): Promise<void> {
  const file = path.join(node.varDir, 'bench-subscribers.json');
  await writeFile(file, JSON.stringify({
    contracts: [{
      id: 'BENCH', region: 'west', pattern: 'A', authUnit: 'line',
      numbers: [{
        number: CALLED, role: 'main', services: ['chakushin_mail'], target: `sip:${CALLED}@127.0.0.1:${uasPort}`,
        notify: { started: true, destinations: [{ address: 'bench@example.jp', send: true }], designatedOnly: false, unansweredOnly: false, designated: [] },
      }],
    }],
  }));
  const r = await node.cli(['provision', file]);
  if (r.code !== 0) throw new Error(`provisioning failed: ${r.out}`);
}

async function ramp(t: Topology, scratch: string): Promise<Step[]> {
  const varDir = path.join(scratch, t.label.replace(/\W+/g, '-'));
  const profDir = cpuProfDir ? path.join(cpuProfDir, t.label.replace(/\W+/g, '-')) : undefined;
  const nodeArgs = profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];
  const env = { LOG_LEVEL: arg('log-level', 'info'), ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}), ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}), ...t.env };
  const node = await startBenchNode({ root: t.root, varDir, env, nodeArgs });
  const uasPort = await freePort('udp');
  let db: Database | undefined;
  const front = t.via ? await t.via(node) : undefined;
  const target = front?.target ?? node.sip;
  const steps: Step[] = [];
  try {
    await provision(node, uasPort);
    // An older checkout may keep its embedded database where this code cannot open it: then no mail figures.
    db = await openDatabase(loadConfig({ env: { VAR_DIR: varDir, EMBEDDED_PG_PORT: node.env.EMBEDDED_PG_PORT!, LOG_LEVEL: 'silent', ...(env.DATABASE_URL ? { DATABASE_URL: env.DATABASE_URL } : {}) } }), undefined, { migrate: false })
      .catch(() => undefined);
    console.log(`\n${t.label}  (pid ${node.child.pid}, ${t.root === repo ? 'this checkout' : t.root})`);
    await sippStep(20, 60, target, uasPort); // warm-up: JIT, pools, caches
    for (const rate of t.rates) {
      const calls = rate * stepSeconds;
      const d = await direct(rate, uasPort);
      const since = db ? await maxCallId(db.pool) : 0;
      const commits0 = db ? await commits(db.pool) : 0;
      const loadBefore = load1();
      const fromUs = nowUs();
      const cpu0 = node.cpuSeconds();
      const front0 = front?.cpu() ?? 0;
      const r = await sippStep(rate, calls, target, uasPort);
      // Without a database to watch, the step's mails get a fixed while to go out before CPU is read.
      const mails = db ? await mailsOf(db.pool, since) : await new Promise<{ pending: number; lat: number[] }>((r) => setTimeout(() => r({ pending: 0, lat: [] }), 10_000));
      const commitsPerCall = db ? (await commits(db.pool) - commits0) / calls : NaN;
      const parts = cpuSince(cpu0, node.cpuSeconds());
      const cpu = Object.values(parts).reduce((a, b) => a + b, 0);
      if (front) parts.kamailio = front.cpu() - front0;
      const s: Step = {
        rate, calls, ok: r.ok, p50: r.p50, p99: r.p99, addedP50: r.p50 - d.p50, addedP99: r.p99 - d.p99,
        mailP50: pct(mails.lat, 50), mailP99: pct(mails.lat, 99), mailsPending: mails.pending,
        commitsPerCall, cpuMsPerCall: (cpu * 1000) / calls, cpuParts: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, (v * 1000) / calls])), load: Math.max(loadBefore, load1()),
        clean: r.ok === calls && r.p99 < CLEAN_P99_MS && mails.pending === 0,
        window: { fromUs, toUs: nowUs() },
      };
      steps.push(s);
      console.log(`  ${String(rate).padStart(4)} cps: ${s.ok}/${calls} ok  INVITE→180 p50/p99 ${s.p50.toFixed(0)}/${s.p99.toFixed(0)} ms ` +
        `(added ${s.addedP50.toFixed(0)}/${s.addedP99.toFixed(0)})  end→SMTP 250 p50/p99 ${db ? `${s.mailP50.toFixed(0)}/${s.mailP99.toFixed(0)} ms` : 'n/a'}` +
        `${s.mailsPending ? ` (${s.mailsPending} pending)` : ''}  ${s.commitsPerCall.toFixed(2)} commits/call  CPU ${s.cpuMsPerCall.toFixed(2)} ms/call (${Object.entries(s.cpuParts).filter(([, v]) => v >= 0.01).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')})  load ${s.load.toFixed(1)}  ${s.clean ? 'clean' : 'NOT clean'}`);
      if (!s.clean && !process.argv.includes('--all-rates')) break;
    }
  } finally {
    await db?.close();
    await front?.stop();
    const code = await node.stop();
    if (code !== 0) console.log(`  (node exited ${code}; see ${varDir}/service.log)`);
  }
  if (profDir) {
    await writeFile(path.join(profDir, 'steps.json'), JSON.stringify(steps.map((s) => ({ rate: s.rate, calls: s.calls, window: s.window }))));
    for (const s of steps) {
      const top = profileOf(profDir, s).slice(0, 14);
      console.log(`  where a call's CPU went at ${s.rate} cps (node processes, self time; profiles in ${profDir}):`);
      console.log(`    ${top.map(([part, ms]) => `${part} ${ms.toFixed(3)}`).join(', ')} ms/call`);
    }
  }
  return steps;
}

/** Kamailio's dispatcher in front of the node, as docker/kamailio runs it. */
async function viaKamailio(node: BenchNode) {
  const k = await startKamailio({ nodes: [node.sip], pingSec: 2 });
  return { target: { host: '127.0.0.1', port: k.port }, cpu: () => Object.values(treeCpuSeconds(k.pid)).reduce((a, b) => a + b, 0), stop: () => k.stop() };
}

/** The tree of an older commit, unpacked under var/bench with its own node_modules (made once). */
function checkoutOf(ref: string): string {
  const sha = execFileSync('git', ['rev-parse', '--short', ref], { cwd: repo, encoding: 'utf8' }).trim();
  const dir = path.join(repo, 'var/bench', `checkout-${sha}`);
  if (!existsSync(path.join(dir, 'node_modules'))) {
    execFileSync('bash', ['-c', `rm -rf "${dir}" && mkdir -p "${dir}" && git archive ${sha} | tar -x -C "${dir}"`], { cwd: repo });
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--silent'], { cwd: dir, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`npm ci failed in ${dir}`);
  }
  return dir;
}

function highest(steps: Step[]): Step | undefined {
  return steps.filter((s) => s.clean).at(-1);
}

const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(0));
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? (a / b).toFixed(2) : 'n/a');

/** The figures of one topology, and how they compare with another at the rates both reached. */
function compare(name: string, steps: Step[], base?: { name: string; steps: Step[] }): void {
  const best = highest(steps);
  const baseBest = base && highest(base.steps);
  console.log(`  ${name}: highest clean rate ${best ? `${best.rate} cps` : 'none'}` +
    `${base ? ` (${base.name}: ${baseBest ? `${baseBest.rate} cps` : 'none'}; ratio ${ratio(best?.rate, baseBest?.rate)})` : ''}`);
  for (const s of steps) {
    const b = base?.steps.find((x) => x.rate === s.rate);
    console.log(`    ${String(s.rate).padStart(4)} cps: INVITE→180 p50/p99 ${ms(s.p50)}/${ms(s.p99)} ms` +
      `${b ? ` vs ${ms(b.p50)}/${ms(b.p99)} (p99 ratio ${ratio(s.p99, b.p99)})` : ''}` +
      `; end→SMTP 250 p50/p99 ${ms(s.mailP50)}/${ms(s.mailP99)} ms; CPU ${s.cpuMsPerCall.toFixed(2)} ms/call${s.clean ? '' : ' (not clean)'}`);
  }
}

async function main(): Promise<void> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'chakushin-bench-scale-'));
  // As root, PostgreSQL runs as a user of its own, which must reach the nodes' data under it.
  await chmod(scratch, 0o755);
  const cpus = os.availableParallelism();
  const workers = defaultWorkers(cpus);
  console.log(`bench:scale ${new Date().toISOString()} — ${stepSeconds} s per step, rates ${rates.join(',')}, ${cpus} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('topology measured: `chakushin start` as `npm start` runs it — one node: the built-in SIP engine in the node process, ' +
    `app workers (default one per core: ${workers}), embedded PostgreSQL, the built-in SMTP catcher — SIPp caller → node (or Kamailio → node) → SIPp line`);
  const r: Record<string, Step[]> = {};
  const w = (n: number) => `${n} worker${n === 1 ? '' : 's'}`;
  try {
    if (only.has('default')) r.default = await ramp({ label: `this code, ${w(workers)} (default)`, root: repo, rates }, scratch);
    if (only.has('one') && workers !== 1) r.one = await ramp({ label: 'this code, 1 worker', root: repo, env: { WORKERS: '1' }, rates }, scratch);
    if (only.has('cores') && workers !== cpus) r.cores = await ramp({ label: `this code, ${w(cpus)} (one per core)`, root: repo, env: { WORKERS: String(cpus) }, rates }, scratch);
    if (only.has('kamailio')) r.kamailio = await ramp({ label: `this code, ${w(workers)}, behind Kamailio`, root: repo, rates, via: viaKamailio }, scratch);
    if (only.has('baseline')) {
      for (const ref of baselineRefs) r[`ref ${ref}`] = await ramp({ label: `${ref} at ${baselineRate} cps`, root: checkoutOf(ref), rates: [baselineRate] }, scratch);
      r.now = await ramp({ label: `this code, ${w(workers)}, at ${baselineRate} cps`, root: repo, rates: [baselineRate] }, scratch);
    }
  } finally {
    if (process.argv.includes('--keep')) console.log(`(kept ${scratch})`);
    else await rm(scratch, { recursive: true, force: true });
  }
  console.log(`
summary (${new Date().toISOString()}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}):`);
  if (r.default) compare(`${w(workers)} (default)`, r.default);
  for (const [key, steps] of Object.entries(r).filter(([k]) => k === 'one' || k === 'cores')) {
    compare(key === 'one' ? '1 worker' : w(cpus), steps, r.default && { name: 'default', steps: r.default });
  }
  if (r.kamailio) compare('through Kamailio', r.kamailio, r.default && { name: 'direct', steps: r.default });
  const n = r.now?.[0];
  for (const ref of only.has('baseline') && n ? baselineRefs : []) {
    const o = r[`ref ${ref}`]?.[0];
    if (!o || !n) continue;
    console.log(`  at ${baselineRate} cps, side by side: this code INVITE→180 p50/p99 ${ms(n.p50)}/${ms(n.p99)} ms, ` +
      `${ref} ${ms(o.p50)}/${ms(o.p99)} ms (p50 ratio ${ratio(n.p50, o.p50)}, p99 ratio ${ratio(n.p99, o.p99)}); ` +
      `end→SMTP 250 p50/p99 ${ms(n.mailP50)}/${ms(n.mailP99)} vs ${ms(o.mailP50)}/${ms(o.mailP99)} ms; CPU per call ${n.cpuMsPerCall.toFixed(2)} vs ${o.cpuMsPerCall.toFixed(2)} ms`);
  }
}

await main();
