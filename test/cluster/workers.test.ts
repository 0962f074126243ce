// One node with two app workers (`chakushin start`, WORKERS=2): the engine hands calls to both; a worker
// killed outright while its call rings is replaced, and its call is recorded once by the journal's crash
// rules (and mailed) while the other worker's call goes on; /healthz and /metrics cover every worker.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLER, provision, subscriber } from '../notify/fixtures.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';
import { sippSummary, startSipp, tracedMessages } from '../support/sipp.ts';
import { waitFor } from '../support/wait.ts';

const SCEN = (name: string) => path.resolve('test/sipp', `${name}.xml`);
const NUMBER = '0620000401';
const KEYS = { from: `<sip:${CALLER}@127.0.0.1>`, hdr1: 'X-Notify-Test: 1', hdr2: 'X-Notify-Test: 1' };

let db: TestDatabase;
let varDir: string;
let linePort: number;
let node: ServiceProcess | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  varDir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-workers-'));
  linePort = await freePort('udp');
  await provision(db.pool, subscriber({ number: NUMBER, target: `sip:${NUMBER}@127.0.0.1:${linePort}` }));
  node = await startServiceProcess({ databaseUrl: db.url, varDir, config: { cluster: { workers: 2, leaseSec: 3, heartbeatSec: 0.5 } } });
}, 120_000);
afterAll(async () => {
  await node?.stop();
  await db?.drop();
  await rm(varDir, { recursive: true, force: true });
}, 60_000);

const health = async () => {
  const res = await fetch(`http://127.0.0.1:${node!.httpPort}/healthz`);
  return { status: res.status, body: (await res.json()) as { checks: Record<string, string> } };
};
/** The worker processes by their run (from their 'worker ready' lines). */
const workersByRun = () => new Map([...node!.output().matchAll(/"run":"([^"]+)","pid":(\d+),"msg":"worker ready"/g)].map((m) => [m[1]!, Number(m[2])]));

describe('app workers', () => {
  it('/healthz and /metrics cover every worker', async () => {
    expect(await health()).toEqual({ status: 200, body: { status: 'ok', checks: { database: 'ok', listeners: 'ok', sip: 'ok', 'worker 1': 'ok', 'worker 2': 'ok' } } });
    const metrics = await node!.metrics();
    expect(metrics).toMatch(/^chakushin_workers 2$/m);
    expect(metrics).toMatch(/^sip_engine_app_connections 2$/m);
    // Metrics only the workers keep, added up over both.
    expect(metrics).toMatch(/^chakushin_notify_active_calls 0$/m);
  });

  it('a worker killed while its call rings: the call is recorded once and mailed, the worker replaced, the other call untouched', async () => {
    const lines = await startSipp({ scenario: SCEN('notify-uas-ring-until-cancel'), localPort: linePort, calls: 2, timeoutMs: 60_000, traceMessages: true });
    const callers = await startSipp({
      scenario: SCEN('notify-uac-ring-or-lost'), remote: { port: node!.sipPort }, service: NUMBER, calls: 2, rate: 10, keys: KEYS,
      timeoutMs: 60_000, traceMessages: true,
    });
    const journal = await waitFor(
      async () => (await db.pool.query('select call_id, worker from call_journal where called_number = $1 and ring_at is not null', [NUMBER])).rows,
      (j) => j.length === 2, 15_000,
    );
    // The engine hands new calls round robin: one call each.
    expect(new Set(journal.map((j) => j.worker)).size).toBe(2);
    const [victim, survivor] = journal;
    const pid = workersByRun().get(victim!.worker);
    expect(pid).toBeDefined();
    const killedAt = Date.now();
    process.kill(pid!, 'SIGKILL');

    const callerResult = await callers.done;
    expect(callerResult.exitCode, sippSummary(callerResult)).toBe(0);
    const finalOf = (callId: string) => tracedMessages(callerResult.messages)
      .filter((m) => !m.sent && m.callId === callId && /^SIP\/2\.0 [3-6]\d\d /.test(m.text)).map((m) => m.text.split(' ')[1]);
    // The engine answers the caller of a worker that vanished, and CANCELs its line.
    expect(finalOf(victim!.call_id)).toEqual(['503']);
    expect(finalOf(survivor!.call_id)).toEqual(['487']);
    const lineResult = await lines.done;
    expect(lineResult.exitCode, sippSummary(lineResult)).toBe(0);

    const rows = await waitFor(
      async () => (await db.pool.query('select call_id, status, final_status, end_reason, end_at from incoming_call where called_number = $1', [NUMBER])).rows,
      (r) => r.length === 2, 20_000,
    );
    const byId = new Map(rows.map((r) => [r.call_id, r]));
    expect(byId.get(victim!.call_id)).toMatchObject({ status: '応答なし', final_status: null, end_reason: 'service_crashed' });
    expect(Math.abs(byId.get(victim!.call_id)!.end_at.getTime() - killedAt)).toBeLessThan(3_000);
    expect(byId.get(survivor!.call_id)).toMatchObject({ status: '応答なし', final_status: 487, end_reason: null });
    const mails = await waitFor(
      async () => (await db.pool.query(`select m.state from mail_outbox m join incoming_call i on i.id = m.incoming_call_id where i.called_number = $1`, [NUMBER])).rows,
      (m) => m.length === 2 && m.every((x) => x.state === 'sent'), 20_000,
    );
    expect(mails).toHaveLength(2);

    // Replaced: both workers up again, the restart counted.
    const after = await waitFor(health, (h) => h.status === 200, 30_000);
    expect(after.body.checks).toMatchObject({ sip: 'ok', 'worker 1': 'ok', 'worker 2': 'ok' });
    expect(await node!.metrics()).toMatch(/^chakushin_worker_restarts_total 1$/m);
    expect((await db.pool.query('select count(*)::int as n from call_journal')).rows[0].n).toBe(0);
  }, 90_000);
});
