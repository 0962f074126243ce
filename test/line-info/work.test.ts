// The work (工事) worker as every instance runs it: two workers on one database take due
// applications with SKIP LOCKED, so each is done once and mails once; nothing before it is due.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startLineInfoWorker } from '../../src/site/line-info/work.ts';
import { acceptApplication } from '../../src/store/line-info.ts';
import { applyLineInfo } from '../../src/store/line-info-provisioning.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { testClock } from '../support/site.ts';
import { line, PROVIDERS } from './harness.ts';

let db: TestDatabase;
const lines = Array.from({ length: 30 }, (_, i) => line(100 + i, ['W0099']));
beforeAll(async () => {
  db = await createTestDatabase();
  await applyLineInfo(db.pool, { lineInfo: { providers: PROVIDERS, lines } });
});
afterAll(async () => {
  await db.drop();
});

describe('line-info work', () => {
  it('two workers do 30 due applications exactly once each, with one 工事完了通知 each', async () => {
    const clock = testClock();
    const now = clock.now();
    for (const [i, l] of lines.entries()) {
      await acceptApplication(db.pool, {
        customerId: l.customerId, idempotencyKey: `k${i}`, setting: 'stop', providerIds: ['W0099'],
        applicant: { name: '西日本　太郎', phone: '06-1234-5678', mail: `a${i}@example.jp`, completionMail: true },
        acceptedAt: now, dueAt: new Date(now.getTime() + 3_600_000), receiptNo: (s) => `R${s}`, stillValid: async () => true,
      });
    }
    const config = loadConfig({ env: { DATABASE_URL: db.url }, overrides: { lineInfo: { workPollSec: 3600 } } });
    const logger = createLogger('silent');
    const workers = [0, 1].map(() => startLineInfoWorker({ pool: db.pool, config, clock, logger }));
    try {
      expect(await Promise.all(workers.map((w) => w.runDue()))).toEqual([0, 0]);
      clock.advance(3_600_000);
      const done = await Promise.all(workers.map((w) => w.runDue()));
      expect(done[0]! + done[1]!).toBe(30);
      const q = async (sql: string) => (await db.pool.query(sql)).rows[0].n as number;
      expect(await q("select count(*)::int as n from line_info_application where state = 'done'")).toBe(30);
      expect(await q('select count(*)::int as n from line_info_notify')).toBe(0);
      expect(await q("select count(*)::int as n from mail_outbox where kind = 'notice' and subject like '【回線情報通知機能】%'")).toBe(30);
      expect(await q("select count(distinct to_address)::int as n from mail_outbox")).toBe(30);
      expect(await q("select count(*)::int as n from audit_log where action = 'line_info.work_done'")).toBe(30);
      expect(await Promise.all(workers.map((w) => w.runDue()))).toEqual([0, 0]);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  });

  it('an application that cannot be done is due again later and holds back no other', async () => {
    const clock = testClock();
    const now = clock.now();
    const accept = (i: number, providerIds: string[]) =>
      acceptApplication(db.pool, {
        customerId: lines[i]!.customerId, idempotencyKey: `p${i}`, setting: 'notify', providerIds,
        applicant: { name: '西日本　太郎', phone: '06-1234-5678', mail: null, completionMail: false },
        acceptedAt: now, dueAt: now, receiptNo: (s) => `P${s}`, stillValid: async () => true,
      });
    await accept(0, ['W9999']); // no such provider: the insert into line_info_notify fails
    await accept(1, ['W0100']);
    const config = loadConfig({ env: { DATABASE_URL: db.url }, overrides: { lineInfo: { workPollSec: 3600 } } });
    const worker = startLineInfoWorker({ pool: db.pool, config, clock, logger: createLogger('silent') });
    try {
      expect(await worker.runDue()).toBe(1);
      const { rows } = await db.pool.query("select receipt_no, state, due_at from line_info_application where receipt_no like 'P%' order by id");
      expect(rows.map((r) => r.state)).toEqual(['pending', 'done']);
      // Ten minutes after the round (the test clock runs with real time).
      expect(rows[0].due_at.getTime() - now.getTime()).toBeGreaterThanOrEqual(10 * 60_000);
      expect(rows[0].due_at.getTime() - now.getTime()).toBeLessThan(10 * 60_000 + 30_000);
      expect(await worker.runDue()).toBe(0);
    } finally {
      await worker.stop();
    }
  });
});
