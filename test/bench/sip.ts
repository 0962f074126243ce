// npm run bench:sip [-- --step-seconds 10] [-- --rates 100,200,...] [-- --steady-seconds 50]
//                   [-- --soak 100000 --soak-rate 300] [-- --heap-snapshot DIR] [-- --cpu-prof DIR]
//
// SIPp drives INVITE→180→200→ACK→BYE through a drachtio-srf B2BUA (this process) and the built-in
// engine (its own process: this file again with --engine-child, so the B2BUA app's memory never
// counts as the engine's). The same ramp runs SIPp UAC→UAS directly as the ceiling.
//
// Phases: direct ramp → steady 300 cps through the engine (added delay, memory plateau) → engine ramp
// until calls fail → idle 64·T1 so retained transactions expire (memory at end). The optional soak
// (--soak N, instead of the phases above) runs N calls at one rate in a single SIPp run and samples engine
// memory every 10 s.
//
// Added delay = p50/p99 of SIPp's INVITE→180 / INVITE→200 through the engine minus the same percentile
// direct. SIPp's clock ticks in whole milliseconds, so the engine child also times each INVITE itself
// (µs): from the moment it reads the caller's INVITE to the moment it writes the 180/200 back, minus the
// callee leg (its INVITE written → its 180/200 read), correlated through a bench header on the B leg.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../support/ports.ts';
import { runSipp, startSipp, type SippResult } from '../support/sipp.ts';
import { arg, BenchChild, pct, serveBenchParent } from './support.ts';

const here = import.meta.dirname;
const UAC = path.join(here, '../sipp/engine-uac-b2b.xml');
const UAS = path.join(here, '../sipp/engine-uas-b2b.xml');
/** Header the bench B2BUA puts on the B-leg INVITE: the A leg's Call-ID, for the engine-side probe. */
const LEG_HEADER = 'X-Bench-A-Leg';
/** How long the engine keeps a finished call's transactions (64·T1 with T1 = 500 ms), plus slack. */
const RETENTION_MS = 32_000;

// ───────────────────────────── engine child ─────────────────────────────

interface MemSample { rss: number; heapUsed: number; external: number; arrayBuffers: number; transactions: number; dialogs: number }
interface ProbeStats { n: number; p50_180: number; p99_180: number; p50_200: number; p99_200: number; loopP99: number }
type ChildRequest = { type: 'mem'; gc: boolean } | { type: 'probe-reset' } | { type: 'probe' } | { type: 'snapshot'; dir: string };

async function engineChild(): Promise<void> {
  const dgram = await import('node:dgram');
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const v8 = await import('node:v8');
  const { default: pino } = await import('pino');
  const { startEngine } = await import('../../src/sip-engine/index.ts');

  // Probe: UDP in/out of the engine, timed with hrtime. Only INVITE/180/200 first lines are inspected.
  const callIdOf = (buf: Buffer): string | undefined => {
    const text = buf.toString('latin1', 0, Math.min(buf.length, 2048));
    return /\r\n(?:Call-ID|i)\s*:\s*([^\r\n]+)/i.exec(text)?.[1];
  };
  const aIn = new Map<string, number>(); // A Call-ID → INVITE read
  const bOut = new Map<string, { a: string; t: number }>(); // B Call-ID → INVITE written
  const bResp = new Map<string, { t180?: number; t200?: number }>(); // A Call-ID → B leg durations
  let added180: number[] = [];
  let added200: number[] = [];
  const now = () => Number(process.hrtime.bigint()) / 1e6;
  const origEmit = dgram.Socket.prototype.emit;
  dgram.Socket.prototype.emit = function (this: unknown, event: string | symbol, ...args: [Buffer, ...unknown[]]) {
    if (event === 'message') {
      const buf = args[0];
      const t = now();
      if (buf.toString('latin1', 0, 7) === 'INVITE ') {
        const id = callIdOf(buf);
        if (id && !aIn.has(id)) aIn.set(id, t);
      } else if (buf.toString('latin1', 0, 11) === 'SIP/2.0 180' || buf.toString('latin1', 0, 11) === 'SIP/2.0 200') {
        const id = callIdOf(buf);
        const b = id ? bOut.get(id) : undefined;
        if (id && b && /\r\nCSeq:\s*\d+ INVITE/i.test(buf.toString('latin1', 0, 2048))) {
          const r = bResp.get(b.a) ?? {};
          if (buf[8] === 0x31) r.t180 ??= t - b.t;
          else {
            r.t200 ??= t - b.t;
            bOut.delete(id);
          }
          bResp.set(b.a, r);
        }
      }
    }
    return (origEmit as (...a: unknown[]) => boolean).call(this, event, ...args);
  } as typeof origEmit;
  const origSend = dgram.Socket.prototype.send;
  dgram.Socket.prototype.send = function (this: unknown, ...args: unknown[]) {
    const buf = args[0];
    if (Buffer.isBuffer(buf)) {
      const t = now();
      const head = buf.toString('latin1', 0, 11);
      if (head.startsWith('INVITE ')) {
        const text = buf.toString('latin1', 0, 2048);
        const a = new RegExp(`\\r\\n${LEG_HEADER}:\\s*([^\\r\\n]+)`, 'i').exec(text)?.[1];
        const id = callIdOf(buf);
        if (a && id && !bOut.has(id)) bOut.set(id, { a, t });
      } else if (head === 'SIP/2.0 180' || head === 'SIP/2.0 200') {
        const id = callIdOf(buf);
        const start = id ? aIn.get(id) : undefined;
        const b = id ? bResp.get(id) : undefined;
        if (id && start !== undefined && b && /\r\nCSeq:\s*\d+ INVITE/i.test(buf.toString('latin1', 0, 2048))) {
          if (head === 'SIP/2.0 180' && b.t180 !== undefined) { added180.push(t - start - b.t180); b.t180 = undefined; }
          if (head === 'SIP/2.0 200' && b.t200 !== undefined) {
            added200.push(t - start - b.t200);
            aIn.delete(id);
            bResp.delete(id);
          }
        }
      }
    }
    return (origSend as (...a: unknown[]) => void).apply(this, args);
  } as typeof origSend;
  // Failed calls leave entries behind; forget them in bulk so the probe never looks like an engine leak.
  setInterval(() => { for (const m of [aIn, bOut, bResp]) if (m.size > 20_000) m.clear(); }, 10_000).unref();

  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const sip = arg('sip', '');
  const admin = arg('admin', '');
  const [sipHost, sipPort] = sip.split(':');
  const [adminHost, adminPort] = admin.split(':');
  const engine = await startEngine({
    sip: { host: sipHost ?? '127.0.0.1', port: Number(sipPort) },
    admin: { host: adminHost ?? '127.0.0.1', port: Number(adminPort) },
    secret: 'bench',
    logger: pino({ level: 'warn' }),
  });
  serveBenchParent<ChildRequest>(async (m) => {
    if (m.type === 'mem') {
      // Backing stores of dead Buffers are released after the collection, not during it: collect, wait, collect.
      if (m.gc) {
        globalThis.gc?.();
        await new Promise((r) => setTimeout(r, 100));
        globalThis.gc?.();
      }
      const u = process.memoryUsage();
      const s: MemSample = {
        rss: u.rss / 2 ** 20, heapUsed: u.heapUsed / 2 ** 20, external: u.external / 2 ** 20, arrayBuffers: u.arrayBuffers / 2 ** 20,
        transactions: engine.counters.transactions(), dialogs: engine.counters.dialogs(),
      };
      return s;
    }
    if (m.type === 'probe-reset') {
      added180 = [];
      added200 = [];
      loop.reset();
      return {};
    }
    if (m.type === 'probe') {
      const s: ProbeStats = {
        n: added200.length, p50_180: pct(added180, 50), p99_180: pct(added180, 99), p50_200: pct(added200, 50), p99_200: pct(added200, 99),
        loopP99: loop.percentile(99) / 1e6,
      };
      return s;
    }
    return { file: v8.writeHeapSnapshot(path.join(m.dir, `engine-${Date.now()}.heapsnapshot`)) };
  }, () => engine.close());
}

// ───────────────────────────── bench driver ─────────────────────────────

class EngineProcess {
  private constructor(readonly child: BenchChild) {}

  static async start(sipPort: number, adminPort: number, nodeArgs: string[]): Promise<EngineProcess> {
    const args = ['--sip', `127.0.0.1:${sipPort}`, '--admin', `127.0.0.1:${adminPort}`];
    return new EngineProcess(await BenchChild.start(path.join(here, 'sip.ts'), args, [...nodeArgs, '--expose-gc']));
  }

  private async ask<T>(m: ChildRequest): Promise<T> {
    const reply = await this.child.ask<T>(m);
    if (reply === undefined) throw new Error(`engine exited ${this.child.exited}`);
    return reply;
  }

  /** With gc: heap after a full collection, i.e. what is really retained. */
  mem(gc: boolean): Promise<MemSample> { return this.ask({ type: 'mem', gc }); }
  probeReset(): Promise<void> { return this.ask({ type: 'probe-reset' }); }
  probe(): Promise<ProbeStats> { return this.ask({ type: 'probe' }); }
  snapshot(dir: string): Promise<{ file: string }> { return this.ask({ type: 'snapshot', dir }); }
  stop(): void { this.child.stop(); }
}

interface Step { rate: number; calls: number; ok: number; failed: number; p50_180: number; p99_180: number; p50_200: number; p99_200: number }

async function step(rate: number, calls: number, target: (uasPort: number) => { port: number; service: string }): Promise<Step> {
  const uasPort = await freePort('udp');
  const uas = await startSipp({ scenario: UAS, localPort: uasPort, calls, timeoutMs: (calls / rate) * 1000 + 30_000, extraArgs: ['-max_recv_loops', '10000'] });
  const t = target(uasPort);
  const r: SippResult = await runSipp({
    scenario: UAC, remote: { port: t.port }, service: t.service, calls, rate, limit: 20_000,
    timeoutMs: (calls / rate) * 1000 + 30_000, traceRtt: true,
  });
  await uas.stop();
  const rtt180 = r.rtt.get(1) ?? [];
  const rtt200 = r.rtt.get(2) ?? [];
  const ok = r.stats?.successful ?? 0;
  return {
    rate, calls, ok, failed: calls - ok,
    p50_180: pct(rtt180, 50), p99_180: pct(rtt180, 99), p50_200: pct(rtt200, 50), p99_200: pct(rtt200, 99),
  };
}

const ms = (n: number) => n.toFixed(2);
const mb = (n: number) => `${n.toFixed(1)} MB`;
const stepLine = (label: string, s: Step) => `${label.padEnd(7)} ${String(s.rate).padStart(5)} cps: ok ${s.ok} failed ${s.failed}  ` +
  `INVITE→180 p50 ${ms(s.p50_180)} p99 ${ms(s.p99_180)} ms  INVITE→200 p50 ${ms(s.p50_200)} p99 ${ms(s.p99_200)} ms`;
const memLine = (m: MemSample) => `RSS ${mb(m.rss)}, heap ${mb(m.heapUsed)}, external ${mb(m.external)} ` +
  `(${m.transactions} transactions, ${m.dialogs} dialogs)`;

async function ramp(label: string, rates: number[], stepSeconds: number, target: (uasPort: number) => { port: number; service: string }): Promise<Step[]> {
  const out: Step[] = [];
  for (const rate of rates) {
    const s = await step(rate, rate * stepSeconds, target);
    out.push(s);
    console.log(stepLine(label, s));
    if (s.failed > 0) break;
  }
  return out;
}

const sustained = (steps: Step[]) => steps.filter((s) => s.failed === 0).reduce((m, s) => Math.max(m, s.rate), 0);
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

/** Runs one SIPp load while sampling engine memory every `everyMs`. */
async function sampled(engine: EngineProcess, run: () => Promise<Step>, everyMs: number, gc: boolean, onSample: (m: MemSample, atMs: number) => void): Promise<Step> {
  const t0 = Date.now();
  let stop = false;
  const sampler = (async () => {
    while (!stop) {
      await sleep(everyMs);
      if (!stop) onSample(await engine.mem(gc), Date.now() - t0);
    }
  })();
  const s = await run();
  stop = true;
  await sampler;
  return s;
}

async function main(): Promise<void> {
  const stepSeconds = Number(arg('step-seconds', '10'));
  const rates = arg('rates', '100,200,300,400,500,600,800,1000').split(',').map(Number);
  const steadyRate = Number(arg('steady-rate', '300'));
  const steadySeconds = Number(arg('steady-seconds', '50'));
  const soakCalls = Number(arg('soak', '0'));
  const soakRate = Number(arg('soak-rate', '300'));
  const snapshotDir = process.argv.includes('--heap-snapshot') ? arg('heap-snapshot', os.tmpdir()) : undefined;

  const sipPort = await freePort('both');
  const adminPort = await freePort('tcp');
  const cpuProfDir = process.argv.includes('--cpu-prof') ? arg('cpu-prof', os.tmpdir()) : undefined;
  const engine = await EngineProcess.start(sipPort, adminPort, cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : []);
  const { default: Srf } = await import('drachtio-srf');
  const srf = new Srf();
  srf.on('error', () => {});
  srf.invite(async (req, res) => {
    const port = /^sip:b2b-(\d+)@/.exec(req.uri)?.[1];
    try {
      const { uac, uas } = await srf.createB2BUA(req, res, `sip:callee@127.0.0.1:${port}`, {
        localSdpB: req.body, proxyRequestHeaders: ['P-Asserted-Identity', 'Privacy'], headers: { [LEG_HEADER]: req.get('Call-ID') },
      });
      uas.on('destroy', () => { void uac.destroy(); });
      uac.on('destroy', () => { void uas.destroy(); });
    } catch {
      // failed legs are counted by SIPp
    }
  });
  await new Promise<void>((resolve, reject) => {
    srf.connect({ host: '127.0.0.1', port: adminPort, secret: 'bench' });
    srf.once('connect', (err: Error | null) => (err ? reject(err) : resolve()));
  });
  const viaEngine = (uasPort: number) => ({ port: sipPort, service: `b2b-${uasPort}` });
  const direct = (uasPort: number) => ({ port: uasPort, service: 'callee' });

  console.log(`bench:sip — CPUs ${os.cpus().length}; ramp ${rates.join(',')} cps × ${stepSeconds}s; steady ${steadyRate} cps × ${steadySeconds}s` +
    (soakCalls ? `; soak ${soakCalls} calls at ${soakRate} cps` : ''));
  console.log('topology measured: the built-in engine alone in a process of its own, a drachtio-srf B2BUA (the simplest app) in the benchmark process; not `npm start` (bench:scale measures that)');
  const memStart = await engine.mem(true);
  console.log(`engine at start: ${memLine(memStart)}`);
  if (soakCalls > 0) {
    await soak(engine, soakCalls, soakRate, viaEngine);
    srf.disconnect();
    engine.stop();
    return;
  }

  const directSteps = await ramp('direct', rates, stepSeconds, direct);
  const directSteady = await step(steadyRate, steadyRate * steadySeconds, direct);
  console.log(stepLine('direct', directSteady) + '  (steady)');

  // Steady: the retention window fills after 64·T1; RSS is read from /proc (no GC pause), heap once after GC.
  await engine.probeReset();
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const appLoop = monitorEventLoopDelay({ resolution: 1 });
  appLoop.enable();
  let rssSteadyMax = 0;
  const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
  const pid = engine.child.pid ?? 0;
  const rssTimer = setInterval(() => { rssSteadyMax = Math.max(rssSteadyMax, rssOf(pid)); }, 1000);
  // CPU seconds (user + system, all threads) from /proc: the engine's, and this process's (the B2BUA app).
  const engineCpu = () => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []; return (Number(f[11]) + Number(f[12])) / 100; };
  const appCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  const cpu0 = { engine: engineCpu(), app: appCpu(), at: Date.now() };
  const steady = await step(steadyRate, steadyRate * steadySeconds, viaEngine);
  const cpuWall = (Date.now() - cpu0.at) / 1000;
  const cpuPct = { engine: (100 * (engineCpu() - cpu0.engine)) / cpuWall, app: (100 * (appCpu() - cpu0.app)) / cpuWall };
  clearInterval(rssTimer);
  appLoop.disable();
  const probe = await engine.probe();
  const memPlateau = await engine.mem(true);
  console.log(stepLine('engine', steady) + '  (steady)');
  console.log(`engine at end of steady phase: ${memLine(memPlateau)}; RSS max during it ${mb(rssSteadyMax)}`);
  console.log(`CPU during steady phase (% of one core): engine ${cpuPct.engine.toFixed(0)}%, B2BUA app ${cpuPct.app.toFixed(0)}%`);
  if (snapshotDir) console.log(`heap snapshot: ${(await engine.snapshot(snapshotDir)).file}`);

  const engineSteps = await ramp('engine', rates, stepSeconds, viaEngine);
  await sleep(RETENTION_MS + 3000);
  const memEnd = await engine.mem(true);
  if (snapshotDir) console.log(`heap snapshot: ${(await engine.snapshot(snapshotDir)).file}`);

  const best = sustained(engineSteps);
  const ceiling = sustained(directSteps);
  const topRate = rates[rates.length - 1] ?? 0;
  const d = (a: number, b: number) => ms(a - b);
  console.log('');
  console.log(`sustained through engine + B2BUA app: ${best} cps; direct SIPp UAC→UAS: ${ceiling}${ceiling === topRate ? '+' : ''} cps; ratio ${(best / (ceiling || 1)).toFixed(2)}` +
    (ceiling === topRate ? ' (ceiling not reached: ratio is a lower bound)' : ''));
  console.log(`added delay at ${steadyRate} cps (SIPp clock, 4 ms steps here, ${steady.ok} calls): INVITE→180 p50 ${d(steady.p50_180, directSteady.p50_180)} p99 ${d(steady.p99_180, directSteady.p99_180)} ms; ` +
    `INVITE→200 p50 ${d(steady.p50_200, directSteady.p50_200)} p99 ${d(steady.p99_200, directSteady.p99_200)} ms`);
  console.log(`added delay at ${steadyRate} cps (engine probe, µs clock, ${probe.n} calls): INVITE→180 p50 ${ms(probe.p50_180)} p99 ${ms(probe.p99_180)} ms; ` +
    `INVITE→200 p50 ${ms(probe.p50_200)} p99 ${ms(probe.p99_200)} ms; event-loop delay p99: engine ${ms(probe.loopP99)} ms, B2BUA app ${ms(appLoop.percentile(99) / 1e6)} ms`);
  console.log(`CPU at ${steadyRate} cps (% of one core): engine ${cpuPct.engine.toFixed(0)}%, B2BUA app ${cpuPct.app.toFixed(0)}%`);
  console.log(`engine memory: start ${memLine(memStart)}`);
  console.log(`               plateau (${steadyRate} cps) ${memLine(memPlateau)}`);
  console.log(`               end (after ramp + ${RETENTION_MS / 1000 + 3}s idle) ${memLine(memEnd)}`);


  srf.disconnect();
  engine.stop();
}

/** One SIPp run of `calls` calls; engine heap after GC and RSS every 10 s; slope over the steady part. */
async function soak(engine: EngineProcess, calls: number, rate: number, target: (uasPort: number) => { port: number; service: string }): Promise<void> {
  console.log(`\nsoak: ${calls} calls at ${rate} cps (engine sampled every 10 s after GC)`);
  const samples: { at: number; calls: number; m: MemSample }[] = [];
  const s = await sampled(engine, () => step(rate, calls, target), 10_000, true, (m, at) => {
    const done = Math.min(calls, Math.round((at / 1000) * rate));
    samples.push({ at, calls: done, m });
    console.log(`  ${String(Math.round(at / 1000)).padStart(4)} s ~${String(done).padStart(6)} calls: ${memLine(m)}`);
  });
  await sleep(RETENTION_MS + 3000);
  const idle = await engine.mem(true);
  console.log(`  idle ${RETENTION_MS / 1000 + 3}s later: ${memLine(idle)}`);
  // Plateau: the window is full once 64·T1 has passed; compare its first sample with the last one under load.
  const steadySamples = samples.filter((x) => x.at >= RETENTION_MS + 8000);
  const first = steadySamples[0];
  const last = steadySamples[steadySamples.length - 1];
  console.log(`soak result: ok ${s.ok} failed ${s.failed}; INVITE→200 p99 ${ms(s.p99_200)} ms (includes the forced GCs)`);
  if (first && last) {
    const heapSlope = ((last.m.heapUsed - first.m.heapUsed) / Math.max(1, last.calls - first.calls)) * 10_000;
    console.log(`soak memory: plateau (${Math.round(first.at / 1000)} s) RSS ${mb(first.m.rss)} heap ${mb(first.m.heapUsed)}; ` +
      `end (${Math.round(last.at / 1000)} s) RSS ${mb(last.m.rss)} heap ${mb(last.m.heapUsed)}; heap growth ${heapSlope.toFixed(2)} MB per 10,000 calls`);
  }
}

if (process.argv.includes('--engine-child')) await engineChild();
else await main();
