// The call journal in PostgreSQL and the takeover's crash rules, on a real database: a call's events
// reach its row in batches; its record removes the row in the same statement; a call that ends before
// its first write is never written; the calls a dead holder left are recorded exactly once — ringing:
// 応答なし up to the last moment known, answered: 通話 ending then — and their ringing legs handed back
// for a CANCEL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { callerId } from '../../src/domain/caller-id.ts';
import { openCallJournal } from '../../src/notify/journal.ts';
import { loadNotifyProfile, type NotifyProfile } from '../../src/notify/profile.ts';
import { recordCall } from '../../src/notify/record.ts';
import { takeOverCalls } from '../../src/notify/takeover.ts';
import type { OutgoingInvite } from '../../src/notify/leg-cancel.ts';
import { journalRows } from '../../src/store/call-journal.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { waitFor } from '../support/wait.ts';
import { quietLogger } from '../mail/mailbox.ts';
import { CALLED, CALLER, provision, subscriber } from './fixtures.ts';

const config = parseConfig({});
let db: TestDatabase;
let profile: NotifyProfile;
const caller = callerId({ from: `<sip:${CALLER}@trunk>` }, true, config.notify.absentReasonRules);
const t0 = new Date('2026-11-22T00:15:03.000Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);
const leg = (callId: string): OutgoingInvite => ({
  uri: `sip:${CALLED}@127.0.0.1:5090`, via: `SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-${callId}`, from: `<sip:${CALLER}@127.0.0.1>;tag=a`,
  to: `<sip:${CALLED}@127.0.0.1>`, callId: `b-${callId}`, cseq: 7, route: [], dest: { protocol: 'udp', host: '127.0.0.1', port: 5090 },
});

beforeAll(async () => {
  db = await createTestDatabase();
  await provision(db.pool, subscriber());
  profile = (await loadNotifyProfile(db.pool, CALLED, CALLER, 10))!;
});
afterAll(async () => {
  await db?.drop();
});

const rowsOf = (worker: string) => journalRows(db.pool, { worker });

describe('call journal', () => {
  it('a live call: its events reach its row; its record removes the row; a call over before its first write is never written', async () => {
    const owner = { node: 'node-a', worker: 'w-live' };
    const j = openCallJournal({ pool: db.pool, owner, logger: quietLogger, windowMs: 0 });
    j.started({ callId: 'live@x', calledNumber: CALLED, caller, profile, inviteAt: t0 });
    j.legSent('live@x', leg('live@x'));
    j.ringing('live@x', at(1), false);
    const [row] = await waitFor(() => rowsOf('w-live'), (r) => r.length === 1 && r[0]!.ringAt !== null, 5_000);
    expect(row).toMatchObject({ callId: 'live@x', calledNumber: CALLED, node: 'node-a', inviteAt: t0, ringAt: at(1), answerAt: null, legs: [leg('live@x')] });
    expect(row!.profile).toEqual(profile);
    j.answered('live@x', at(4));
    await waitFor(() => rowsOf('w-live'), (r) => r[0]?.answerAt?.getTime() === at(4).getTime(), 5_000);

    await j.ended('live@x');
    await recordCall(db.pool, config, profile, {
      callId: 'live@x', calledNumber: CALLED, caller,
      timeline: { inviteAt: t0, ringAt: at(1), answerAt: at(4), endAt: at(9), finalStatus: 200, forwarded: false },
    });
    expect(await rowsOf('w-live')).toEqual([]);

    j.started({ callId: 'short@x', calledNumber: CALLED, caller, profile, inviteAt: t0 });
    await j.ended('short@x');
    await j.close();
    expect(await rowsOf('w-live')).toEqual([]);
  });

  it('takeover: ringing → 応答なし up to the last moment known, answered → 通話; once; ringing legs handed back', async () => {
    const owner = { node: 'node-b', worker: 'w-dead' };
    const j = openCallJournal({ pool: db.pool, owner, logger: quietLogger, windowMs: 0 });
    j.started({ callId: 'ringing@x', calledNumber: CALLED, caller, profile, inviteAt: t0 });
    j.legSent('ringing@x', leg('ringing@x'));
    j.ringing('ringing@x', at(0.3), false);
    j.started({ callId: 'answered@x', calledNumber: CALLED, caller, profile, inviteAt: t0 });
    j.legSent('answered@x', leg('answered@x'));
    j.ringing('answered@x', at(0.2), false);
    j.answered('answered@x', at(4));
    await j.close();
    const rows = await rowsOf('w-dead');
    expect(rows.map((r) => r.callId).sort()).toEqual(['answered@x', 'ringing@x']);

    const taken = await takeOverCalls(db.pool, config, rows, at(12.6), quietLogger);
    expect(taken.recorded).toBe(2);
    expect(taken.ringing).toEqual([leg('ringing@x')]);
    expect(await rowsOf('w-dead')).toEqual([]);
    const { rows: records } = await db.pool.query(
      `select call_id, status, final_status, ring_seconds, end_at, end_reason, (select count(*)::int from mail_outbox m where m.incoming_call_id = c.id) as mails
       from incoming_call c where call_id in ('answered@x', 'ringing@x') order by call_id`,
    );
    expect(records).toEqual([
      { call_id: 'answered@x', status: '通話', final_status: 200, ring_seconds: 4, end_at: at(12.6), end_reason: 'service_crashed', mails: 1 },
      { call_id: 'ringing@x', status: '応答なし', final_status: null, ring_seconds: 12, end_at: at(12.6), end_reason: 'service_crashed', mails: 1 },
    ]);

    // Taken over twice (two nodes, or a taker that died before it finished): recorded once.
    const again = await takeOverCalls(db.pool, config, rows, at(20), quietLogger);
    expect(again.recorded).toBe(0);
    const { rows: ends } = await db.pool.query(`select end_at from incoming_call where call_id = 'ringing@x'`);
    expect(ends).toEqual([{ end_at: at(12.6) }]);
  });

  it('the last moment known is the later of the holder\'s last sign of life and the call\'s last event', async () => {
    const j = openCallJournal({ pool: db.pool, owner: { node: 'node-c', worker: 'w-late' }, logger: quietLogger, windowMs: 0 });
    j.started({ callId: 'late@x', calledNumber: CALLED, caller, profile, inviteAt: t0 });
    j.ringing('late@x', at(7), true);
    await j.close();
    await takeOverCalls(db.pool, config, await rowsOf('w-late'), at(2), quietLogger);
    const { rows } = await db.pool.query(`select status, ring_seconds, end_at from incoming_call where call_id = 'late@x'`);
    // 181 (forwarded) and no answer: 転送 rules apply as for any call; ringing from the 18x to its own moment.
    expect(rows).toEqual([{ status: '応答なし', ring_seconds: 0, end_at: at(7) }]);
  });
});
