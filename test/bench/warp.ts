// npm run bench:warp [-- --step-seconds 10] [-- --rates 50,100,200]
//
// Post-dial delay of a ボイスワープ 無条件転送 call against the plain notify path, in the same run:
// SIPp callers → the built-in engine (its own process) → the notify B2BUA (this process) → a SIPp
// callee. Plain: the number without ボイスワープ, its line answers. Forwarded: the number forwards
// unconditionally, the 転送先 (SIPp at notify.nextHop) answers; the app sends 181, then the new INVITE
// with Diversion. Both are mailed to the built-in SMTP catcher, against embedded PostgreSQL (or
// DATABASE_URL). Per rate: INVITE→180 (the ringing the caller hears) and INVITE→200, p50/p99, and
// the ratio forwarded / plain.
import os from 'node:os';
import path from 'node:path';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { freePort } from '../support/ports.ts';
import { runSipp, startSipp } from '../support/sipp.ts';
import { startNotifyBenchStack } from './notify-stack.ts';
import { arg, pct } from './support.ts';

const here = import.meta.dirname;
const UAC = path.join(here, '../sipp/warp-uac-bench.xml');
const UAS = path.join(here, '../sipp/notify-uas-answer.xml');
const PLAIN = '0611112222';
const FORWARDED = '0611113333';
const DESTINATION = '09012345678';

const stepSeconds = Number(arg('step-seconds', '10'));
const rates = arg('rates', '50,100,200').split(',').map(Number);

interface Measured {
  ok: number;
  failed: number;
  p50_180: number;
  p99_180: number;
  p50_200: number;
  p99_200: number;
}

async function main(): Promise<void> {
  // The 転送先 is reached at notify.nextHop, where each step's callee listens.
  const destPort = await freePort('udp');
  const stack = await startNotifyBenchStack('warp', { workers: 4, config: { notify: { nextHop: `sip:127.0.0.1:${destPort}` } } });
  const { pool, sipPort } = stack;

  const linePort = await freePort('udp');
  const notify = { started: true, destinations: [{ address: 'bench@example.jp' }] };
  await applyProvisioning(pool, {
    contracts: [{
      id: 'BENCH', region: 'west', pattern: 'A', authUnit: 'line',
      numbers: [
        { number: PLAIN, role: 'main', services: ['chakushin_mail'], target: `sip:${PLAIN}@127.0.0.1:${linePort}`, notify },
        { number: FORWARDED, role: 'additional', services: ['chakushin_mail', 'voice_warp'], target: `sip:${FORWARDED}@127.0.0.1:${linePort}`, notify,
          voiceWarp: { started: true, condition: 'unconditional', destination: DESTINATION } },
      ],
    }],
  });

  async function step(rate: number, calls: number, called: string, calleePort: number): Promise<Measured> {
    const timeoutMs = (calls / rate) * 1000 + 30_000;
    const callee = await startSipp({ scenario: UAS, localPort: calleePort, calls, timeoutMs, extraArgs: ['-d', '0', '-max_recv_loops', '10000'] });
    const r = await runSipp({
      scenario: UAC, remote: { port: sipPort }, service: called, calls, rate, limit: 20_000, timeoutMs, traceRtt: true,
      keys: { from: '<sip:0612345678@127.0.0.1>', hdr1: 'X-Bench: 1', hdr2: 'X-Bench: 1', audio_port: '9' },
      extraArgs: ['-d', '100'],
    });
    await callee.stop();
    const ok = r.stats?.successful ?? 0;
    if (calls - ok > 0) console.log(`  SIPp errors (first lines):\n${r.errors.split('\n').slice(0, 6).join('\n')}`);
    const t180 = r.rtt.get(1) ?? [];
    const t200 = r.rtt.get(2) ?? [];
    return { ok, failed: calls - ok, p50_180: pct(t180, 50), p99_180: pct(t180, 99), p50_200: pct(t200, 50), p99_200: pct(t200, 99) };
  }

  const f = (n: number) => n.toFixed(1);
  console.log(`bench:warp — ${stepSeconds}s per step, rates ${rates.join(',')}, CPUs ${os.cpus().length}`);
  console.log('topology measured: the built-in engine in a process of its own, the notify B2BUA in the benchmark process (the app alone, not `npm start`)');
  let last: { rate: number; plain: Measured; forwarded: Measured } | undefined;
  for (const { rate, warmUp } of [{ rate: 20, warmUp: true }, ...rates.map((r) => ({ rate: r, warmUp: false }))]) {
    const calls = warmUp ? rate * 3 : rate * stepSeconds;
    const plain = await step(rate, calls, PLAIN, linePort);
    const forwarded = await step(rate, calls, FORWARDED, destPort);
    if (warmUp) continue;
    console.log(`${String(rate).padStart(5)} cps: plain ok ${plain.ok}/${calls}, INVITE→180 p50 ${f(plain.p50_180)} p99 ${f(plain.p99_180)} ms, →200 p50 ${f(plain.p50_200)} ms | ` +
      `無条件転送 ok ${forwarded.ok}/${calls}, INVITE→180 p50 ${f(forwarded.p50_180)} p99 ${f(forwarded.p99_180)} ms, →200 p50 ${f(forwarded.p50_200)} ms | ` +
      `ratio p50 ${(forwarded.p50_180 / plain.p50_180).toFixed(2)} p99 ${(forwarded.p99_180 / plain.p99_180).toFixed(2)}`);
    if (plain.failed || forwarded.failed) break;
    last = { rate, plain, forwarded };
  }
  console.log('');
  if (last) {
    console.log(`post-dial delay (INVITE→180) at ${last.rate} cps: 無条件転送 p50 ${f(last.forwarded.p50_180)} ms / p99 ${f(last.forwarded.p99_180)} ms, ` +
      `plain p50 ${f(last.plain.p50_180)} ms / p99 ${f(last.plain.p99_180)} ms; ratio p50 ${(last.forwarded.p50_180 / last.plain.p50_180).toFixed(2)}, ` +
      `p99 ${(last.forwarded.p99_180 / last.plain.p99_180).toFixed(2)} (SIPp clock, ms steps)`);
  } else {
    console.log('no rate completed cleanly');
  }

  await stack.close();
}

await main();
