// The outbox and its workers against real PostgreSQL and real SMTP servers.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpCatcher, type SmtpCatcher } from '../../src/mail/catcher.ts';
import { claimDue, enqueueMails, getOutboxRow, markSent, type NewMail } from '../../src/mail/outbox.ts';
import { catcherTransport, type Transporter } from '../../src/mail/transport.ts';
import { startMailWorker, type MailWorker } from '../../src/mail/worker.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { quietLogger, readMails, waitForMails } from './mailbox.ts';

let db: TestDatabase;
let dir: string;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-mail-'));
});
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  await db.pool.query('delete from mail_outbox');
});
afterAll(async () => {
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function catcher(port = 0): Promise<SmtpCatcher & { dir: string }> {
  const d = path.join(dir, `box${++n}`);
  const c = await startSmtpCatcher({ host: '127.0.0.1', port, dir: d, logger: quietLogger });
  cleanups.push(() => c.close());
  return { ...c, dir: d };
}

function transport(port: number): Transporter {
  const t = catcherTransport({ host: '127.0.0.1', port }, 4);
  cleanups.push(async () => t.close());
  return t;
}

function worker(t: Transporter, extra: Partial<Parameters<typeof startMailWorker>[0]> = {}): MailWorker {
  const w = startMailWorker({
    pool: db.pool, listenUrl: db.url, transport: t, logger: quietLogger, concurrency: 4, pollMs: 100,
    backoff: { baseMs: 100, maxMs: 400 }, ...extra,
  });
  cleanups.push(() => w.stop());
  return w;
}

function mail(to: string, over: Partial<NewMail> = {}): NewMail {
  return {
    kind: 'test', incomingCallId: null, to, from: 'number_info@hikari.ntt-west.net', subject: '着信通知（0611112222着）',
    body: '着信日時:2026/11/22 09:15:03\n発信電話番号:0612345678\n非通知理由:\n呼出時間:10秒\n着信状態:応答なし\n', charset: 'utf-8', retryForSec: 3600, ...over,
  };
}

async function waitState(id: number, state: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await getOutboxRow(db.pool, id);
    if (row?.state === state || Date.now() > deadline) return row!;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('mail delivery', () => {
  it('delivers a queued mail in UTF-8 and records it sent', async () => {
    const c = await catcher();
    worker(transport(c.port));
    const [id] = await enqueueMails(db.pool, [mail('pc@example.jp')]);
    const got = await waitForMails(c, 1);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({
      deliveredTo: 'pc@example.jp', from: 'number_info@hikari.ntt-west.net', subject: '着信通知（0611112222着）',
      text: mail('').body, contentType: 'text/plain; charset=utf-8',
    });
    const row = await waitState(id!, 'sent');
    expect(row).toMatchObject({ state: 'sent', attempts: 1, last_error: null });
  });

  it('delivers in ISO-2022-JP for old handsets', async () => {
    const c = await catcher();
    worker(transport(c.port));
    await enqueueMails(db.pool, [mail('keitai@example.jp', { charset: 'iso-2022-jp' })]);
    const [got] = await waitForMails(c, 1);
    expect(got).toMatchObject({ subject: '着信通知（0611112222着）', text: mail('').body, contentType: 'text/plain; charset=iso-2022-jp' });
  });

  it('keeps retrying while the SMTP server is down and delivers once when it is back', async () => {
    const c = await catcher();
    const port = c.port;
    await c.close();
    worker(transport(port));
    const [id] = await enqueueMails(db.pool, [mail('pc@example.jp')]);
    const deadline = Date.now() + 10_000;
    while ((await getOutboxRow(db.pool, id!))!.attempts < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const waiting = (await getOutboxRow(db.pool, id!))!;
    expect(waiting.state).toBe('pending');
    expect(waiting.last_error).toMatch(/ECONNREFUSED|ESOCKET|ECONNECTION/);
    const back = await startSmtpCatcher({ host: '127.0.0.1', port, dir: c.dir, logger: quietLogger });
    cleanups.push(() => back.close());
    expect((await waitState(id!, 'sent')).state).toBe('sent');
    await new Promise((r) => setTimeout(r, 500));
    expect(await readMails(back)).toHaveLength(1);
  });

  it('stops at a 5xx reply and records why', async () => {
    const rejecting = new SMTPServer({
      authOptional: true, disabledCommands: ['AUTH', 'STARTTLS'], logger: false,
      onRcptTo(address, _s, cb) {
        cb(Object.assign(new Error(`5.1.1 <${address.address}>: user unknown`), { responseCode: 550 }));
      },
    });
    await new Promise<void>((r) => rejecting.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => rejecting.close(() => r())));
    worker(transport((rejecting.server.address() as { port: number }).port));
    const [id] = await enqueueMails(db.pool, [mail('nobody@example.jp')]);
    const row = await waitState(id!, 'failed');
    expect(row.state).toBe('failed');
    expect(row.attempts).toBe(1);
    expect(row.last_error).toMatch(/550.*user unknown/);
  });

  it('gives up after retryForSec of temporary failures', async () => {
    const c = await catcher();
    await c.close();
    worker(transport(c.port));
    const [id] = await enqueueMails(db.pool, [mail('pc@example.jp', { retryForSec: 1 })]);
    const row = await waitState(id!, 'failed');
    expect(row.state).toBe('failed');
    expect(row.last_error).toMatch(/^gave up after \d+ attempts: /);
  });

  it('retakes the claim of a crashed worker once its lease runs out', async () => {
    const c = await catcher();
    const [id] = await enqueueMails(db.pool, [mail('pc@example.jp')]);
    const [stale] = await claimDue(db.pool, { limit: 10, leaseSec: 1 });
    expect(stale?.id).toBe(id);
    worker(transport(c.port));
    expect((await waitForMails(c, 1)).map((m) => m.deliveredTo)).toEqual(['pc@example.jp']);
    const row = await waitState(id!, 'sent');
    expect(row.attempts).toBe(2);
    // The crashed holder coming back cannot settle the row any more.
    expect(await markSent(db.pool, stale!)).toBe(false);
  });

  it('a second worker against the same database sends no duplicate', async () => {
    const c = await catcher();
    // Another instance: its own connection pool, LISTEN connection and SMTP connections.
    const otherPool = new pg.Pool({ connectionString: db.url, max: 3 });
    worker(transport(c.port));
    worker(transport(c.port), { pool: otherPool });
    cleanups.unshift(() => otherPool.end());
    const addresses = Array.from({ length: 120 }, (_, i) => `user${i}@example.jp`);
    await enqueueMails(db.pool, addresses.map((a) => mail(a)));
    const got = await waitForMails(c, addresses.length, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    const again = await readMails(c);
    expect(again.length).toBe(addresses.length);
    expect(new Set(got.map((m) => m.deliveredTo))).toEqual(new Set(addresses));
    const { rows } = await db.pool.query(`select state, count(*)::int as n, max(attempts) as a from mail_outbox group by state`);
    expect(rows).toEqual([{ state: 'sent', n: addresses.length, a: 1 }]);
  });

  it('a graceful stop lets the send in flight finish', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let arrived!: () => void;
    const seen = new Promise<void>((r) => (arrived = r));
    const slow = new SMTPServer({
      authOptional: true, disabledCommands: ['AUTH', 'STARTTLS'], logger: false,
      onData(stream, _s, cb) {
        stream.resume();
        stream.on('end', () => {
          arrived();
          void gate.then(() => cb());
        });
      },
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => slow.close(() => r())));
    const w = startMailWorker({ pool: db.pool, listenUrl: db.url, transport: transport((slow.server.address() as { port: number }).port), logger: quietLogger, concurrency: 2, pollMs: 100 });
    const [id] = await enqueueMails(db.pool, [mail('pc@example.jp')]);
    await seen;
    const stopping = w.stop();
    setTimeout(release, 300);
    await stopping;
    expect((await getOutboxRow(db.pool, id!))!.state).toBe('sent');
  });
});
