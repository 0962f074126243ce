// The call journal's recovery rule, on real files and a real database: calls started and not ended
// are recorded once — ringing: 応答なし up to the last moment known (the file's mtime), answered:
// 通話 ending then — and calls that ended leave nothing to recover.
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { callerId } from '../../src/domain/caller-id.ts';
import { journalFileName, openCallJournal, openCallsIn, recoverJournal } from '../../src/notify/journal.ts';
import { loadNotifyProfile, type NotifyProfile } from '../../src/notify/profile.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { quietLogger } from '../mail/mailbox.ts';
import { CALLED, CALLER, provision, subscriber } from './fixtures.ts';

const config = parseConfig({});
let db: TestDatabase;
let dir: string;
let profile: NotifyProfile;
const caller = callerId({ from: `<sip:${CALLER}@trunk>` }, true, config.notify.absentReasonRules);
const t0 = new Date('2026-11-22T00:15:03.000Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-journal-'));
  await provision(db.pool, subscriber());
  profile = (await loadNotifyProfile(db.pool, CALLED, CALLER, 10))!;
});
afterAll(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

/** A journal as a dead process left it: these lines, last touched at `lastKnown`. */
async function deadJournal(lines: object[], lastKnown: Date): Promise<string> {
  const file = journalFileName(dir, 999_999, `dead${Math.random().toString(36).slice(2, 8)}`);
  await writeFile(file, lines.map((l) => `${JSON.stringify(l)}\n`).join('') + '{"t":"r","c":"torn');
  await utimes(file, lastKnown, lastKnown);
  return file;
}

describe('call journal', () => {
  it('ringing → 応答なし up to the last moment known; answered → 通話; ended → nothing', async () => {
    const s = (c: string) => ({ t: 's', c, n: CALLED, caller, profile, at: t0.toISOString() });
    const file = await deadJournal(
      [
        s('ringing@x'), { t: 'r', c: 'ringing@x', at: at(0.3).toISOString(), fw: false },
        s('answered@x'), { t: 'r', c: 'answered@x', at: at(0.2).toISOString(), fw: false }, { t: 'a', c: 'answered@x', at: at(4).toISOString() },
        s('ended@x'), { t: 'e', c: 'ended@x' },
      ],
      at(12.6),
    );
    const open = await openCallsIn(file);
    expect(open.map((o) => o.call.callId).sort()).toEqual(['answered@x', 'ringing@x']);
    expect(await recoverJournal(file, db.pool, config, quietLogger)).toBe(2);
    const { rows } = await db.pool.query(
      `select call_id, status, final_status, ring_seconds, end_at, end_reason, (select count(*)::int from mail_outbox m where m.incoming_call_id = c.id) as mails
       from incoming_call c order by call_id`,
    );
    expect(rows).toEqual([
      { call_id: 'answered@x', status: '通話', final_status: 200, ring_seconds: 4, end_at: at(12.6), end_reason: 'service_crashed', mails: 1 },
      { call_id: 'ringing@x', status: '応答なし', final_status: null, ring_seconds: 12, end_at: at(12.6), end_reason: 'service_crashed', mails: 1 },
    ]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a call recovered twice (two replayers, or a crash before the file was removed) is recorded once', async () => {
    const lines = [{ t: 's', c: 'twice@x', n: CALLED, caller, profile, at: t0.toISOString() }];
    await recoverJournal(await deadJournal(lines, at(5)), db.pool, config, quietLogger);
    await recoverJournal(await deadJournal(lines, at(9)), db.pool, config, quietLogger);
    const { rows } = await db.pool.query(`select end_at from incoming_call where call_id = 'twice@x'`);
    expect(rows).toEqual([{ end_at: at(5) }]);
  });

  it('a live journal: events are on disk once written; a clean close with no call up removes the file', async () => {
    const j = openCallJournal(dir, 'livejournal', quietLogger);
    j.started({ callId: 'live@x', calledNumber: CALLED, caller, profile, inviteAt: t0 });
    j.ringing('live@x', at(1), false);
    await new Promise((r) => setTimeout(r, 200));
    const file = journalFileName(dir, process.pid, 'livejournal');
    expect((await openCallsIn(file)).map((o) => ('timeline' in o.call ? o.call.timeline : undefined))).toMatchObject([{ inviteAt: t0, ringAt: at(1), finalStatus: null }]);
    j.ended('live@x');
    await j.close();
    expect(await readdir(dir)).toEqual([]);
  });
});
