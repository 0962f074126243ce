// 一括転送 in the call path, with real parts: a SIPp line that answers the prober's OPTIONS and goes
// silent, the built-in engine, the notify B2BUA, a SIPp 転送先 at notify.nextHop that checks
// Diversion, PostgreSQL, the outbox and the SMTP catcher.
import path from 'node:path';
import type Srf from 'drachtio-srf';
import { afterEach, describe, expect, it } from 'vitest';
import type { NotifyApp } from '../../src/notify/app.ts';
import { readBulkForwardState } from '../../src/store/bulk-forward-settings.ts';
import { freePort } from '../support/ports.ts';
import { sippSummary, startSipp, type SippResult } from '../support/sipp.ts';
import { connectNotifyApp } from '../notify/stack.ts';
import { contract, lineIn, mailsTo, provision, SECRET, SippLine, startStack, subjectWith, type Stack } from './harness.ts';

const SCEN = (name: string) => path.resolve('test/sipp', `${name}.xml`);
const CALLER = '0612345678';
const DESTINATION = '0312345678';
const NONE = 'X-Failure-Test: 1';

let stack: Stack | undefined;
let notify: { srf: Srf; app: NotifyApp } | undefined;
const lines: SippLine[] = [];
afterEach(async () => {
  notify?.srf.disconnect();
  await notify?.app.stop();
  notify = undefined;
  await Promise.all(lines.splice(0).map((l) => l.stop()));
  await stack?.close();
  stack = undefined;
});

/** The stack with the notify B2BUA whose next hop is the 転送先 SIPp's port, its failed calls counted by the prober. */
async function start(): Promise<{ stack: Stack; nextHopPort: number }> {
  const nextHopPort = await freePort('udp');
  stack = await startStack({ notify: { nextHop: `sip:127.0.0.1:${nextHopPort}`, codecRetryWindowSec: 0 } });
  const { prober } = await stack.startProber();
  notify = await connectNotifyApp(stack.engine, SECRET, {
    pool: stack.db.pool, config: stack.config, spoolDir: path.join(stack.dir, 'spool'),
    lineAnswered: (number, status) => prober.callFailed(number, status),
  });
  return { stack, nextHopPort };
}

/** A call to `called` that the 転送先 at the next hop answers; returns the caller's and the 転送先's traces. */
async function callForwarded(s: Stack, nextHopPort: number, called: string): Promise<{ caller: SippResult; dest: SippResult }> {
  const dest = await startSipp({ scenario: SCEN('warp-dest-answer'), localPort: nextHopPort, calls: 1, keys: { audio_port: '9' }, extraArgs: ['-d', '0'], traceMessages: true, timeoutMs: 30_000 });
  const caller = await startSipp({
    scenario: SCEN('warp-uac-answer'), remote: { port: s.engine.sipAddress.port }, service: called, calls: 1,
    keys: { from: `<sip:${CALLER}@127.0.0.1>`, hdr1: NONE, hdr2: NONE, audio_port: '9' }, extraArgs: ['-d', '200'], traceMessages: true, timeoutMs: 30_000,
  });
  return { caller: await caller.done, dest: await dest.done };
}

function inviteIn(r: SippResult): string | undefined {
  return r.messages.split(/^-{10,} /m).find((b) => /message received/.test(b) && /^INVITE /m.test(b));
}

describe('一括転送 in the call path', () => {
  it('a line that goes silent: 故障 mail once and 一括転送 started; a call reaches the 転送先 with Diversion, the dead line gets no INVITE, mailed 転送; back: 回復 mail once, 一括転送 stopped', async () => {
    const { stack: s, nextHopPort } = await start();
    const line = await SippLine.create();
    lines.push(line);
    await line.answer();
    const number = '0611120001';
    await provision(s, {
      ...contract({ id: 'BFCALL', numbers: [{ number, target: line.target, services: ['chakushin_mail'] }], bulkForward: { destinations: [{ number, destination: DESTINATION }] } }),
      numbers: [{ number, role: 'main', services: ['chakushin_mail'], target: line.target, notify: { started: true, destinations: [{ address: 'pc@example.jp', send: true }] } }],
    });
    await lineIn(s, 'BFCALL', line.target, 'up');

    await line.silent();
    await lineIn(s, 'BFCALL', line.target, 'down');
    expect((await mailsTo(s.catcher, 'noc.bfcall@example.jp', 1, 15_000, subjectWith('故障')))[0]?.text).toContain('一括転送:自動で開始しました');
    expect(await readBulkForwardState(s.db.pool, 'BFCALL')).toMatchObject({ started: true, startedBy: 'service' });

    const { caller, dest } = await callForwarded(s, nextHopPort, number);
    expect(caller.exitCode, sippSummary(caller) + caller.messages).toBe(0);
    expect(dest.exitCode, sippSummary(dest) + dest.messages).toBe(0);
    const invite = inviteIn(dest)!;
    expect(invite).toMatch(new RegExp(`^INVITE sip:${DESTINATION}@127\\.0\\.0\\.1:${nextHopPort} SIP/2\\.0`, 'm'));
    expect(invite).toMatch(new RegExp(`^Diversion: <sip:${number}@127\\.0\\.0\\.1:${s.engine.sipAddress.port}>;reason=unconditional;counter=1`, 'm'));
    const [mail] = await mailsTo(s.catcher, 'pc@example.jp', 1);
    expect(mail?.text).toContain('着信状態:転送');

    const silentTrace = await line.stop();
    expect(silentTrace?.messages).toMatch(/^OPTIONS /m);
    expect(silentTrace?.messages).not.toMatch(/^INVITE /m);

    await line.answer();
    await lineIn(s, 'BFCALL', line.target, 'up');
    const [, back] = await mailsTo(s.catcher, 'noc.bfcall@example.jp', 2);
    expect(back?.subject).toMatch(/^回復通知/);
    expect(back?.text).toContain('一括転送:自動で停止しました');
    expect(await readBulkForwardState(s.db.pool, 'BFCALL')).toMatchObject({ started: false });
    await new Promise((r) => setTimeout(r, 3_000));
    expect((await s.mails('noc.bfcall@example.jp')).map((m) => m.subject.slice(0, 4))).toEqual(['故障通知', '回復通知']);
  });

  it('while 一括転送 is on it wins over the number\'s own ボイスワープ, and numbers without a 一括転送 転送先 keep theirs', async () => {
    const { stack: s, nextHopPort } = await start();
    const withDestination = '0611120011';
    const without = '0611120012';
    const linePort = await freePort('udp');
    await provision(s, {
      id: 'BFWINS', region: 'west', pattern: 'A', authUnit: 'line',
      numbers: [
        { number: withDestination, role: 'main', services: ['voice_warp'], target: `sip:a@127.0.0.1:${linePort}`, voiceWarp: { started: true, condition: 'no_answer', destination: '09011112222', ringSeconds: 20 } },
        { number: without, role: 'additional', services: ['voice_warp'], target: `sip:b@127.0.0.1:${linePort}`, voiceWarp: { started: true, condition: 'unconditional', destination: '09011113333' } },
      ],
      services: ['bulk_forward'],
      bulkForward: { started: true, destinations: [{ number: withDestination, destination: DESTINATION }] },
    });
    // The line's port has nobody: a call that rang it would fail, not reach the 転送先.
    const first = await callForwarded(s, nextHopPort, withDestination);
    expect(first.caller.exitCode, sippSummary(first.caller) + first.caller.messages).toBe(0);
    expect(inviteIn(first.dest)).toMatch(new RegExp(`^INVITE sip:${DESTINATION}@`, 'm'));
    expect(inviteIn(first.dest)).toMatch(/^Diversion: .*;reason=unconditional;counter=1/m);
    const second = await callForwarded(s, nextHopPort, without);
    expect(second.caller.exitCode, sippSummary(second.caller) + second.caller.messages).toBe(0);
    expect(inviteIn(second.dest)).toMatch(/^INVITE sip:09011113333@/m);
  });
});
