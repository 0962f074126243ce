// Long ringing through the engine and the test B2BUA, over UDP and TCP, with SIPp on both legs and
// SIPp's own pause for the ring time. Every RFC 3261 timer runs at one tenth of its real value
// (T1 50 ms, timer C 18.5 s), so the calls below sit where the real ones do against the real timers:
//   rings 150 s → 15 s, then 486;
//   rings 170 s → 17 s, then the caller CANCELs: the B leg's timer D (64·T1) outlives timer C,
//     which is where the engine used to crash (issue 10);
//   rings 200 s → 20 s, past timer C: the engine CANCELs the line and relays the line's 487.
// Each leaves the engine serving, with no transaction or dialog behind and no fault counted.
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACK_REFUSED } from '../../src/sip-engine/app-commands.ts';
import { startEngine, type Engine } from '../../src/sip-engine/index.ts';
import { DEFAULT_TIMERS } from '../../src/sip-engine/transactions.ts';
import { runSipp, sippSummary, startSipp, type SippTransport } from '../support/sipp.ts';
import { startTestApp, type TestApp } from './app.ts';

const scenario = (name: string) => path.join(import.meta.dirname, '../sipp', name);
const SECRET = 'long-ring';
const SCALE = 0.1;
const timers = {
  t1: DEFAULT_TIMERS.t1 * SCALE, t2: DEFAULT_TIMERS.t2 * SCALE, t4: DEFAULT_TIMERS.t4 * SCALE, c: DEFAULT_TIMERS.c * SCALE,
};
const ring = (realSeconds: number) => String(realSeconds * 1000 * SCALE);

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

describe.each<SippTransport>(['udp', 'tcp'])('long ringing over %s', (transport) => {
  let engine: Engine;
  let app: TestApp;
  const logs: { msg: string; callId?: string }[] = [];

  beforeAll(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => { logs.push(JSON.parse(line) as { msg: string }); } });
    engine = await startEngine({ sip: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, secret: SECRET, timers, logger });
    app = await startTestApp(engine.adminAddress, SECRET);
  });
  afterAll(async () => {
    app?.close();
    await engine?.close();
  });

  it('150 s then 486; 170 s then the caller CANCELs; 200 s, past timer C: the engine CANCELs the line', async () => {
    const call = async (uasFile: string, uacFile: string, d: { uas?: string; uac?: string }) => {
      const uas = await startSipp({ scenario: scenario(uasFile), transport, calls: 1, timeoutMs: 60_000, extraArgs: d.uas ? ['-d', d.uas] : [] });
      const uac = await runSipp({
        scenario: scenario(uacFile), remote: engine.sipAddress, transport, service: `b2b-${uas.localPort}`, calls: 1,
        timeoutMs: 60_000, extraArgs: d.uac ? ['-d', d.uac] : [],
      });
      return { uac, uas: await uas.done };
    };
    const [busy, abandoned, pastC] = await Promise.all([
      call('engine-uas-ring-486.xml', 'engine-uac-b2b-ring-final.xml', { uas: ring(150) }),
      call('engine-uas-ring-cancel.xml', 'engine-uac-b2b-ring-cancel.xml', { uac: ring(170) }),
      call('engine-uas-ring-cancel.xml', 'engine-uac-b2b-ring-final.xml', {}),
    ]);
    for (const r of [busy, abandoned, pastC]) {
      expect(r.uac.exitCode, sippSummary(r.uac)).toBe(0);
      expect(r.uas.exitCode, sippSummary(r.uas)).toBe(0);
    }
    expect(app.events.filter((e) => e.startsWith('error:')).sort()).toEqual(['error:486', 'error:487', 'error:487']);
    expect(engine.counters.timerCCancels).toBe(1);
    // drachtio-srf ACKs every final response; for the 486 and the 487s the engine already had, and says so.
    expect(logs.filter((l) => l.msg === ACK_REFUSED)).toHaveLength(3);

    // Timer D of the B legs (64·T1) runs out; nothing may fire into a finished transaction.
    const drained = await until(() => engine.counters.transactions() === 0 && engine.counters.dialogs() === 0, 10_000);
    expect(drained, `transactions=${engine.counters.transactions()} dialogs=${engine.counters.dialogs()}`).toBe(true);
    // By now every timer C that was ever armed is past its time: none may have fired into a finished call.
    expect(engine.counters.faults).toBe(0);
    expect(engine.counters.illegalTransitions).toBe(0);
    expect(engine.counters.transactionTimeouts).toBe(0);
    const alive = await runSipp({ scenario: scenario('engine-uac-options.xml'), remote: engine.sipAddress, transport, service: 'options', calls: 1, timeoutMs: 10_000 });
    expect(alive.exitCode, sippSummary(alive)).toBe(0);
  }, 120_000);
});
