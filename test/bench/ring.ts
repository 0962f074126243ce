// npm run bench:ring [-- --calls 1200] [-- --rate 40] [-- --scale 0.1] [-- --log info]
//
// Long-ring soak: many concurrent calls through the built-in engine (its own process, so a crash
// shows as a dead child, not a dead bench) and the test B2BUA (test/sip-engine/app.ts), with ring
// times drawn at random across the timer edges and four endings, each a SIPp UAC/UAS pair:
//   busy       the line rings U[C − 2·64·T1, C) and refuses with 486 — the window where timer D of the
//              B leg outlives timer C (the crash of issue 10);
//   answered   the line rings U[0, C) and answers; the caller hangs up after 0.5 s;
//   abandoned  the caller CANCELs after U[C − 2·64·T1, C − 0.3 s);
//   past C     the line never answers: the engine CANCELs it at timer C and relays the line's 487.
// Every RFC 3261 timer runs at --scale of its real value (0.1: T1 50 ms, timer C 18.5 s), the same
// factor for all, so each call sits where the real one does against the real timers.
//
// Baseline: the busy, answered and abandoned mixes again, SIPp UAC → UAS directly (no engine; past C
// has no direct equivalent, as SIPp has no timer C). Prints, per ending, calls ended through the engine
// against direct, and whether the engine survived (alive, answering, no contained fault, no illegal
// transition) and leaked (transactions/dialogs left 64·T1 after the last call).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../support/ports.ts';
import { runSipp, startSipp } from '../support/sipp.ts';
import { arg, BenchChild, serveBenchParent } from './support.ts';

const here = import.meta.dirname;
const sippDir = path.join(here, '../sipp');

interface Counters { transactions: number; dialogs: number; faults: number; illegal: number; timerC: number; timeouts: number; rss: number }

// ───────────────────────────── engine child ─────────────────────────────

async function engineChild(): Promise<void> {
  const { default: pino } = await import('pino');
  const { startEngine } = await import('../../src/sip-engine/index.ts');
  const { DEFAULT_TIMERS } = await import('../../src/sip-engine/transactions.ts');
  const scale = Number(arg('scale', '0.1'));
  const engine = await startEngine({
    sip: { host: '127.0.0.1', port: Number(arg('sip', '0')) }, admin: { host: '127.0.0.1', port: Number(arg('admin', '0')) },
    secret: 'bench', logger: pino({ level: arg('log', 'warn') }),
    timers: { t1: DEFAULT_TIMERS.t1 * scale, t2: DEFAULT_TIMERS.t2 * scale, t4: DEFAULT_TIMERS.t4 * scale, c: DEFAULT_TIMERS.c * scale },
  });
  serveBenchParent(() => {
    const c = engine.counters;
    const out: Counters = {
      transactions: c.transactions(), dialogs: c.dialogs(), faults: c.faults, illegal: c.illegalTransitions,
      timerC: c.timerCCancels, timeouts: c.transactionTimeouts, rss: process.memoryUsage().rss / 2 ** 20,
    };
    return out;
  }, () => engine.close());
}

// ───────────────────────────── scenarios ─────────────────────────────

/** The suite's scenarios with their fixed pause made a uniform random one (SIPp's own distribution). */
async function scenarios(dir: string, ms: { c: number; window: number }) {
  const read = (f: string) => readFile(path.join(sippDir, f), 'utf8');
  const uniform = (min: number, max: number) => `<pause distribution="uniform" min="${Math.round(min)}" max="${Math.round(max)}"/>`;
  const lo = ms.c - 2 * ms.window;
  const files = {
    busyUas: (await read('engine-uas-ring-486.xml')).replace('<pause/>', uniform(lo, ms.c - 50)),
    finalUac: await read('engine-uac-b2b-ring-final.xml'),
    answerUas: (await read('engine-uas-b2b.xml')).replace('  <send retrans="500">', `  ${uniform(0, ms.c - 50)}\n  <send retrans="500">`),
    answerUac: await read('engine-uac-b2b.xml'),
    ringUas: await read('engine-uas-ring-cancel.xml'),
    cancelUac: (await read('engine-uac-b2b-ring-cancel.xml')).replace('<pause/>', uniform(lo, ms.c - 300)),
  };
  const out = {} as Record<keyof typeof files, string>;
  for (const [k, text] of Object.entries(files)) {
    const f = path.join(dir, `${k}.xml`);
    await writeFile(f, text);
    out[k as keyof typeof files] = f;
  }
  return out;
}

interface Mix { name: string; uac: string; uas: string; calls: number }
interface MixResult { name: string; calls: number; ended: number; failed: number }

async function runMix(mix: Mix, rate: number, remote: ((uasPort: number) => { port: number; service: string }), timeoutMs: number): Promise<MixResult> {
  const uasPort = await freePort('udp');
  // No -m on the callee: a late retransmission (a CANCEL, say) counts as a call of its own in SIPp and
  // would end it before the last INVITEs. It is stopped once the caller side is done; the caller counts.
  const uas = await startSipp({ scenario: mix.uas, localPort: uasPort, timeoutMs, extraArgs: ['-max_recv_loops', '10000'] });
  const to = remote(uasPort);
  const uac = await runSipp({
    scenario: mix.uac, remote: { port: to.port }, service: to.service, calls: mix.calls, rate, limit: 2000, timeoutMs,
    extraArgs: ['-max_recv_loops', '10000', '-max_sched_loops', '10000'],
  });
  await new Promise((r) => setTimeout(r, 1000));
  await uas.stop();
  const ended = uac.stats?.successful ?? 0;
  return { name: mix.name, calls: mix.calls, ended, failed: mix.calls - ended };
}

async function main(): Promise<void> {
  const total = Number(arg('calls', '1200'));
  const rate = Number(arg('rate', '40'));
  const scale = Number(arg('scale', '0.1'));
  const c = 185_000 * scale;
  const window = 64 * 500 * scale;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-ring-'));
  const f = await scenarios(dir, { c, window });
  const per = Math.floor(total / 4);
  const mixes: Mix[] = [
    { name: 'busy (486 in the timer-D/timer-C window)', uac: f.finalUac, uas: f.busyUas, calls: per },
    { name: 'answered after U[0, C)', uac: f.answerUac, uas: f.answerUas, calls: per },
    { name: 'abandoned (caller CANCEL near C)', uac: f.cancelUac, uas: f.ringUas, calls: per },
    { name: 'past timer C (engine CANCELs)', uac: f.finalUac, uas: f.ringUas, calls: total - 3 * per },
  ];
  const callTime = (n: number) => (n / (rate / 4)) * 1000 + c + 30_000;
  console.log(`bench:ring — ${total} calls at ${rate} cps in four mixes, timers × ${scale} (timer C ${c / 1000} s, 64·T1 ${window / 1000} s)`);

  console.log('topology measured: the built-in engine in a process of its own with a test B2BUA, timers scaled: the engine\'s timers, not `npm start`');
  // Baseline: the same mixes SIPp to SIPp (no timer C there, so no past-C mix).
  const t0 = Date.now();
  const direct = await Promise.all(mixes.slice(0, 3).map((m) => runMix(m, rate / 4, (port) => ({ port, service: 'callee' }), callTime(m.calls))));
  const directSec = (Date.now() - t0) / 1000;

  const [sipPort, adminPort] = [await freePort('both'), await freePort('tcp')];
  const engine = await BenchChild.start(path.join(here, 'ring.ts'), ['--sip', String(sipPort), '--admin', String(adminPort), '--scale', String(scale), '--log', arg('log', 'warn')]);
  const counters = () => engine.ask<Counters>({});
  const { startTestApp } = await import('../sip-engine/app.ts');
  const app = await startTestApp({ host: '127.0.0.1', port: adminPort }, 'bench');
  const peak = { transactions: 0, dialogs: 0, rss: 0 };
  const sampler = setInterval(() => {
    void counters().then((s) => {
      if (!s) return;
      peak.transactions = Math.max(peak.transactions, s.transactions);
      peak.dialogs = Math.max(peak.dialogs, s.dialogs);
      peak.rss = Math.max(peak.rss, s.rss);
    });
  }, 1000);
  const t1 = Date.now();
  const through = await Promise.all(mixes.map((m) => runMix(m, rate / 4, (uasPort) => ({ port: sipPort, service: `b2b-${uasPort}` }), callTime(m.calls))));
  const engineSec = (Date.now() - t1) / 1000;
  clearInterval(sampler);
  await new Promise((r) => setTimeout(r, window + 2000)); // retained transactions expire (64·T1)
  const end = await counters();
  const alive = end ? (await runSipp({ scenario: path.join(sippDir, 'engine-uac-options.xml'), remote: { port: sipPort }, service: 'options', calls: 1, timeoutMs: 5000 })).exitCode === 0 : false;
  app.close();
  engine.stop();
  await rm(dir, { recursive: true, force: true });

  console.log('\nending                                      calls  ended via engine  ended direct');
  for (const r of through) {
    const d = direct.find((x) => x.name === r.name);
    console.log(`${r.name.padEnd(44)}${String(r.calls).padStart(5)}  ${String(r.ended).padStart(16)}  ${d ? String(d.ended).padStart(12) : '           —'}`);
  }
  const ended = through.reduce((n, r) => n + r.ended, 0);
  const comparable = through.slice(0, 3).reduce((n, r) => n + r.ended, 0);
  const directEnded = direct.reduce((n, r) => n + r.ended, 0);
  console.log(`\nsurvived: ${alive && end && end.faults === 0 && end.illegal === 0 ? 'yes' : 'NO'} (engine ${end ? 'alive' : `exited ${engine.exited}`}, OPTIONS ${alive ? 'answered' : 'unanswered'}, faults ${end?.faults ?? '?'}, illegal transitions ${end?.illegal ?? '?'})`);
  console.log(`ended: ${ended}/${total} through the engine; ratio to direct for the three comparable mixes ${(comparable / Math.max(1, directEnded)).toFixed(3)} (${comparable}/${directEnded})`);
  console.log(`leaked: ${end ? `${end.transactions} transactions, ${end.dialogs} dialogs` : 'unknown'} ${(window + 2000) / 1000} s after the last call`);
  console.log(`timer C CANCELs ${end?.timerC ?? '?'} (expected ${mixes[3]?.calls}), client timeouts ${end?.timeouts ?? '?'}; peak ${peak.transactions} transactions, ${peak.dialogs} dialogs, engine RSS peak ${peak.rss.toFixed(1)} MB, end ${end?.rss.toFixed(1) ?? '?'} MB`);
  console.log(`wall time: direct ${directSec.toFixed(0)} s, through the engine ${engineSec.toFixed(0)} s`);
  process.exit(0);
}

if (process.argv.includes('--engine-child')) await engineChild();
else await main();
