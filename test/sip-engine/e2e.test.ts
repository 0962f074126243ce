// End to end: SIPp ⇄ built-in engine ⇄ drachtio-srf test app, over UDP and over TCP.
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from '../../src/sip-engine/index.ts';
import { runSipp, sippSummary, startSipp, type SippTransport } from '../support/sipp.ts';
import { startTestApp, type TestApp } from './app.ts';

const scenario = (name: string) => path.join(import.meta.dirname, '../sipp', name);
const SECRET = 'e2e-secret';

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each<SippTransport>(['udp', 'tcp'])('built-in engine over %s', (transport) => {
  let engine: Engine;
  let app: TestApp;

  beforeAll(async () => {
    // T1 = 100 ms so the ACK-timeout case (64·T1) takes 6.4 s instead of 32 s.
    engine = await startEngine({ sip: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, secret: SECRET, timers: { t1: 100 } });
    app = await startTestApp(engine.adminAddress, SECRET);
  });
  afterAll(async () => {
    app?.close();
    await engine?.close();
  });
  beforeEach(() => {
    app.events.length = 0;
    app.sources.length = 0;
  });

  const uac = (file: string, service: string, timeoutMs = 15_000) =>
    runSipp({ scenario: scenario(file), remote: engine.sipAddress, transport, service, calls: 1, timeoutMs });

  it('answers an INVITE with 100/200 and takes the caller BYE; app sees source address and PAI', async () => {
    const r = await uac('engine-uac-answer-bye.xml', 'answer');
    expect(r.exitCode, sippSummary(r)).toBe(0);
    await waitFor(() => app.events.includes('bye'));
    expect(app.events).toEqual(['invite:answer', 'answered', 'bye']);
    const src = app.sources[0];
    expect(src?.address).toBe('127.0.0.1');
    expect(src?.protocol).toBe(transport);
    if (transport === 'udp') expect(src?.port).toBe(r.localPort);
    expect(src?.pai).toBe('<sip:0312345678@127.0.0.1>');
    expect(src?.privacy).toBe('none');
  });

  it('relays the app hanging up with BYE', async () => {
    const r = await uac('engine-uac-callee-hangup.xml', 'hangup');
    expect(r.exitCode, sippSummary(r)).toBe(0);
    expect(app.events).toContain('hungup');
  });

  it('answers CANCEL while ringing with 200 + 487 and tells the app', async () => {
    const r = await uac('engine-uac-cancel.xml', 'ring');
    expect(r.exitCode, sippSummary(r)).toBe(0);
    await waitFor(() => app.events.includes('cancel'));
  });

  it('answers INFO inside the dialog', async () => {
    const r = await uac('engine-uac-info.xml', 'info');
    expect(r.exitCode, sippSummary(r)).toBe(0);
    await waitFor(() => app.events.includes('bye'));
    expect(app.events).toEqual(['invite:info', 'answered', 'info', 'bye']);
  });

  it('answers OPTIONS through the app', async () => {
    const r = await uac('engine-uac-options.xml', 'options');
    expect(r.exitCode, sippSummary(r)).toBe(0);
    expect(app.events).toEqual(['options']);
  });

  it('sends BYE when the ACK for a 200 never arrives', async () => {
    const before = engine.counters.ackTimeouts;
    const r = await uac('engine-uac-noack.xml', 'noack', 20_000);
    expect(r.exitCode, sippSummary(r)).toBe(0);
    expect(engine.counters.ackTimeouts).toBe(before + 1);
    // What the app sees: its dialog's 'destroy' for a BYE from source "application" with reason "ACK timeout".
    await waitFor(() => app.events.includes('bye:ACK timeout'));
  });

  describe('B2BUA (srf.createB2BUA)', () => {
    const callee = async (file: string) => startSipp({ scenario: scenario(file), transport, calls: 1, timeoutMs: 20_000 });

    it('relays 180 and 200, the ACK and the BYE; carries P-Asserted-Identity and Privacy', async () => {
      const uas = await callee('engine-uas-b2b.xml');
      const r = await uac('engine-uac-b2b.xml', `b2b-${uas.localPort}`);
      const u = await uas.done;
      expect(r.exitCode, sippSummary(r)).toBe(0);
      expect(u.exitCode, sippSummary(u)).toBe(0);
      expect(app.events).toContain('b2b:connected');
    });

    for (const status of ['486', '408']) {
      it(`relays a ${status} from the callee to the caller`, async () => {
        const uas = await callee(`engine-uas-${status}.xml`);
        const r = await uac(`engine-uac-b2b-${status}.xml`, `b2b-${uas.localPort}`);
        const u = await uas.done;
        expect(r.exitCode, sippSummary(r)).toBe(0);
        expect(u.exitCode, sippSummary(u)).toBe(0);
        expect(app.events).toContain(`error:${status}`);
      });
    }

    it('relays the caller CANCEL to the callee and the 487 back', async () => {
      const uas = await callee('engine-uas-ring-cancel.xml');
      const r = await uac('engine-uac-b2b-cancel.xml', `b2b-${uas.localPort}`);
      const u = await uas.done;
      expect(r.exitCode, sippSummary(r)).toBe(0);
      expect(u.exitCode, sippSummary(u)).toBe(0);
    });
  });
});

describe('built-in engine without an app', () => {
  it.each<SippTransport>(['udp', 'tcp'])('answers 503 over %s', async (transport) => {
    const engine = await startEngine({ sip: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, secret: SECRET });
    try {
      const r = await runSipp({ scenario: scenario('engine-uac-503.xml'), remote: engine.sipAddress, transport, service: 'anyone', calls: 1, timeoutMs: 15_000 });
      expect(r.exitCode, sippSummary(r)).toBe(0);
      expect(engine.counters.rejected.get(503)).toBe(1);
    } finally {
      await engine.close();
    }
  });
});
