// The ボイスワープ call path of one process for SIPp tests, and what they read from SIPp's traces:
// the built-in SIP engine (or a real drachtio-server, TEST_DRACHTIO), the notify B2BUA, the media
// endpoint (built-in, or FreeSWITCH with TEST_FREESWITCH), the mail worker and an SMTP catcher, on a
// database the test brings; the 転送先 is a SIPp UAS at notify.nextHop. Used by forward-sipp.test.ts
// and by the settings site's end-to-end test (site-forward.test.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Srf from 'drachtio-srf';
import { expect } from 'vitest';
import type { Config } from '../../src/config.ts';
import { startSmtpCatcher, type SmtpCatcher } from '../../src/mail/catcher.ts';
import { catcherTransport } from '../../src/mail/transport.ts';
import { startMailWorker } from '../../src/mail/worker.ts';
import { createBuiltinMediaServer, createFreeswitchMediaServer, loadPromptLibrary, type MediaServer, type PromptLibrary } from '../../src/media/index.ts';
import type { Engine } from '../../src/sip-engine/index.ts';
import type { TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { sippSummary, startSipp, type SippResult } from '../support/sipp.ts';
import { testDrachtio, testFreeswitch } from '../support/test-drachtio.ts';
import { mailsTo, quietLogger } from '../mail/mailbox.ts';
import { connectNotifyApp, startTestEngine } from '../notify/stack.ts';

export const SCEN = (name: string) => path.resolve('test/sipp', `${name}.xml`);
export const CALLER = '0612345678';
export const DESTINATION = '09012345678';
const SECRET = 'warp-test';
const NONE = 'X-Warp-Test: 1';

export interface WarpStack {
  engine: Engine;
  /** notify.nextHop: where the 転送先 SIPp listens. */
  nextHopPort: number;
  prompts: PromptLibrary;
  call(spec: CallSpec): Promise<CallResult>;
  /** The mails the catcher got for `address`, waiting up to `timeoutMs` for `count` of them. */
  mailsTo(address: string, count: number, timeoutMs?: number): ReturnType<typeof mailsTo>;
  stop(): Promise<void>;
}

/** Starts the call path on `db`; sets `config.notify.nextHop` to the 転送先's port. The database stays the caller's. */
export async function startWarpStack(db: Pick<TestDatabase, 'pool' | 'url'>, config: Config): Promise<WarpStack> {
  const nextHopPort = await freePort('udp');
  config.notify.nextHop = `sip:127.0.0.1:${nextHopPort}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-warp-e2e-'));
  // TEST_DRACHTIO (by hand): the same calls through a real drachtio-server.
  const real = testDrachtio();
  const engine = real
    ? ({ sipAddress: { host: '127.0.0.1', port: real.sipPort }, adminAddress: { host: '127.0.0.1', port: real.adminPort }, close: async () => undefined } as unknown as Engine)
    : await startTestEngine(SECRET);
  const catcher: SmtpCatcher = await startSmtpCatcher({ host: '127.0.0.1', port: 0, dir, logger: quietLogger });
  const transport = catcherTransport({ host: '127.0.0.1', port: catcher.port }, 4);
  const worker = startMailWorker({ pool: db.pool, listenUrl: db.url, transport, logger: quietLogger, concurrency: 4, pollMs: 100 });
  const prompts = await loadPromptLibrary({ dir: path.resolve('prompts') });
  const fs = testFreeswitch();
  let media: MediaServer | undefined = fs ? undefined : await createBuiltinMediaServer({ host: '127.0.0.1', portMin: 0, portMax: 0, prompts });
  const { srf, app } = await connectNotifyApp(engine, real?.secret ?? SECRET, {
    pool: db.pool, config, spoolDir: path.join(dir, 'spool'), media: { open: (sdp, o) => media!.open(sdp, o), close: async () => undefined },
  });
  // TEST_FREESWITCH (by hand, with TEST_DRACHTIO): 転送ガイダンス and the bridge through a real FreeSWITCH.
  if (fs) media = await createFreeswitchMediaServer({ srf: srf as Srf, address: '127.0.0.1', port: fs.eslPort, secret: fs.secret, listenAddress: '127.0.0.1', prompts });
  return {
    engine,
    nextHopPort,
    prompts,
    call: (spec) => placeCall(engine, nextHopPort, spec),
    mailsTo: (address, count, timeoutMs) => mailsTo(catcher, address, count, timeoutMs),
    async stop() {
      srf.disconnect();
      await app.stop();
      await media?.close();
      await worker.stop();
      transport.close();
      await catcher.close();
      await engine.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export type LineScenario = 'answer' | 'ring' | 'busy';
export type DestScenario = 'answer' | 'ring' | 'busy';
export interface CallSpec {
  called: string;
  linePort: number;
  caller: 'answer' | 'fail' | 'cancel' | 'cancel-forwarded' | 'late-offer';
  /** Talk time (answer) or ringing before the CANCEL. */
  callerMs?: number;
  line?: { scenario: LineScenario; ringMs?: number };
  dest?: { scenario: DestScenario; ringMs?: number; audioPort?: number };
  from?: string;
  hdr1?: string;
  hdr2?: string;
  audioPort?: number;
}

export interface CallResult {
  caller: SippResult;
  line?: SippResult;
  dest?: SippResult;
}

/** One call; the line and the 転送先 that are expected to get no INVITE are listened for anyway and must stay silent. */
async function placeCall(engine: Engine, nextHopPort: number, spec: CallSpec): Promise<CallResult> {
  const line = await startSipp({
    scenario: SCEN(`notify-uas-${spec.line?.scenario ?? 'ring'}`), localPort: spec.linePort, calls: 1,
    extraArgs: ['-d', String(spec.line?.ringMs ?? 0)], timeoutMs: 40_000, traceMessages: true,
  });
  const dest = await startSipp({
    scenario: SCEN(`warp-dest-${spec.dest?.scenario ?? 'ring'}`), localPort: nextHopPort, calls: 1,
    keys: { audio_port: String(spec.dest?.audioPort ?? 9) },
    extraArgs: ['-d', String(spec.dest?.ringMs ?? 0)], timeoutMs: 40_000, traceMessages: true,
  });
  const callerScenario = spec.caller === 'cancel' ? 'notify-uac-cancel' : `warp-uac-${spec.caller}`;
  const caller = await startSipp({
    scenario: SCEN(callerScenario), remote: { port: engine.sipAddress.port }, service: spec.called, calls: 1,
    keys: { from: spec.from ?? `<sip:${CALLER}@127.0.0.1>`, hdr1: spec.hdr1 ?? NONE, hdr2: spec.hdr2 ?? NONE, audio_port: String(spec.audioPort ?? 9) },
    extraArgs: ['-d', String(spec.callerMs ?? 0)], traceMessages: true, timeoutMs: 40_000,
  });
  const callerResult = await caller.done;
  // A side that was rung has finished its scenario with the caller; one that was not is stopped.
  const settle = async (p: Awaited<ReturnType<typeof startSipp>>, used: boolean) => (used ? p.done : p.stop());
  return { caller: callerResult, line: await settle(line, !!spec.line), dest: await settle(dest, !!spec.dest) };
}

/** The caller's scenario ran to its end. */
export function ok(r: CallResult) {
  expect(r.caller.exitCode, sippSummary(r.caller) + r.caller.messages).toBe(0);
}
export function okSide(s: SippResult | undefined) {
  expect(s, 'side was expected to take part').toBeDefined();
  expect(s!.exitCode, sippSummary(s!) + s!.messages).toBe(0);
}
export function untouched(s: SippResult | undefined) {
  expect(s?.stats?.created ?? 0, s?.messages).toBe(0);
  expect(s?.messages ?? '').not.toMatch(/^INVITE /m);
}

/** Status codes of the responses to the caller's INVITE, in order (100 left out). */
export function responsesTo(r: SippResult): number[] {
  return received(r)
    .filter((m) => /^SIP\/2\.0 /.test(m.text) && /^CSeq:\s*\d+ INVITE/im.test(m.text))
    .map((m) => Number(m.text.slice(8, 11)))
    .filter((c) => c !== 100);
}

/** The messages a SIPp trace shows received, with when SIPp logged them (local time, ms since the epoch). */
export function received(r: SippResult): { text: string; at: number }[] {
  return r.messages.split(/^-{10,} /m).flatMap((block) => {
    const [stamp = '', what = ''] = block.split('\n');
    if (!/received/.test(what)) return [];
    const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3})/.exec(stamp);
    return [{ text: block.split('\n').slice(2).join('\n').trimStart(), at: m ? new Date(`${m[1]}T${m[2]}`).getTime() : NaN }];
  });
}

/** The first message received in a SIPp trace that starts with `startLine`. */
export function traced(r: SippResult, startLine: RegExp): { text: string; at: number } | undefined {
  return received(r).find((m) => startLine.test(m.text));
}

export function header(text: string, name: string): string | undefined {
  return new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(text)?.[1]?.trim();
}
