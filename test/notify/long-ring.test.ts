// Long ringing through the notify B2BUA, on the real service process (UDP and TCP): the line rings
// 150 s and answers 486; rings 170 s and the caller CANCELs; rings past notify.maxRingSec and is
// CANCELled by the service (the caller gets 480). Each leaves the right record and mail, and the
// processes alive with no transaction or dialog behind in their engines.
// The 150 s and 170 s cases end inside the window where the engine's timer C used to fire on a
// completed transaction and throw (issue 10); they pass once the engine's transaction state
// machines are merged.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { waitFor } from '../support/wait.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';
import { sippSummary, startSipp, type SippResult } from '../support/sipp.ts';
import { provision, subscriber } from './fixtures.ts';

const SCEN = (name: string) => path.resolve('test/sipp', `${name}.xml`);
const CALLER = '0612345678';
/** The service whose maximum ring time the third case rings past. */
const SHORT_MAX_RING_SEC = 10;

let db: TestDatabase;
let varDir: string;
let service: ServiceProcess;
let shortRing: ServiceProcess;
let numbers = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  varDir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-long-ring-'));
  [service, shortRing] = await Promise.all([
    startServiceProcess({ databaseUrl: db.url, varDir: path.join(varDir, 'a') }),
    startServiceProcess({ databaseUrl: db.url, varDir: path.join(varDir, 'b'), config: { notify: { maxRingSec: SHORT_MAX_RING_SEC } } }),
  ]);
}, 120_000);
afterAll(async () => {
  await Promise.all([service?.stop(), shortRing?.stop()]);
  await db?.drop();
  await rm(varDir, { recursive: true, force: true });
});

/** One call: the line plays `line` (ringing -d ms), the caller `caller` (-d ms). */
async function longCall(svc: ServiceProcess, transport: 'udp' | 'tcp', line: string, lineMs: number, caller: string, callerMs: number) {
  const number = `06300000${String(++numbers).padStart(2, '0')}`;
  const linePort = await freePort(transport);
  await provision(db.pool, subscriber({ number, target: `sip:${number}@127.0.0.1:${linePort}${transport === 'tcp' ? ';transport=tcp' : ''}` }));
  const timeoutMs = 240_000;
  const lineSipp = await startSipp({ scenario: SCEN(line), localPort: linePort, calls: 1, transport, timeoutMs, traceMessages: true, extraArgs: ['-d', String(lineMs)] });
  const keys = { from: `<sip:${CALLER}@127.0.0.1>`, hdr1: 'X-Notify-Test: 1', hdr2: 'X-Notify-Test: 1' };
  const callerSipp = await startSipp({
    scenario: SCEN(caller), remote: { port: svc.sipPort }, service: number, calls: 1, keys, transport, timeoutMs, traceMessages: true,
    extraArgs: ['-d', String(callerMs)],
  });
  const [c, l] = await Promise.all([callerSipp.done, lineSipp.done]);
  return { number, caller: c, line: l };
}

function ok(r: SippResult) {
  expect(r.exitCode, sippSummary(r)).toBe(0);
}

const finalTo = (r: SippResult) => [...r.messages.matchAll(/^SIP\/2\.0 (\d{3}) /gm)].map((m) => Number(m[1])).find((c) => c >= 200);

async function expectRecorded(number: string, expected: Record<string, unknown>) {
  const rows = await waitFor(async () => (await db.pool.query('select * from incoming_call where called_number = $1', [number])).rows, (r) => r.length > 0, 10_000);
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ status: '応答なし', ...expected });
  const mails = await waitFor(
    async () => (await db.pool.query('select to_address, state, body from mail_outbox where incoming_call_id = $1', [rows[0].id])).rows,
    (m) => m.length === 1 && m[0].state === 'sent', 15_000,
  );
  expect(mails.map((m) => [m.to_address, m.state])).toEqual([[`pc.${number}@example.jp`, 'sent']]);
  expect(mails[0].body).toContain(`呼出時間:${expected.ring_seconds}秒`);
}

/**
 * The engine is back to no transactions and no dialogs (UDP transactions linger 32 s in completed,
 * timer D), and the process lives. Checked once every call on that process has ended.
 */
async function expectEngineIdle(svc: ServiceProcess) {
  const gauges = async () => {
    const text = await svc.metrics().catch(() => '');
    return [/^sip_engine_transactions (\d+)/m, /^sip_engine_dialogs (\d+)/m].map((re) => Number(re.exec(text)?.[1] ?? NaN));
  };
  const idle = await waitFor(gauges, (g) => g.every((n) => n === 0) || !svc.alive(), 45_000, 500);
  expect(svc.alive(), `the service process died:\n${svc.output().slice(-3000)}`).toBe(true);
  expect(idle).toEqual([0, 0]);
}

describe.concurrent('long ringing on the real service', () => {
  for (const transport of ['udp', 'tcp'] as const) {
    it(`${transport}: rings 150 s, then 486: relayed, 応答なし 150秒, one mail, process alive`, async ({ expect }) => {
      const r = await longCall(service, transport, 'notify-uas-busy', 150_000, 'notify-uac-fail', 0);
      ok(r.caller);
      ok(r.line);
      expect(finalTo(r.caller)).toBe(486);
      await expectRecorded(r.number, { final_status: 486, ring_seconds: 150, end_reason: null });
    }, 300_000);

    it(`${transport}: rings 170 s, then the caller CANCELs: 487, 応答なし 170秒, one mail, process alive`, async ({ expect }) => {
      const r = await longCall(service, transport, 'notify-uas-ring', 0, 'notify-uac-cancel', 170_000);
      ok(r.caller);
      ok(r.line);
      await expectRecorded(r.number, { final_status: 487, ring_seconds: 170, end_reason: null });
    }, 300_000);

    it(`${transport}: rings past notify.maxRingSec: the line is CANCELled, the caller gets 480, 応答なし, process alive`, async ({ expect }) => {
      const r = await longCall(shortRing, transport, 'notify-uas-ring', 0, 'notify-uac-fail', 0);
      ok(r.caller);
      ok(r.line);
      expect(finalTo(r.caller)).toBe(480);
      expect(r.line.messages).toMatch(/^CANCEL /m);
      await expectRecorded(r.number, { final_status: 480, ring_seconds: SHORT_MAX_RING_SEC, end_reason: 'max_ring_time' });
    }, 300_000);
  }
});

describe('after the long calls', () => {
  it('both processes are alive, with no transaction or dialog left in their engines', async () => {
    await expectEngineIdle(service);
    await expectEngineIdle(shortRing);
  }, 120_000);
});
