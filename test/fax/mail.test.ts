// FAXお知らせメール through the real outbox, worker and SMTP catcher: exactly once per reception and
// address (a repeated save queues nothing), with fax.attachPdf the PDF attached, in UTF-8 and in
// ISO-2022-JP; and a reception the database could not take kept in the spool until it can.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type ConfigInput } from '../../src/config.ts';
import { startSmtpCatcher, type SmtpCatcher } from '../../src/mail/catcher.ts';
import { catcherTransport, type Transporter } from '../../src/mail/transport.ts';
import { startMailWorker, type MailWorker } from '../../src/mail/worker.ts';
import { faxTiffToPdf } from '../../src/media/fax/pdf.ts';
import { recordFaxReception, type FinishedFax } from '../../src/notify/fax-record.ts';
import { startFaxSpool } from '../../src/notify/fax-spool.ts';
import { listFaxReceptions, readFaxSettings } from '../../src/store/fax.ts';

import { applyProvisioning } from '../../src/store/provisioning.ts';
import { quietLogger } from '../mail/mailbox.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { waitFor } from '../support/wait.ts';
import { makeFaxTiff } from './stack.ts';

let db: TestDatabase;
let dir: string;
let catcher: SmtpCatcher;
let transport: Transporter;
let worker: MailWorker;
let pdf: Uint8Array;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-faxmail-'));
  catcher = await startSmtpCatcher({ host: '127.0.0.1', port: 0, dir: path.join(dir, 'mail'), logger: quietLogger });
  transport = catcherTransport({ host: '127.0.0.1', port: catcher.port }, 2);
  worker = startMailWorker({ pool: db.pool, listenUrl: db.url, transport, logger: quietLogger, concurrency: 2, pollMs: 100 });
  pdf = (await faxTiffToPdf(await makeFaxTiff(dir, 1, 300), { title: 't', created: new Date() })).pdf;
  const number = (n: string, address: string) => ({ number: n, role: 'main', services: ['fax_mail'], fax: { started: true, destinations: [{ address, send: true }] } });
  await applyProvisioning(db.pool, {
    contracts: [
      { id: 'M1', region: 'east', pattern: 'A', authUnit: 'line', numbers: [number('0311110001', 'utf8@example.jp')] },
      { id: 'M2', region: 'east', pattern: 'B', authUnit: 'line', numbers: [number('0311110002', 'jis@example.jp')] },
      { id: 'M3', region: 'east', pattern: 'A', authUnit: 'line', numbers: [number('0311110003', 'plain@example.jp')] },
      { id: 'M4', region: 'east', pattern: 'A', authUnit: 'line', numbers: [number('0311110004', 'spooled@example.jp')] },
    ],
  });
});
afterAll(async () => {
  await worker?.stop();
  transport?.close();
  await catcher?.close();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

function fax(calledNumber: string): FinishedFax {
  const at = new Date('2026-12-01T01:00:00Z');
  return {
    callId: `call-${calledNumber}`, calledNumber, caller: { number: '0612345678', absentReason: null }, inviteAt: at, receivedAt: at, endedAt: new Date(at.getTime() + 20_000),
    reception: { result: 'complete', pages: 1, remoteIdent: 'X', resolution: '204x196', t30Code: 0, t30Reason: 'OK', transport: 'g711', pdf },
  };
}

async function record(number: string, over: ConfigInput): Promise<number[]> {
  const config = parseConfig(over);
  const settings = await readFaxSettings(db.pool, number);
  const { rows } = await db.pool.query('select c.pattern, c.region from phone_number p join contract c on c.id = p.contract_id where p.number = $1', [number]);
  return (await recordFaxReception(db.pool, config, rows[0], settings, fax(number))).mailIds;
}

async function caught(to: string) {
  const files = await waitFor(async () => {
    const all = await catcher.list();
    const mine = [];
    for (const f of all) if ((await readFile(f.file, 'utf8')).includes(`Delivered-To: ${to}`)) mine.push(f.file);
    return mine;
  }, (l) => l.length >= 1, 15_000);
  expect(files).toHaveLength(1);
  return simpleParser(await readFile(files[0]!));
}

describe('FAXお知らせメール delivery', () => {
  it('with fax.attachPdf: the PDF goes with the mail (UTF-8)', async () => {
    expect(await record('0311110001', { fax: { attachPdf: true } })).toHaveLength(1);
    const m = await caught('utf8@example.jp');
    expect(m.subject).toBe('FAX受信通知（0311110001着）');
    expect(m.text).toContain('ページ数:1');
    expect(m.attachments).toHaveLength(1);
    expect(m.attachments[0]).toMatchObject({ contentType: 'application/pdf', filename: expect.stringMatching(/^fax-0311110001-\d+\.pdf$/) });
    expect(Buffer.compare(m.attachments[0]!.content, Buffer.from(pdf))).toBe(0);
  });

  it('with fax.attachPdf and ISO-2022-JP: a multipart mail whose text and subject are ISO-2022-JP', async () => {
    await record('0311110002', { fax: { attachPdf: true }, mail: { charset: 'iso-2022-jp' } });
    const m = await caught('jis@example.jp');
    expect(m.subject).toBe('FAX受信通知（0311110002着）');
    expect(m.headerLines.find((h) => h.key === 'subject')!.line).toMatch(/=\?ISO-2022-JP\?B\?/i);
    expect(m.text).toContain('発信者通知番号:0612345678');
    expect(m.attachments.map((a) => a.contentType)).toEqual(['application/pdf']);
  });

  it('without it: no attachment; a repeated save of the same reception queues no second mail', async () => {
    expect(await record('0311110003', {})).toHaveLength(1);
    expect(await record('0311110003', {})).toEqual([]);
    const m = await caught('plain@example.jp');
    expect(m.attachments).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 500));
    const { rows } = await db.pool.query(`select count(*)::int as n from mail_outbox where to_address = 'plain@example.jp'`);
    expect(rows[0].n).toBe(1);
  });
});

describe('FAX spool (the database unavailable as a reception ends)', () => {
  it('keeps the reception whole on disk and records and mails it once the database takes it; bad data goes to rejected/', async () => {
    const spoolDir = path.join(dir, 'spool');
    const down = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', connectionTimeoutMillis: 500 });
    down.on('error', () => undefined);
    const config = parseConfig({});
    const settings = await readFaxSettings(db.pool, '0311110004');
    const profile = { pattern: 'A' as const, region: 'east' as const };
    const whileDown = startFaxSpool({ dir: spoolDir, pool: down, config, logger: quietLogger, everyMs: 60_000 });
    await whileDown.put({ profile, settings, fax: fax('0311110004') });
    await whileDown.put({ profile, settings, fax: { ...fax('0399999999'), callId: 'not-provisioned' } });
    expect(await whileDown.replay()).toBe(0);
    await whileDown.stop();
    await down.end();
    expect((await readdir(spoolDir)).filter((n) => n.endsWith('.json'))).toHaveLength(2);

    const back = startFaxSpool({ dir: spoolDir, pool: db.pool, config, logger: quietLogger, everyMs: 60_000 });
    await waitFor(async () => (await readdir(spoolDir)).filter((n) => n.endsWith('.json')), (l) => l.length === 0);
    await back.stop();
    const list = await listFaxReceptions(db.pool, '0311110004', { offset: 0, limit: 5 }, new Date('2026-12-02T00:00:00Z'));
    expect(list.rows).toMatchObject([{ pages: 1, result: 'complete', hasPdf: true, pdfBytes: pdf.length }]);
    const m = await caught('spooled@example.jp');
    expect(m.text).toContain('ページ数:1');
    expect(await readdir(path.join(spoolDir, 'rejected'))).toHaveLength(1);
  });
});
