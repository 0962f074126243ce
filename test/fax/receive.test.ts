// FAXes sent through SIP with the project's sender (spandsp T.30 over G.711, or T.38 after a
// re-INVITE) to numbers with FAXお知らせメール: received by the built-in receiver, stored as PDF in
// PostgreSQL, mailed once; with 着信お知らせメール too, the same call's own 着信 mail under its own
// conditions. And a caller that is not a FAX (SIPp sending silence), released after the T.30
// timeout. The calls run side by side: each takes 10–30 s of real time.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendFax } from '../../src/cli/fax-sender.ts';
import { listFaxReceptions, type FaxReceptionRow } from '../../src/store/fax.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { mailsTo, readMails } from '../mail/mailbox.ts';
import { freePort } from '../support/ports.ts';
import { runSipp, sippSummary } from '../support/sipp.ts';
import { waitFor } from '../support/wait.ts';
import { makeFaxTiff, startFaxStack, type FaxStack } from './stack.ts';

const run = promisify(execFile);
const CALLER = '0612345678';
/** fax.noFaxTimeoutSec here: long enough for a real sender under load (phase B comes within ~5 s), short to wait for. */
const NO_FAX_SEC = 12;
const N = {
  faxOnly: '0611113333', alaw: '0611119999', both: '0611114444', unansweredOnly: '0611115555', t38: '0611116666', partial: '0611117777', silent: '0611118888',
} as const;

let stack: FaxStack;
let twoPages: string;

function faxNumber(number: string, opts: { chakushin?: { unansweredOnly: boolean } } = {}) {
  return {
    number, role: 'main', services: opts.chakushin ? ['chakushin_mail', 'fax_mail'] : ['fax_mail'],
    fax: { started: true, destinations: [{ address: `fax.${number}@example.jp`, send: true }, { address: `off.${number}@example.jp`, send: false }] },
    ...(opts.chakushin
      ? { target: 'sip:line@127.0.0.1:9', notify: { started: true, unansweredOnly: opts.chakushin.unansweredOnly, destinations: [{ address: `call.${number}@example.jp`, send: true }] } }
      : {}),
  };
}

beforeAll(async () => {
  stack = await startFaxStack({ fax: { noFaxTimeoutSec: NO_FAX_SEC }, site: { publicUrl: 'https://settings.example.jp' } });
  twoPages = await makeFaxTiff(stack.dir, 2);
  const contract = (id: string, number: string, over: Parameters<typeof faxNumber>[1] = {}) => ({ id, region: 'west', pattern: 'A', authUnit: 'line', numbers: [faxNumber(number, over)] });
  await applyProvisioning(stack.db.pool, {
    contracts: [
      contract('F1', N.faxOnly), contract('F2', N.both, { chakushin: { unansweredOnly: false } }), contract('F3', N.unansweredOnly, { chakushin: { unansweredOnly: true } }),
      contract('F4', N.t38), contract('F5', N.partial), contract('F6', N.silent), contract('F7', N.alaw),
    ],
  });
});
afterAll(async () => {
  await stack?.close();
});

async function reception(number: string): Promise<FaxReceptionRow> {
  const list = await waitFor(() => listFaxReceptions(stack.db.pool, number, { offset: 0, limit: 10 }), (l) => l.total >= 1, 15_000);
  expect(list.total).toBe(1);
  return list.rows[0]!;
}

async function storedPdf(number: string): Promise<string> {
  const { rows } = await stack.db.pool.query('select pdf from fax_reception where called_number = $1', [number]);
  const file = path.join(stack.dir, `${number}.pdf`);
  await writeFile(file, rows[0].pdf);
  return file;
}

/** pdftoppm's grey rendering of each page: its size in pixels and how many pixels are dark. */
async function renderPages(pdf: string, dpi: number): Promise<{ width: number; height: number; dark: number }[]> {
  const prefix = `${pdf}-page`;
  await run('pdftoppm', ['-gray', '-r', String(dpi), pdf, prefix]);
  const out = [];
  for (let p = 1; ; p++) {
    let pgm: Buffer;
    try {
      pgm = await readFile(`${prefix}-${p}.pgm`);
    } catch {
      break;
    }
    const m = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(pgm.subarray(0, 40).toString('latin1'))!;
    const pixels = pgm.subarray(m[0].length);
    out.push({ width: Number(m[1]), height: Number(m[2]), dark: pixels.filter((v) => v < 128).length });
  }
  return out;
}

describe.concurrent('FAX reception', () => {
  it('G.711: a 2-page FAX is received, stored as a 2-page PDF that renders at the page size, and mailed once', async () => {
    const sent = await sendFax({ to: N.faxOnly, via: stack.sip, from: CALLER, file: twoPages, ident: 'TEST SENDER' });
    expect(sent).toMatchObject({ sipStatus: 200, pagesSent: 2, t30Code: 0, transport: 'g711' });
    const r = await reception(N.faxOnly);
    expect(r).toMatchObject({ callerNumber: CALLER, absentReason: null, pages: 2, result: 'complete', t30Code: 0, remoteIdent: 'TEST SENDER', resolution: '204x196', transport: 'g711', hasPdf: true });
    expect(r.durationMs).toBeGreaterThan(5_000);
    const pdf = await storedPdf(N.faxOnly);
    expect((await run('pdfinfo', [pdf])).stdout).toMatch(/Pages:\s+2\n/);
    // 1728 × 1100 pixels at 204 × 196 dpi: 8.47 × 5.61 inches, 610 × 404 pixels at 72 dpi.
    const pages = await renderPages(pdf, 72);
    expect(pages).toHaveLength(2);
    for (const p of pages) {
      expect(p.width).toBeGreaterThanOrEqual(609);
      expect(p.width).toBeLessThanOrEqual(611);
      expect(p.height).toBeGreaterThanOrEqual(403);
      expect(p.height).toBeLessThanOrEqual(405);
      expect(p.dark).toBeGreaterThan(500); // the heading and the box
      expect(p.dark).toBeLessThan(p.width * p.height * 0.2); // not an inverted (black) page
    }
    const mails = await mailsTo(stack.catcher, `fax.${N.faxOnly}@example.jp`, 1);
    expect(mails).toHaveLength(1);
    const m = mails[0]!;
    expect(m.subject).toBe(`FAX受信通知（${N.faxOnly}着）`);
    expect(m.text).toMatch(/^受信日時:\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d$/m);
    expect(m.text).toContain(`発信電話番号:${CALLER}\n非通知理由:\nページ数:2\n受信結果:正常に受信しました\n`);
    expect(m.text).toContain(`https://settings.example.jp/fax-mail/${N.faxOnly}/received`);
    expect(m.text).toContain('「FAXお知らせメール」');
    // The destination with 送信 off gets nothing; one mail per reception and address.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await readMails(stack.catcher)).filter((x) => x.deliveredTo.endsWith(`${N.faxOnly}@example.jp`))).toHaveLength(1);
  });

  it('G.711 A-law: a sender offering PCMA first is answered in PCMA and its FAX received', async () => {
    const sent = await sendFax({ to: N.alaw, via: stack.sip, from: CALLER, file: twoPages, law: 'alaw' });
    expect(sent).toMatchObject({ sipStatus: 200, pagesSent: 2, t30Code: 0, law: 'alaw' });
    expect(await reception(N.alaw)).toMatchObject({ pages: 2, result: 'complete', transport: 'g711' });
  });

  it('with 着信お知らせメール too: one call gives two mails, the 着信 mail saying 通話', async () => {
    const sent = await sendFax({ to: N.both, via: stack.sip, from: CALLER, file: twoPages });
    expect(sent.pagesSent).toBe(2);
    const [fax] = await mailsTo(stack.catcher, `fax.${N.both}@example.jp`, 1);
    const [call] = await mailsTo(stack.catcher, `call.${N.both}@example.jp`, 1);
    expect(fax!.text).toContain('ページ数:2');
    expect(call!.subject).toBe(`着信通知（${N.both}着）`);
    expect(call!.text).toContain(`発信電話番号:${CALLER}`);
    expect(call!.text).toContain('着信状態:通話');
    const { rows } = await stack.db.pool.query('select status, final_status from incoming_call where called_number = $1', [N.both]);
    expect(rows).toEqual([{ status: '通話', final_status: 200 }]);
  });

  it('with 着信お知らせメール for unanswered calls only: the FAX counts as answered, so only the FAX mail comes', async () => {
    const sent = await sendFax({ to: N.unansweredOnly, via: stack.sip, from: CALLER, file: twoPages });
    expect(sent.pagesSent).toBe(2);
    await mailsTo(stack.catcher, `fax.${N.unansweredOnly}@example.jp`, 1);
    const recorded = await waitFor(async () => (await stack.db.pool.query('select status from incoming_call where called_number = $1', [N.unansweredOnly])).rows, (r) => r.length === 1);
    expect(recorded).toEqual([{ status: '通話' }]);
    const { rows } = await stack.db.pool.query(`select count(*)::int as n from mail_outbox where to_address = $1`, [`call.${N.unansweredOnly}@example.jp`]);
    expect(rows[0].n).toBe(0);
  });

  it('T.38: the sender re-INVITEs to T.38 after the answer; the receiver accepts and the pages come over UDPTL', async () => {
    const sent = await sendFax({ to: N.t38, via: stack.sip, from: CALLER, file: twoPages, t38: true });
    expect(sent).toMatchObject({ sipStatus: 200, pagesSent: 2, t30Code: 0, transport: 't38' });
    const r = await reception(N.t38);
    expect(r).toMatchObject({ pages: 2, result: 'complete', transport: 't38', hasPdf: true });
    expect((await run('pdfinfo', [await storedPdf(N.t38)])).stdout).toMatch(/Pages:\s+2\n/);
  });

  it('a sender that hangs up after page 1: partial, the page kept, mailed as partial', async () => {
    const sent = await sendFax({ to: N.partial, via: stack.sip, from: CALLER, file: twoPages, hangupAfterPage: 1 });
    expect(sent).toMatchObject({ pagesSent: 1, hungUp: true });
    const r = await reception(N.partial);
    expect(r).toMatchObject({ pages: 1, result: 'partial', hasPdf: true });
    expect(r.t30Code).not.toBe(0);
    expect((await run('pdfinfo', [await storedPdf(N.partial)])).stdout).toMatch(/Pages:\s+1\n/);
    const [m] = await mailsTo(stack.catcher, `fax.${N.partial}@example.jp`, 1);
    expect(m!.text).toContain('ページ数:1\n受信結果:途中で切断されました（1ページ受信）\n');
  });

  it('a caller that is not a FAX (SIPp sending silence) is released after the T.30 timeout and recorded as failed', async () => {
    // The scenario's RTP stream names its WAV relative to test/sipp; SIPp runs in a folder of its own.
    const xml = (await readFile('test/sipp/fax-silent-caller.xml', 'utf8')).replace('rtp_stream="silence-ulaw.wav', 'rtp_stream="' + path.resolve('test/sipp/silence-ulaw.wav'));
    const scenario = path.join(stack.dir, 'fax-silent-caller.xml');
    await writeFile(scenario, xml);
    const started = Date.now();
    const sipp = await runSipp({ scenario, remote: stack.sip, service: N.silent, keys: { caller: CALLER }, calls: 1, timeoutMs: 60_000, extraArgs: ['-mp', String(await freePort('udp'))] });
    const took = Date.now() - started;
    expect(sipp.stats?.successful, sippSummary(sipp)).toBe(1);
    expect(took).toBeGreaterThanOrEqual(NO_FAX_SEC * 1000 - 1000);
    expect(took).toBeLessThan((NO_FAX_SEC + 15) * 1000);
    const r = await reception(N.silent);
    expect(r).toMatchObject({ pages: 0, result: 'failed', hasPdf: false, remoteIdent: '' });
    expect(r.t30Reason).toMatch(/not a FAX/);
    const [m] = await mailsTo(stack.catcher, `fax.${N.silent}@example.jp`, 1);
    expect(m!.text).toContain('ページ数:0\n受信結果:受信できませんでした');
  });
});
