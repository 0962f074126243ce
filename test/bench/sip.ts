// npm run bench:sip [-- --step-seconds 8] [-- --rates 100,200,...] [-- --soak 100000 --soak-rate 300]
//
// SIPp drives INVITE→180→200→ACK→BYE through a drachtio-srf B2BUA (this process) and the built-in
// engine (its own process, started through the `engine` command), raising the rate step by step until
// calls fail. The same ramp runs SIPp UAC→UAS directly as the ceiling. Prints sustained calls/s,
// the INVITE→180 / INVITE→200 delay the app+engine add (p50/p99), and the engine process RSS.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Srf from 'drachtio-srf';
import { freePort } from '../support/ports.ts';
import { runSipp, startSipp, type SippResult } from '../support/sipp.ts';

const here = import.meta.dirname;
const UAC = path.join(here, '../sipp/engine-uac-b2b.xml');
const UAS = path.join(here, '../sipp/engine-uas-b2b.xml');

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] ?? def : def;
}
const stepSeconds = Number(arg('step-seconds', '8'));
const rates = arg('rates', '100,200,300,400,500,600,800,1000').split(',').map(Number);
const soakCalls = Number(arg('soak', '0'));
const soakRate = Number(arg('soak-rate', '300'));

function pct(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface Step { rate: number; ok: number; failed: number; p50_180: number; p99_180: number; p50_200: number; p99_200: number }

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
  return {
    rate, ok: r.stats?.successful ?? 0, failed: (r.stats?.failed ?? 0) + (calls - (r.stats?.successful ?? 0) - (r.stats?.failed ?? 0)),
    p50_180: pct(rtt180, 50), p99_180: pct(rtt180, 99), p50_200: pct(rtt200, 50), p99_200: pct(rtt200, 99),
  };
}

async function ramp(label: string, target: (uasPort: number) => { port: number; service: string }, after?: () => void): Promise<Step[]> {
  const out: Step[] = [];
  for (const rate of rates) {
    const s = await step(rate, rate * stepSeconds, target);
    out.push(s);
    console.log(`${label.padEnd(7)} ${String(rate).padStart(5)} cps: ok ${s.ok} failed ${s.failed}  ` +
      `INVITE→180 p50 ${s.p50_180.toFixed(2)} p99 ${s.p99_180.toFixed(2)} ms  INVITE→200 p50 ${s.p50_200.toFixed(2)} p99 ${s.p99_200.toFixed(2)} ms`);
    after?.();
    if (s.failed > 0) break;
  }
  return out;
}

const sustained = (steps: Step[]) => steps.filter((s) => s.failed === 0).reduce((m, s) => Math.max(m, s.rate), 0);

async function main(): Promise<void> {
  const sipPort = await freePort('both');
  const adminPort = await freePort('tcp');
  const engine = spawn(process.execPath, ['--import', 'tsx', path.join(here, '../sip-engine/run-engine-command.ts'),
    '--sip', `127.0.0.1:${sipPort}`, '--admin', `127.0.0.1:${adminPort}`, '--secret', 'bench', '--log-level', 'warn'], { stdio: 'inherit' });
  const pid = engine.pid ?? 0;
  const srf = new Srf();
  srf.on('error', () => {});
  srf.invite(async (req, res) => {
    const port = /^sip:b2b-(\d+)@/.exec(req.uri)?.[1];
    try {
      const { uac, uas } = await srf.createB2BUA(req, res, `sip:callee@127.0.0.1:${port}`, { localSdpB: req.body, proxyRequestHeaders: ['P-Asserted-Identity', 'Privacy'] });
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

  console.log(`bench:sip — ${stepSeconds}s per step, rates ${rates.join(',')}, CPUs ${(await import('node:os')).cpus().length}`);
  const rssStart = rssMb(pid);
  const direct = await ramp('direct', (uasPort) => ({ port: uasPort, service: 'callee' }));
  let rssMax = rssStart;
  const viaEngine = await ramp('engine', (uasPort) => ({ port: sipPort, service: `b2b-${uasPort}` }), () => { rssMax = Math.max(rssMax, rssMb(pid)); });

  const best = sustained(viaEngine);
  const ceiling = sustained(direct);
  const at = viaEngine.find((s) => s.rate === best);
  const base = direct.find((s) => s.rate === best) ?? direct[direct.length - 1];
  console.log('');
  console.log(`sustained through engine + B2BUA app: ${best} cps (direct SIPp UAC→UAS: ${ceiling}${ceiling === rates[rates.length - 1] ? '+' : ''} cps, ratio ${(best / (ceiling || 1)).toFixed(2)})`);
  if (at && base) {
    console.log(`added delay at ${best} cps: INVITE→180 p50 ${(at.p50_180 - base.p50_180).toFixed(2)} ms p99 ${(at.p99_180 - base.p99_180).toFixed(2)} ms; ` +
      `INVITE→200 p50 ${(at.p50_200 - base.p50_200).toFixed(2)} ms p99 ${(at.p99_200 - base.p99_200).toFixed(2)} ms`);
  }
  console.log(`engine RSS: ${rssStart.toFixed(1)} MB at start, ${rssMax.toFixed(1)} MB max, ${rssMb(pid).toFixed(1)} MB now`);

  if (soakCalls > 0) {
    console.log(`\nsoak: ${soakCalls} calls at ${soakRate} cps`);
    const chunk = soakRate * 30;
    const samples: number[] = [];
    let done = 0;
    let failed = 0;
    while (done < soakCalls) {
      const n = Math.min(chunk, soakCalls - done);
      const s = await step(soakRate, n, (uasPort) => ({ port: sipPort, service: `b2b-${uasPort}` }));
      done += n;
      failed += s.failed;
      samples.push(rssMb(pid));
      console.log(`  ${done} calls, failed ${failed}, engine RSS ${samples[samples.length - 1]?.toFixed(1)} MB`);
    }
  }

  srf.disconnect();
  engine.kill('SIGTERM');
}

await main();
