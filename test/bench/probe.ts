// npm run bench:probe [-- --lines 10000] [-- --interval-sec 30] [-- --window-seconds 60]
//
// What 故障・回復通知's probing costs: N probed lines (default 10,000: 1,000 contracts of 10 lines,
// loaded through provisioning) every probeIntervalSec (default 30 s), answered by one SIPp line
// (failure-line-options.xml) through the built-in engine (its own process) and this process's prober,
// against embedded PostgreSQL (or DATABASE_URL). After one whole interval of warm-up, a window is
// measured: probes/s and SIP packets/s, and the CPU of the prober, the engine and PostgreSQL.
// Baseline in the same run: SIPp sending the same OPTIONS at the same rate straight to a SIPp line
// (failure-uac-options.xml), its CPU over the same window. Ratio: probing CPU / baseline CPU.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Srf from 'drachtio-srf';
import pino from 'pino';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/config.ts';
import { startLineProber } from '../../src/failure/prober.ts';
import { countLinesByState } from '../../src/store/line-probes.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { freePort } from '../support/ports.ts';
import { startSipp } from '../support/sipp.ts';
import { arg, benchDatabase } from './support.ts';

const here = import.meta.dirname;
const LINE = path.join(here, '../sipp/failure-line-options.xml');
const UAC = path.join(here, '../sipp/failure-uac-options.xml');

const lineCount = Number(arg('lines', '10000'));
const intervalSec = Number(arg('interval-sec', '30'));
const windowSec = Number(arg('window-seconds', '60'));
const perContract = 10;
const TICKS = 100; // clock ticks per second in /proc (USER_HZ)

/** CPU seconds (user + system) of a process so far; 0 when it is gone. */
function cpuOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0;
  }
}

/** A process and every descendant (PostgreSQL's postmaster and its backends). */
function treeOf(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const after = readFileSync(`/proc/${name}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
      parent.set(Number(name), Number(after[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, ppid] of parent) if (ppid === out[i]) out.push(pid);
  return out;
}

const cpuOfTree = (root: number | undefined) => (root ? treeOf(root).reduce((s, pid) => s + cpuOf(pid), 0) : 0);
const selfCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const logger = pino({ level: 'warn' });
  const db = await benchDatabase('probe');
  const rate = lineCount / intervalSec;
  console.log(`bench:probe — ${lineCount} lines every ${intervalSec} s (${rate.toFixed(0)} probes/s), window ${windowSec} s, CPUs ${os.cpus().length}`);

  // The lines: one SIPp answering every OPTIONS, each line its own URI on it.
  const linePort = await freePort('udp');
  const line = await startSipp({ scenario: LINE, localPort: linePort, timeoutMs: (intervalSec * 3 + windowSec * 2 + 600) * 1000, extraArgs: ['-max_recv_loops', '10000'] });
  const loadStart = Date.now();
  const contracts = Array.from({ length: Math.ceil(lineCount / perContract) }, (_, c) => ({
    id: `P${String(c).padStart(5, '0')}`, region: 'west', pattern: 'A', authUnit: 'line',
    numbers: Array.from({ length: Math.min(perContract, lineCount - c * perContract) }, (_, i) => {
      const number = `06${String(c * perContract + i).padStart(8, '0')}`;
      return { number, role: i === 0 ? 'main' : 'additional', target: `sip:l${number}@127.0.0.1:${linePort}` };
    }),
    services: ['failure_notice'],
    failureNotice: { started: true, destinations: [{ address: 'noc@example.jp' }] },
  }));
  await applyProvisioning(db.pool, { contracts });
  console.log(`  ${lineCount} lines provisioned in ${((Date.now() - loadStart) / 1000).toFixed(1)} s`);

  const sipPort = await freePort('both');
  const adminPort = await freePort('tcp');
  const engine = spawn(process.execPath, ['--import', 'tsx', path.join(here, '../sip-engine/run-engine-command.ts'),
    '--sip', `127.0.0.1:${sipPort}`, '--admin', `127.0.0.1:${adminPort}`, '--secret', 'bench', '--log-level', 'warn'], { stdio: 'inherit' });
  const srf = new Srf();
  srf.on('error', () => {});
  await new Promise<void>((resolve) => {
    srf.once('connect', () => resolve());
    srf.connect({ host: '127.0.0.1', port: adminPort, secret: 'bench' });
  });
  const config = parseConfig({ failureNotice: { probeIntervalSec: intervalSec } });
  const registry = new Registry();
  const postmaster = Number(readFileSync(`/proc/${(await db.pool.query('select pg_backend_pid() as pid')).rows[0].pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
  const external = Boolean(process.env.DATABASE_URL);
  const prober = startLineProber({ srf, pool: db.pool, config, logger, registry });
  /** Probes so far: all, and answered (read at once: the metric's values are live objects). */
  const probes = async () => {
    const values = (await registry.getSingleMetric('chakushin_line_probes_total')!.get()).values;
    const by = Object.fromEntries(values.map((v) => [String(v.labels.result), v.value]));
    return { all: values.reduce((s, v) => s + v.value, 0), answered: by.answered ?? 0, by };
  };

  // Warm-up: the first round (every line due at once) and one steady interval.
  console.log(`  warm-up ${intervalSec * 2} s…`);
  await sleep(intervalSec * 2 * 1000);
  const cpu0 = { self: selfCpu(), engine: cpuOf(engine.pid), pg: external ? 0 : cpuOfTree(postmaster) };
  const p0 = await probes();
  const t0 = Date.now();
  await sleep(windowSec * 1000);
  const seconds = (Date.now() - t0) / 1000;
  const p1 = await probes();
  const cpu = { self: selfCpu() - cpu0.self, engine: cpuOf(engine.pid) - cpu0.engine, pg: external ? 0 : cpuOfTree(postmaster) - cpu0.pg };
  const sent = p1.all - p0.all;
  const answered = p1.answered - p0.answered;
  const others = Object.entries(p1.by).filter(([r]) => r !== 'answered').map(([r, n]) => `${r} ${n - (p0.by[r] ?? 0)}`).join(', ');
  const states = await countLinesByState(db.pool);
  await prober.stop();
  const lineResult = await line.stop();
  srf.disconnect();
  engine.kill('SIGTERM');

  const pct = (s: number) => (100 * s) / seconds;
  const probing = cpu.self + cpu.engine + cpu.pg;
  console.log(`probing:  ${(sent / seconds).toFixed(1)} probes/s (${((100 * answered) / Math.max(1, sent)).toFixed(1)} % answered${others ? `; ${others}` : ''}), ` +
    `SIP packets/s ${((2 * sent) / seconds).toFixed(0)} (OPTIONS + answer; line-side retransmissions over the run: ${lineResult.stats?.retransmissions ?? '?'}); ` +
    `lines up ${states.up}, down ${states.down}, unknown ${states.unknown}`);
  console.log(`  CPU over ${seconds.toFixed(0)} s (% of one core): prober ${pct(cpu.self).toFixed(1)} %, engine ${pct(cpu.engine).toFixed(1)} %, ` +
    `PostgreSQL ${external ? 'n/a (DATABASE_URL)' : `${pct(cpu.pg).toFixed(1)} %`} = ${pct(probing).toFixed(1)} %`);

  // Baseline: the same OPTIONS at the same rate, SIPp to SIPp.
  const basePort = await freePort('udp');
  const baseLine = await startSipp({ scenario: LINE, localPort: basePort, timeoutMs: (windowSec + 60) * 1000, extraArgs: ['-max_recv_loops', '10000'] });
  const calls = Math.round(rate * windowSec);
  const uac = await startSipp({ scenario: UAC, remote: { port: basePort }, service: 'line', calls, rate, limit: 20_000, timeoutMs: (windowSec + 60) * 1000 });
  // /proc forgets a process once it has exited: its CPU is sampled while it runs, the last reading kept.
  let baseCpu = 0;
  const sampler = setInterval(() => (baseCpu = Math.max(baseCpu, cpuOf(uac.pid))), 100);
  const bt0 = Date.now();
  const uacResult = await uac.done;
  clearInterval(sampler);
  const bSeconds = (Date.now() - bt0) / 1000;
  await baseLine.stop();
  console.log(`baseline: SIPp → SIPp ${((uacResult.stats?.successful ?? 0) / bSeconds).toFixed(1)} OPTIONS/s answered, SIPp UAC CPU ${((100 * baseCpu) / bSeconds).toFixed(1)} % of one core`);
  const ratio = pct(probing) / Math.max(0.01, (100 * baseCpu) / bSeconds);
  console.log(`ratio: probing costs ${ratio.toFixed(1)} × the baseline's CPU for the same OPTIONS rate`);
  await db.close();
}

await main();
