// The call record → outbox → SMTP pipeline, without SIP: what the B2BUA hands over at call end.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { startSmtpCatcher, type SmtpCatcher } from '../../src/mail/catcher.ts';
import { catcherTransport } from '../../src/mail/transport.ts';
import { startMailWorker } from '../../src/mail/worker.ts';
import { callerId } from '../../src/domain/caller-id.ts';
import { loadNotifyProfile } from '../../src/notify/profile.ts';
import { recordCall, supersedeCodecRejectedCalls, type FinishedCall } from '../../src/notify/record.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { quietLogger, readMails, waitForMails } from '../mail/mailbox.ts';
import { CALLED, CALLER, provision, subscriber } from './fixtures.ts';

const config = parseConfig({ notify: { codecRetryWindowSec: 2 } });
const rules = config.notify.absentReasonRules;
let db: TestDatabase;
let dir: string;
let catcher: SmtpCatcher;
const stops: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-record-'));
});
afterEach(async () => {
  while (stops.length) await stops.pop()!();
  await db.pool.query('delete from mail_outbox; delete from incoming_call; delete from contract');
});
afterAll(async () => {
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

let boxes = 0;
async function startDelivery(): Promise<void> {
  catcher = await startSmtpCatcher({ host: '127.0.0.1', port: 0, dir: path.join(dir, `box${++boxes}`), logger: quietLogger });
  const transport = catcherTransport({ host: '127.0.0.1', port: catcher.port });
  const worker = startMailWorker({ pool: db.pool, listenUrl: db.url, transport, logger: quietLogger, concurrency: 4, pollMs: 100 });
  stops.push(() => catcher.close(), async () => transport.close(), () => worker.stop());
}

const t0 = new Date('2026-11-22T00:15:03.000Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);
let seq = 0;
function missedCall(caller = callerId({ from: `<sip:${CALLER}@trunk>` }, true, rules), over: Partial<Extract<FinishedCall, { timeline: unknown }>['timeline']> = {}): FinishedCall {
  return {
    callId: `call-${++seq}@test`, calledNumber: CALLED, caller,
    timeline: { inviteAt: t0, ringAt: at(0.2), endAt: at(10.3), finalStatus: 487, forwarded: false, ...over },
  };
}

async function profileFor(call: FinishedCall) {
  return (await loadNotifyProfile(db.pool, call.calledNumber, call.caller.number, config.notify.codecRetryWindowSec))!;
}

const missedText = [
  '着信日時:2026/11/22 09:15:03', '発信電話番号:0612345678', '非通知理由:', '呼出時間:10秒', '着信状態:応答なし', '',
  '------', 'NTT西日本　「着信お知らせメール」', '※各種設定は、ひかり電話設定サイトから行ってください。', 'https://www.hikari.ntt-west.net',
  '※本メールは送信専用のため返信できません。', '',
].join('\n');

describe('call record to mail', () => {
  it('records the call and mails every destination whose send flag is on, once', async () => {
    const destinations = [1, 2, 3, 4, 5].map((i) => ({ address: `d${i}@example.jp`, send: i !== 2 && i !== 4 }));
    await provision(db.pool, subscriber({ notify: { destinations } }));
    await startDelivery();
    const call = missedCall();
    const result = await recordCall(db.pool, config, await profileFor(call), call);
    expect(result.mailIds).toHaveLength(3);
    const got = await waitForMails(catcher, 3);
    expect(got.map((m) => m.deliveredTo).sort()).toEqual(['d1@example.jp', 'd3@example.jp', 'd5@example.jp']);
    for (const m of got) expect(m).toMatchObject({ subject: '着信通知（0611112222着）', from: 'number_info@hikari.ntt-west.net', text: missedText });
    const { rows } = await db.pool.query('select caller_number, absent_reason, status, ring_seconds, final_status, ring_at, refused_by from incoming_call');
    expect(rows).toEqual([{ caller_number: CALLER, absent_reason: null, status: '応答なし', ring_seconds: 10, final_status: 487, ring_at: at(0.2), refused_by: null }]);
  });

  it('saving the same call again sends nothing more', async () => {
    await provision(db.pool, subscriber());
    await startDelivery();
    const call = missedCall();
    await recordCall(db.pool, config, await profileFor(call), call);
    const again = await recordCall(db.pool, config, await profileFor(call), call);
    expect(again).toEqual({ incomingCallId: null, decision: { send: false, why: 'already recorded' }, mailIds: [] });
    await waitForMails(catcher, 1);
    await new Promise((r) => setTimeout(r, 500));
    expect(await readMails(catcher)).toHaveLength(1);
  });

  it('a call recorded while no worker runs (app restarted) is delivered once when one starts', async () => {
    await provision(db.pool, subscriber());
    const call = missedCall();
    await recordCall(db.pool, config, await profileFor(call), call);
    await startDelivery();
    expect((await waitForMails(catcher, 1)).map((m) => m.text)).toEqual([missedText]);
    await new Promise((r) => setTimeout(r, 500));
    expect(await readMails(catcher)).toHaveLength(1);
  });

  it('pattern B, withheld: legacy wording and the reason instead of the number', async () => {
    await provision(db.pool, subscriber({ pattern: 'B', region: 'east' }));
    await startDelivery();
    const call = missedCall(callerId({ from: '"Anonymous" <sip:anonymous@anonymous.invalid>', privacy: 'id' }, true, rules), { finalStatus: 486, endAt: at(3.2) });
    await recordCall(db.pool, config, await profileFor(call), call);
    const [m] = await waitForMails(catcher, 1);
    expect(m!.from).toBe('number_info@hikari.msd.isp.ntt-east.co.jp');
    expect(m!.text).toBe(
      [
        '着信日時:2026/11/22 09:15:03', '発信者通知番号:', '非通知理由:非通知', '呼出時間:3秒', '着信状態:応答なし', '',
        '------', 'NTT東日本　「着信お知らせメール」', '※各種設定は、サービス設定ホームページから実施してください。',
        'https://www.hikari.msd.isp.ntt-east.co.jp/', '※本メールは送信専用のため返信できません。', '',
      ].join('\n'),
    );
  });

  it('a refused call is recorded without a mail', async () => {
    await provision(db.pool, subscriber({ services: ['chakushin_mail', 'nuisance_block'], blocked: [CALLER] }));
    const call = missedCall();
    const profile = await profileFor(call);
    expect(profile.callerBlocked).toBe(true);
    const r = await recordCall(db.pool, config, profile, { callId: call.callId, calledNumber: CALLED, caller: call.caller, refused: { by: 'nuisance_block', status: 603, reason: 'Decline' }, inviteAt: t0, endAt: t0 });
    expect(r.mailIds).toEqual([]);
    const { rows } = await db.pool.query('select status, refused_by, final_status from incoming_call');
    expect(rows).toEqual([{ status: null, refused_by: 'nuisance_block', final_status: 603 }]);
  });

  it('designated-only reads the caller flag in the one profile query', async () => {
    await provision(db.pool, subscriber({ notify: { designatedOnly: true, designated: [{ number: CALLER, designated: true }, { number: '0699999999', designated: false }] } }));
    expect((await loadNotifyProfile(db.pool, CALLED, CALLER, 10))!.callerDesignated).toBe(true);
    expect((await loadNotifyProfile(db.pool, CALLED, '0699999999', 10))!.callerDesignated).toBe(false);
    expect((await loadNotifyProfile(db.pool, CALLED, null, 10))!.callerDesignated).toBe(false);
    expect(await loadNotifyProfile(db.pool, '0600000000', CALLER, 10)).toBeUndefined();
  });

  it('高音質電話: the standard-quality retry replaces the rejected call, one mail', async () => {
    await provision(db.pool, subscriber());
    await startDelivery();
    // The retry window is measured against the clock: this call happens now.
    const now = Date.now();
    const rejected = missedCall(undefined, { inviteAt: new Date(now - 100), ringAt: undefined, endAt: new Date(now), finalStatus: 488 });
    const r1 = await recordCall(db.pool, config, await profileFor(rejected), rejected);
    expect(r1.mailIds).toHaveLength(1);
    // The retry arrives: its profile shows the recent rejection, and the held mail is dropped.
    const retry = missedCall(undefined, { inviteAt: new Date(now + 100), ringAt: new Date(now + 200), endAt: new Date(now + 5200) });
    const profile = await profileFor(retry);
    expect(profile.recentCodecRejection).toBe(true);
    expect(await supersedeCodecRejectedCalls(db.pool, CALLED, CALLER, config.notify.codecRetryWindowSec)).toBe(1);
    await recordCall(db.pool, config, profile, retry);
    const got = await waitForMails(catcher, 1);
    await new Promise((r) => setTimeout(r, config.notify.codecRetryWindowSec * 1000 + 500));
    expect((await readMails(catcher)).map((m) => m.text.split('\n')[3])).toEqual(['呼出時間:5秒']);
    expect(got).toHaveLength(1);
  });

  it('a codec rejection with no retry is still mailed after the window', async () => {
    await provision(db.pool, subscriber());
    await startDelivery();
    const rejected = missedCall(undefined, { ringAt: undefined, endAt: at(0.1), finalStatus: 415 });
    await recordCall(db.pool, config, await profileFor(rejected), rejected);
    expect(await readMails(catcher)).toHaveLength(0);
    const got = await waitForMails(catcher, 1, 10_000);
    expect(got.map((m) => m.text.split('\n')[4])).toEqual(['着信状態:応答なし']);
  });
});
