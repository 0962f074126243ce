// notify.maxCalls: with the notify path full, the next caller gets 503 with Retry-After (the softswitch
// may try another instance), is counted, and the call in progress goes on untouched.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Srf from 'drachtio-srf';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallTracker } from '../../src/call-tracker.ts';
import { parseConfig } from '../../src/config.ts';
import type { NotifyApp } from '../../src/notify/app.ts';
import type { Engine } from '../../src/sip-engine/index.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { sippSummary, startSipp } from '../support/sipp.ts';
import { waitFor } from '../support/wait.ts';
import { quietLogger } from '../mail/mailbox.ts';
import { CALLER, provision, subscriber } from './fixtures.ts';
import { connectNotifyApp, startTestEngine } from './stack.ts';

const SCEN = (name: string) => path.resolve('test/sipp', `${name}.xml`);
const config = parseConfig({ notify: { maxCalls: 1 } });
let db: TestDatabase;
let dir: string;
let engine: Engine;
let srf: Srf;
let app: NotifyApp;
const registry = new Registry();

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-notify-cap-'));
  engine = await startTestEngine('cap');
  const calls = createCallTracker({ kind: 'notify', maxCalls: config.notify.maxCalls, logger: quietLogger, registry });
  ({ srf, app } = await connectNotifyApp(engine, 'cap', { pool: db.pool, config, spoolDir: path.join(dir, 'spool'), calls }));
});
afterAll(async () => {
  srf?.disconnect();
  await app?.stop(0);
  await engine?.close();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('notify at notify.maxCalls', () => {
  it('the next caller gets 503 with Retry-After, counted; the ringing call is untouched and recorded', async () => {
    const linePort = await freePort('udp');
    await provision(db.pool, subscriber({ number: '0620000301', target: `sip:0620000301@127.0.0.1:${linePort}` }), subscriber({ number: '0620000302', target: 'sip:0620000302@127.0.0.1:9' }));
    const keys = { from: `<sip:${CALLER}@127.0.0.1>`, hdr1: 'X-Notify-Test: 1', hdr2: 'X-Notify-Test: 1' };
    const line = await startSipp({ scenario: SCEN('notify-uas-ring'), localPort: linePort, calls: 1, timeoutMs: 20_000 });
    const ringing = await startSipp({
      scenario: SCEN('notify-uac-cancel'), remote: { port: engine.sipAddress.port }, service: '0620000301', calls: 1, keys, timeoutMs: 20_000,
      extraArgs: ['-d', '3000'],
    });
    expect(await waitFor(async () => app.activeCalls(), (n) => n === 1)).toBe(1);
    const refused = await startSipp({
      scenario: SCEN('notify-uac-fail'), remote: { port: engine.sipAddress.port }, service: '0620000302', calls: 1, keys, timeoutMs: 20_000, traceMessages: true,
    });
    const r = await refused.done;
    expect(r.exitCode, sippSummary(r)).toBe(0);
    expect(r.messages).toMatch(/^SIP\/2\.0 503 /m);
    expect(r.messages).toMatch(/^Retry-After: 5/m);
    expect(await registry.getSingleMetricAsString('chakushin_notify_calls_over_capacity_total')).toMatch(/ 1$/m);
    for (const p of [ringing, line]) {
      const done = await p.done;
      expect(done.exitCode, sippSummary(done)).toBe(0);
    }
    expect(await waitFor(async () => (await db.pool.query('select called_number, final_status from incoming_call')).rows, (x) => x.length > 0)).toEqual([
      { called_number: '0620000301', final_status: 487 },
    ]);
  });
});
