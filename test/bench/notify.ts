// npm run bench:notify [-- --step-seconds 10] [-- --rates 100,200,300] [-- --workers 8]
//
// SIPp drives answered calls (INVITE→180→200→ACK→BYE) through the 着信お知らせメール B2BUA (this
// process) and the built-in engine (its own process), each call mailed to the built-in SMTP catcher
// as the local sink, against embedded PostgreSQL (or DATABASE_URL). The rate rises step by step until
// calls fail or mails fall behind. The same step runs SIPp UAC→UAS directly as the baseline.
// Prints sustained calls/s, the INVITE→180 delay the app adds (p50/p99), and the time from call end
// (BYE) to SMTP 250 (sent_at) (p50/p99).
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import Srf from 'drachtio-srf';
import pino from 'pino';
import { parseConfig } from '../../src/config.ts';
import { startSmtpCatcher } from '../../src/mail/catcher.ts';
import { catcherTransport } from '../../src/mail/transport.ts';
import { startMailWorker } from '../../src/mail/worker.ts';
import { trustedPeerMatcher } from '../../src/domain/trusted-peers.ts';
import { startNotifyApp } from '../../src/notify/app.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { freePort } from '../support/ports.ts';
import { runSipp, startSipp } from '../support/sipp.ts';
import { dispatchInvites } from '../../src/sip-dispatch.ts';
import { arg, benchDatabase, pct } from './support.ts';

const here = import.meta.dirname;
const UAC = path.join(here, '../sipp/notify-uac-answer.xml');
const UAS = path.join(here, '../sipp/notify-uas-answer.xml');
const CALLED = '0611112222';

const stepSeconds = Number(arg('step-seconds', '10'));
const rates = arg('rates', '100,200,300,400').split(',').map(Number);
const workers = Number(arg('workers', '8'));
/** A step counts only if its mails are all out this long after its last call. */
const drainLimitMs = Number(arg('drain-ms', '15000'));

interface Step {
  rate: number;
  ok: number;
  failed: number;
  p50_180: number;
  p99_180: number;
  mailsPending: number;
  p50_mail: number;
  p99_mail: number;
}

async function sippStep(rate: number, calls: number, target: (uasPort: number) => Promise<{ port: number; service: string }>) {
  const uasPort = await freePort('udp');
  const timeoutMs = (calls / rate) * 1000 + 30_000;
  const uas = await startSipp({ scenario: UAS, localPort: uasPort, calls, timeoutMs, extraArgs: ['-d', '0', '-max_recv_loops', '10000'] });
  const t = await target(uasPort);
  const r = await runSipp({
    scenario: UAC, remote: { port: t.port }, service: t.service, calls, rate, limit: 20_000, timeoutMs, traceRtt: true,
    keys: { from: '<sip:0612345678@127.0.0.1>', hdr1: 'X-Bench: 1', hdr2: 'X-Bench: 1' },
    extraArgs: ['-d', '100'],
  });
  await uas.stop();
  const ok = r.stats?.successful ?? 0;
  const rtt180 = r.rtt.get(1) ?? [];
  if (calls - ok > 0) console.log(`  SIPp errors (first lines):\n${r.errors.split('\n').slice(0, 6).join('\n')}`);
  return { ok, failed: calls - ok, p50_180: pct(rtt180, 50), p99_180: pct(rtt180, 99), uasPort };
}

async function main(): Promise<void> {
  const logger = pino({ level: 'warn' });
  const db = await benchDatabase('notify');
  const { pool, url, dir: tmp } = db;

  const sipPort = await freePort('both');
  const adminPort = await freePort('tcp');
  const engine = spawn(process.execPath, ['--import', 'tsx', path.join(here, '../sip-engine/run-engine-command.ts'),
    '--sip', `127.0.0.1:${sipPort}`, '--admin', `127.0.0.1:${adminPort}`, '--secret', 'bench', '--log-level', 'warn'], { stdio: 'inherit' });

  const catcher = await startSmtpCatcher({ host: '127.0.0.1', port: 0, dir: path.join(tmp, 'mail'), logger });
  const transport = catcherTransport({ host: '127.0.0.1', port: catcher.port }, workers);
  const worker = startMailWorker({ pool, listenUrl: url, transport, logger, concurrency: workers });
  const config = parseConfig({ mail: { workers } });
  const srf = new Srf();
  srf.on('error', () => {});
  const app = startNotifyApp({ srf, pool, config, logger, spoolDir: path.join(tmp, 'spool'), isTrustedPeer: trustedPeerMatcher(config.sip.trustedPeers) });
  dispatchInvites(srf, [app.handleNotifyInvite], { logger });
  // One connect: drachtio-srf keeps retrying until the engine process is listening.
  await new Promise<void>((resolve) => {
    srf.once('connect', () => resolve());
    srf.connect({ host: '127.0.0.1', port: adminPort, secret: 'bench' });
  });

  console.log(`bench:notify — ${stepSeconds}s per step, rates ${rates.join(',')}, ${workers} mail workers, CPUs ${os.cpus().length}`);
  const steps: Step[] = [];
  // Warm-up (JIT, connection pools, PostgreSQL caches), not reported.
  for (const { rate, warmUp } of [{ rate: 20, warmUp: true }, ...rates.map((r) => ({ rate: r, warmUp: false }))]) {
    const calls = warmUp ? rate * 3 : rate * stepSeconds;
    const direct = await sippStep(rate, calls, async (uasPort) => ({ port: uasPort, service: 'line' }));
    const startId = Number((await pool.query('select coalesce(max(id), 0) as id from incoming_call')).rows[0].id);
    // Each step's line listens on its own port: point the number at it.
    const via = await sippStep(rate, calls, async (uasPort) => {
      await applyProvisioning(pool, {
        contracts: [{
          id: 'BENCH', region: 'west', pattern: 'A', authUnit: 'line',
          numbers: [{ number: CALLED, role: 'main', services: ['chakushin_mail'], target: `sip:${CALLED}@127.0.0.1:${uasPort}`, notify: { started: true, destinations: [{ address: 'bench@example.jp' }] } }],
        }],
      });
      return { port: sipPort, service: CALLED };
    });
    const deadline = Date.now() + drainLimitMs;
    let pending = 0;
    for (;;) {
      pending = (await pool.query(
        `select count(*)::int as n from mail_outbox o join incoming_call i on i.id = o.incoming_call_id where i.id > $1 and o.state = 'pending'`, [startId])).rows[0].n;
      if (pending === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const lat = (await pool.query<{ ms: number }>(
      `select extract(epoch from (o.sent_at - i.end_at)) * 1000 as ms from mail_outbox o join incoming_call i on i.id = o.incoming_call_id
        where i.id > $1 and o.state = 'sent'`, [startId])).rows.map((r) => Number(r.ms));
    if (warmUp) continue;
    const s: Step = {
      rate, ok: via.ok, failed: via.failed,
      p50_180: via.p50_180 - direct.p50_180, p99_180: via.p99_180 - direct.p99_180,
      mailsPending: pending, p50_mail: pct(lat, 50), p99_mail: pct(lat, 99),
    };
    steps.push(s);
    console.log(`${String(rate).padStart(5)} cps: ok ${s.ok} failed ${s.failed} (direct ok ${direct.ok})  ` +
      `added INVITE→180 p50 ${s.p50_180.toFixed(2)} p99 ${s.p99_180.toFixed(2)} ms  ` +
      `end→SMTP 250 p50 ${s.p50_mail.toFixed(0)} p99 ${s.p99_mail.toFixed(0)} ms, ${lat.length} sent, ${s.mailsPending} still pending`);
    if (s.failed > 0 || s.mailsPending > 0) break;
  }

  const good = steps.filter((s) => s.failed === 0 && s.mailsPending === 0);
  const best = good[good.length - 1];
  console.log('');
  if (best) {
    console.log(`sustained: ${best.rate} cps with every call completed and every mail delivered`);
    console.log(`post-dial delay added by engine + notify app at ${best.rate} cps: p50 ${best.p50_180.toFixed(2)} ms, p99 ${best.p99_180.toFixed(2)} ms`);
    console.log(`call end → SMTP 250 at ${best.rate} cps: p50 ${best.p50_mail.toFixed(0)} ms, p99 ${best.p99_mail.toFixed(0)} ms`);
  } else {
    console.log('sustained: none of the rates completed cleanly');
  }

  srf.disconnect();
  await app.stop(1000);
  await worker.stop();
  transport.close();
  await catcher.close();
  engine.kill('SIGTERM');
  await db.close();
}

await main();
