// kill -9 during a ringing 着信: the call journal (src/notify/journal.ts, in PostgreSQL) has it from its
// INVITE, so once the dead node's lease has run out the restarted service (a new node) records it
// exactly once — 応答なし, 呼出時間 up to the last moment the dead node is known to have been alive,
// end_reason service_crashed — and mails it.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { waitFor } from '../support/wait.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';
import { startSipp } from '../support/sipp.ts';
import { provision, subscriber } from './fixtures.ts';

const SCEN = (name: string) => path.resolve('test/sipp', `${name}.xml`);
const NUMBER = '0620000201';
const CALLER = '0612345678';
let db: TestDatabase;
let varDir: string;
let linePort: number;
const services: ServiceProcess[] = [];
/** Short lease and heartbeat (the defaults are 6 s and 1 s), so the takeover comes soon. */
const config = { cluster: { workers: 1, leaseSec: 2, heartbeatSec: 0.5 } };

beforeAll(async () => {
  db = await createTestDatabase();
  varDir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-crash-'));
  linePort = await freePort('udp');
  await provision(db.pool, subscriber({ number: NUMBER, target: `sip:${NUMBER}@127.0.0.1:${linePort}` }));
});
afterAll(async () => {
  for (const s of services) await s.kill9();
  await db?.drop();
  await rm(varDir, { recursive: true, force: true });
});

const rows = async () => (await db.pool.query('select * from incoming_call where called_number = $1', [NUMBER])).rows;

describe('a 着信 survives kill -9', () => {
  it('ringing when the process is killed: recorded once after the restart, 応答なし with the ring time up to the kill, mailed', async () => {
    const first = await startServiceProcess({ databaseUrl: db.url, varDir, config });
    services.push(first);
    const line = await startSipp({ scenario: SCEN('notify-uas-ring'), localPort: linePort, calls: 1, timeoutMs: 30_000 });
    const keys = { from: `<sip:${CALLER}@127.0.0.1>`, hdr1: 'X-Notify-Test: 1', hdr2: 'X-Notify-Test: 1' };
    const caller = await startSipp({
      scenario: SCEN('notify-uac-fail'), remote: { port: first.sipPort }, service: NUMBER, calls: 1, keys, timeoutMs: 30_000,
    });
    const journal = async () => (await db.pool.query('select call_id, ring_at from call_journal')).rows;
    // Ringing, and the journal knows it (the 180's event is written).
    await waitFor(journal, (j) => j.length === 1 && j[0].ring_at !== null, 10_000);
    await new Promise((r) => setTimeout(r, 3_000));
    const killedAt = Date.now();
    await first.kill9();
    await Promise.all([caller.stop(), line.stop()]);
    expect(await rows()).toEqual([]);

    const second = await startServiceProcess({ databaseUrl: db.url, varDir, config });
    services.push(second);
    const [row, ...more] = await waitFor(rows, (r) => r.length > 0, 30_000);
    expect(more).toEqual([]);
    expect(row).toMatchObject({ status: '応答なし', final_status: null, end_reason: 'service_crashed', caller_number: CALLER, answer_at: null });
    // The last moment known: the dead node's last heartbeat, at most half a second before the kill.
    expect(row.end_at.getTime()).toBeGreaterThan(killedAt - 1_500);
    expect(row.end_at.getTime()).toBeLessThanOrEqual(killedAt + 100);
    expect(row.ring_seconds).toBeGreaterThanOrEqual(2);
    expect(row.ring_seconds).toBeLessThanOrEqual(4);
    const mails = await waitFor(
      async () => (await db.pool.query('select to_address, state, body from mail_outbox where incoming_call_id = $1', [row.id])).rows,
      (m) => m.length === 1 && m[0].state === 'sent', 15_000,
    );
    expect(mails.map((m) => [m.to_address, m.state])).toEqual([[`pc.${NUMBER}@example.jp`, 'sent']]);
    // Recovered once: the journal is empty, the dead node's lease gone, and another takeover finds nothing more to record.
    expect(await journal()).toEqual([]);
    await second.kill9();
    const third = await startServiceProcess({ databaseUrl: db.url, varDir, config });
    services.push(third);
    await waitFor(async () => (await db.pool.query('select id from sip_node')).rows, (n) => n.length === 1, 15_000);
    expect(await rows()).toHaveLength(1);
  }, 120_000);
});
