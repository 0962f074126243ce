// SIPp caller → built-in SIP engine → 着信お知らせメール B2BUA → SIPp line, with the mail checked as
// received over SMTP by the built-in catcher and decoded by mailparser.
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type Srf from 'drachtio-srf';
import pg from 'pg';
import pino, { type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { startSmtpCatcher, type SmtpCatcher } from '../../src/mail/catcher.ts';
import { catcherTransport, type Transporter } from '../../src/mail/transport.ts';
import { startMailWorker, type MailWorker } from '../../src/mail/worker.ts';
import type { NotifyApp } from '../../src/notify/app.ts';
import type { Engine } from '../../src/sip-engine/index.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { runSipp, sippSummary, startSipp, type SippResult } from '../support/sipp.ts';
import { waitFor } from '../support/wait.ts';
import { jst, mailsTo as mailboxMailsTo, quietLogger } from '../mail/mailbox.ts';
import { provision, subscriber } from './fixtures.ts';
import { connectNotifyApp, startTestEngine } from './stack.ts';

const SCEN = (name: string) => path.resolve('test/sipp', `${name}.xml`);
const CALLER = '0612345678';
const SECRET = 'notify-test';
const NONE = 'X-Notify-Test: 1';
/** notify.maxRingSec here: longer than any other test's ringing, short enough to wait for. */
const MAX_RING_SEC = 5;
let config = parseConfig({ notify: { codecRetryWindowSec: 2 } });
/** The switch the app hands calls back to in application-server mode (numbers without a SIP target). */
let nextHopPort: number;

let db: TestDatabase;
let dir: string;
let engine: Engine;
let catcher: SmtpCatcher;
let catcherPort: number;
let transport: Transporter;
let worker: MailWorker | undefined;
let srf: Srf;
let app: NotifyApp;

/** A notify app on its own drachtio-srf connection to `on`. */
function connectedApp(on: Engine, opts: { spool: string; logger?: Logger; sipT1Ms?: number }): Promise<{ srf: Srf; app: NotifyApp }> {
  return connectNotifyApp(on, SECRET, { pool: db.pool, config, spoolDir: path.join(dir, opts.spool), logger: opts.logger, sipT1Ms: opts.sipT1Ms });
}

async function connectApp(): Promise<void> {
  ({ srf, app } = await connectedApp(engine, { spool: 'spool' }));
}

function startWorker(pool: pg.Pool = db.pool): MailWorker {
  return startMailWorker({ pool, listenUrl: db.url, transport, logger: quietLogger, concurrency: 4, pollMs: 100, backoff: { baseMs: 200, maxMs: 500 } });
}

beforeAll(async () => {
  db = await createTestDatabase();
  nextHopPort = await freePort('udp');
  config = parseConfig({ notify: { codecRetryWindowSec: 2, nextHop: `sip:127.0.0.1:${nextHopPort}`, maxRingSec: MAX_RING_SEC } });
  dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-notify-e2e-'));
  engine = await startTestEngine(SECRET);
  catcher = await startSmtpCatcher({ host: '127.0.0.1', port: 0, dir, logger: quietLogger });
  catcherPort = catcher.port;
  transport = catcherTransport({ host: '127.0.0.1', port: catcherPort }, 4);
  worker = startWorker();
  await connectApp();
});
afterAll(async () => {
  srf?.disconnect();
  await app?.stop();
  await worker?.stop();
  transport?.close();
  await catcher?.close();
  await engine?.close();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

let numbers = 0;
/** A fresh subscriber per test so mails never mix: its line listens on `linePort`. */
async function newSubscriber(over: Parameters<typeof subscriber>[0] = {}, opts: { viaNextHop?: boolean; transport?: 'udp' | 'tcp' } = {}) {
  const number = `06200000${String(++numbers).padStart(2, '0')}`;
  const linePort = opts.viaNextHop ? nextHopPort : await freePort(opts.transport ?? 'udp');
  const target = `sip:${number}@127.0.0.1:${linePort}${opts.transport === 'tcp' ? ';transport=tcp' : ''}`;
  await provision(db.pool, subscriber({ number, ...(opts.viaNextHop ? {} : { target }), ...over }));
  return { number, linePort, address: `pc.${number}@example.jp` };
}

interface CallSpec {
  called: string;
  linePort: number;
  caller: 'answer' | 'cancel' | 'fail';
  callerMs?: number;
  line?: { scenario: 'answer' | 'ring' | 'busy' | 'redirect' | 'forward-busy' | 'codec-reject' | 'ignore-cancel'; ringMs?: number };
  from?: string;
  hdr1?: string;
  hdr2?: string;
  transport?: 'udp' | 'tcp';
  /** The engine the caller calls (default: the suite's). */
  via?: Engine;
}

async function call(spec: CallSpec): Promise<{ caller: SippResult; line?: SippResult }> {
  const line = spec.line
    ? await startSipp({
        scenario: SCEN(`notify-uas-${spec.line.scenario}`), localPort: spec.linePort, calls: 1, transport: spec.transport,
        extraArgs: ['-d', String(spec.line.ringMs ?? 0)], timeoutMs: 20_000, traceMessages: true,
      })
    : undefined;
  const caller = await runSipp({
    scenario: SCEN(`notify-uac-${spec.caller}`), remote: { port: (spec.via ?? engine).sipAddress.port }, service: spec.called, calls: 1, transport: spec.transport,
    keys: { from: spec.from ?? `<sip:${CALLER}@127.0.0.1>`, hdr1: spec.hdr1 ?? NONE, hdr2: spec.hdr2 ?? NONE },
    extraArgs: ['-d', String(spec.callerMs ?? 0)], traceMessages: true, timeoutMs: 20_000,
  });
  return { caller, line: await line?.done };
}

async function recorded(called: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.pool.query('select * from incoming_call where called_number = $1', [called]);
    if (rows.length || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const mailsTo = (address: string, count: number, timeoutMs?: number) => mailboxMailsTo(catcher, address, count, timeoutMs);

function expectedText(inviteAt: Date, caller: string, reason: string, seconds: number, status: string): string {
  return [
    `着信日時:${jst(inviteAt)}`, `発信電話番号:${caller}`, `非通知理由:${reason}`, `呼出時間:${seconds}秒`, `着信状態:${status}`, '',
    '------', 'NTT西日本　「着信お知らせメール」', '※各種設定は、ひかり電話設定サイトから行ってください。', 'https://www.hikari.ntt-west.net',
    '※本メールは送信専用のため返信できません。', '',
  ].join('\n');
}

function okCall(r: { caller: SippResult; line?: SippResult }) {
  expect(r.caller.exitCode, sippSummary(r.caller) + (r.line ? sippSummary(r.line) : "")).toBe(0);
  if (r.line) expect(r.line.exitCode, sippSummary(r.line) + r.line.messages).toBe(0);
}

/** The final response the caller received, from SIPp's message trace. */
function finalTo(r: SippResult): number | undefined {
  const codes = [...r.messages.matchAll(/^SIP\/2\.0 (\d{3}) /gm)].map((m) => Number(m[1])).filter((c) => c >= 200);
  return codes[0];
}

async function expectOneMail(address: string, called: string, caller: string, reason: string, seconds: number, status: string) {
  const [row] = await recorded(called);
  expect(row, 'call recorded').toBeDefined();
  const mails = await mailsTo(address, 1);
  expect(mails).toHaveLength(1);
  expect(mails[0]!.subject).toBe(`着信通知（${called}着）`);
  expect(mails[0]!.from).toBe('number_info@hikari.ntt-west.net');
  expect(mails[0]!.text).toBe(expectedText(row.invite_at, caller, reason, seconds, status));
}

async function expectNoMail(address: string, called: string) {
  const rows = await recorded(called);
  expect(rows).toHaveLength(1);
  const { rows: out } = await db.pool.query('select count(*)::int as n from mail_outbox where incoming_call_id = $1', [rows[0].id]);
  expect(out[0].n).toBe(0);
  await new Promise((r) => setTimeout(r, 300));
  expect(await mailsTo(address, 1, 0)).toHaveLength(0);
  return rows[0];
}

describe('着信お知らせメール over SIP', () => {
  it('answered after 2 s of ringing: 通話, 2秒', async () => {
    const s = await newSubscriber();
    okCall(await call({ called: s.number, linePort: s.linePort, caller: 'answer', callerMs: 300, line: { scenario: 'answer', ringMs: 2000 } }));
    await expectOneMail(s.address, s.number, CALLER, '', 2, '通話');
    const [row] = await recorded(s.number);
    expect(row.final_status).toBe(200);
    expect(row.answer_at.getTime()).toBeLessThan(row.end_at.getTime());
  });

  it('a number without a SIP target goes to notify.nextHop, addressed to the called number there', async () => {
    const s = await newSubscriber({}, { viaNextHop: true });
    const r = await call({ called: s.number, linePort: s.linePort, caller: 'cancel', callerMs: 1000, line: { scenario: 'ring' } });
    okCall(r);
    expect(r.line!.messages).toMatch(new RegExp(`^INVITE sip:${s.number}@127\\.0\\.0\\.1:${nextHopPort} SIP/2\\.0`, 'm'));
    expect(r.line!.messages).not.toMatch(/^Route:/im);
    await expectOneMail(s.address, s.number, CALLER, '', 1, '応答なし');
  });

  it('numbers that are not ours are left to the next handler', async () => {
    await applyProvisioning(db.pool, {
      // Neither 着信お知らせメール nor FAXお知らせメール (a fax_mail number is the FAX receiver's: test/fax).
      contracts: [{ id: 'NOTOURS', region: 'west', pattern: 'A', authUnit: 'line', numbers: [{ number: '0629999999', role: 'main', services: ['number_request'] }] }],
    });
    for (const called of ['0629999999', '0628888888', 'not-a-number']) {
      const r = await call({ called, linePort: 0, caller: 'fail' });
      okCall(r);
      expect(finalTo(r.caller)).toBe(404);
    }
    expect((await db.pool.query(`select count(*)::int as n from incoming_call where called_number in ('0629999999', '0628888888')`)).rows[0].n).toBe(0);
  });

  it('caller gives up after 2 s: 応答なし, 2秒', async () => {
    const s = await newSubscriber();
    okCall(await call({ called: s.number, linePort: s.linePort, caller: 'cancel', callerMs: 2000, line: { scenario: 'ring' } }));
    await expectOneMail(s.address, s.number, CALLER, '', 2, '応答なし');
  });

  it('line busy after 1 s: 486 relayed, 応答なし', async () => {
    const s = await newSubscriber();
    const r = await call({ called: s.number, linePort: s.linePort, caller: 'fail', line: { scenario: 'busy', ringMs: 1000 } });
    okCall(r);
    expect(finalTo(r.caller)).toBe(486);
    await expectOneMail(s.address, s.number, CALLER, '', 1, '応答なし');
  });

  it('the app sends no ACK of its own for the line’s 486 (the stack’s ACK is the one the line gets), and still ACKs a 200', async () => {
    // drachtio-srf's own Response#sendAck, watched where the app would call it (the real one still runs).
    const Response = createRequire(import.meta.url)('drachtio-srf/lib/response.js') as { prototype: { sendAck: (...a: unknown[]) => unknown } };
    const original = Response.prototype.sendAck;
    const acked: number[] = [];
    Response.prototype.sendAck = function (this: { status: number }, ...a: unknown[]) {
      acked.push(this.status);
      return original.apply(this, a);
    };
    try {
      const busy = await newSubscriber();
      const r = await call({ called: busy.number, linePort: busy.linePort, caller: 'fail', line: { scenario: 'busy', ringMs: 300 } });
      okCall(r);
      expect(r.line!.messages.match(/^ACK /gm)).toHaveLength(1);
      const answered = await newSubscriber();
      okCall(await call({ called: answered.number, linePort: answered.linePort, caller: 'answer', callerMs: 200, line: { scenario: 'answer', ringMs: 200 } }));
      expect(acked).toEqual([200]);
    } finally {
      Response.prototype.sendAck = original;
    }
  });

  for (const transport of ['udp', 'tcp'] as const) {
    it(`line rings past notify.maxRingSec (${transport}): the line is CANCELled, the caller gets 480, 応答なし ${MAX_RING_SEC}秒, one mail`, async () => {
      const s = await newSubscriber({}, { transport });
      const r = await call({ called: s.number, linePort: s.linePort, caller: 'fail', line: { scenario: 'ring' }, transport });
      okCall(r);
      expect(finalTo(r.caller)).toBe(480);
      expect(r.caller.messages).toMatch(/^Reason: Q\.850;cause=19/m);
      expect(r.line!.messages).toMatch(/^CANCEL /m);
      const [row] = await recorded(s.number);
      expect(row).toMatchObject({ status: '応答なし', final_status: 480, ring_seconds: MAX_RING_SEC, end_reason: 'max_ring_time' });
      await expectOneMail(s.address, s.number, CALLER, '', MAX_RING_SEC, '応答なし');
    }, 30_000);
  }

  it('line answers 302: relayed with its Contact, 転送', async () => {
    const s = await newSubscriber();
    const r = await call({ called: s.number, linePort: s.linePort, caller: 'fail', line: { scenario: 'redirect', ringMs: 1000 } });
    okCall(r);
    expect(finalTo(r.caller)).toBe(302);
    expect(r.caller.messages).toMatch(/SIP\/2\.0 302[\s\S]*Contact: <sip:line@127\.0\.0\.1/);
    await expectOneMail(s.address, s.number, CALLER, '', 1, '転送');
  });

  it('ボイスワープ whose forward fails (181 then 486): relayed, recorded, no mail', async () => {
    const s = await newSubscriber({ services: ['chakushin_mail', 'voice_warp'] });
    const r = await call({ called: s.number, linePort: s.linePort, caller: 'fail', line: { scenario: 'forward-busy', ringMs: 500 } });
    okCall(r);
    expect(r.caller.messages).toMatch(/^SIP\/2\.0 181 /m);
    expect(finalTo(r.caller)).toBe(486);
    expect(await expectNoMail(s.address, s.number)).toMatchObject({ status: '応答なし', final_status: 486 });
  });

  it('高音質電話: the standard-quality retry after a 488 is one call, one mail', async () => {
    const s = await newSubscriber();
    const first = await call({ called: s.number, linePort: s.linePort, caller: 'fail', line: { scenario: 'codec-reject' } });
    okCall(first);
    expect(finalTo(first.caller)).toBe(488);
    okCall(await call({ called: s.number, linePort: s.linePort, caller: 'cancel', callerMs: 1000, line: { scenario: 'ring' } }));
    let rows: { invite_at: Date; final_status: number }[] = [];
    const deadline = Date.now() + 10_000;
    while (rows.length < 2 && Date.now() < deadline) {
      rows = (await db.pool.query('select invite_at, final_status from incoming_call where called_number = $1 order by id', [s.number])).rows;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(rows.map((r) => r.final_status)).toEqual([488, 487]);
    // Past the retry window the rejected call's held mail would have gone out: it must not.
    await new Promise((r) => setTimeout(r, config.notify.codecRetryWindowSec * 1000 + 1000));
    const mails = await mailsTo(s.address, 2, 0);
    expect(mails.map((m) => m.text)).toEqual([expectedText(rows[1]!.invite_at, CALLER, '', 1, '応答なし')]);
  });

  it('withheld (Privacy: id): no number, 非通知', async () => {
    const s = await newSubscriber();
    okCall(await call({
      called: s.number, linePort: s.linePort, caller: 'cancel', callerMs: 1000, line: { scenario: 'ring' },
      from: '"Anonymous" <sip:anonymous@anonymous.invalid>', hdr1: `P-Asserted-Identity: <sip:${CALLER}@127.0.0.1>`, hdr2: 'Privacy: id',
    }));
    await expectOneMail(s.address, s.number, '', '非通知', 1, '応答なし');
  });

  it('payphone (cpc=payphone): 公衆', async () => {
    const s = await newSubscriber();
    okCall(await call({
      called: s.number, linePort: s.linePort, caller: 'cancel', callerMs: 1000, line: { scenario: 'ring' },
      hdr1: 'P-Asserted-Identity: <tel:+81612345678;cpc=payphone>',
    }));
    await expectOneMail(s.address, s.number, '', '公衆', 1, '応答なし');
  });

  it('no number available without a privacy request: 表示圏外', async () => {
    const s = await newSubscriber();
    okCall(await call({
      called: s.number, linePort: s.linePort, caller: 'cancel', callerMs: 1000, line: { scenario: 'ring' },
      from: '"Unavailable" <sip:unavailable@unknown.invalid>',
    }));
    await expectOneMail(s.address, s.number, '', '表示圏外', 1, '応答なし');
  });

  it('designated only: a designated caller is mailed, another is not', async () => {
    const hit = await newSubscriber({ notify: { designatedOnly: true, designated: [CALLER] } });
    okCall(await call({ called: hit.number, linePort: hit.linePort, caller: 'cancel', callerMs: 1000, line: { scenario: 'ring' } }));
    await expectOneMail(hit.address, hit.number, CALLER, '', 1, '応答なし');

    const miss = await newSubscriber({ notify: { designatedOnly: true, designated: ['0698765432', { number: CALLER, designated: false }] } });
    okCall(await call({ called: miss.number, linePort: miss.linePort, caller: 'cancel', callerMs: 500, line: { scenario: 'ring' } }));
    await expectNoMail(miss.address, miss.number);
  });

  it('unanswered only: an answered call sends nothing', async () => {
    const s = await newSubscriber({ notify: { unansweredOnly: true } });
    okCall(await call({ called: s.number, linePort: s.linePort, caller: 'answer', callerMs: 200, line: { scenario: 'answer', ringMs: 500 } }));
    const row = await expectNoMail(s.address, s.number);
    expect(row.status).toBe('通話');
  });

  it('ナンバー・リクエスト: a withheld call gets 433, the line never rings, no mail', async () => {
    const s = await newSubscriber({ services: ['chakushin_mail', 'number_request'] });
    const line = await startSipp({ scenario: SCEN('notify-uas-ring'), localPort: s.linePort, calls: 1, timeoutMs: 20_000 });
    const r = await call({ called: s.number, linePort: s.linePort, caller: 'fail', hdr1: 'Privacy: id', from: '"Anonymous" <sip:anonymous@anonymous.invalid>' });
    okCall(r);
    expect(finalTo(r.caller)).toBe(433);
    const row = await expectNoMail(s.address, s.number);
    expect(row).toMatchObject({ refused_by: 'number_request', final_status: 433, status: null, absent_reason: '非通知' });
    const lineResult = await line.stop();
    expect(lineResult.stats?.created ?? 0).toBe(0);
  });

  it('迷惑電話おことわり: a listed caller gets 603, no mail', async () => {
    const s = await newSubscriber({ services: ['chakushin_mail', 'nuisance_block'], blocked: [CALLER] });
    const r = await call({ called: s.number, linePort: s.linePort, caller: 'fail' });
    okCall(r);
    expect(finalTo(r.caller)).toBe(603);
    expect(await expectNoMail(s.address, s.number)).toMatchObject({ refused_by: 'nuisance_block', final_status: 603 });
  });

  it('five destinations, two with send off: three mails, one each', async () => {
    const destinations = [1, 2, 3, 4, 5].map((i) => ({ address: `d${i}.${numbers + 1}@example.jp`, send: i !== 2 && i !== 5 }));
    const s = await newSubscriber({ notify: { destinations } });
    okCall(await call({ called: s.number, linePort: s.linePort, caller: 'cancel', callerMs: 1000, line: { scenario: 'ring' } }));
    for (const d of destinations.filter((x) => x.send)) expect(await mailsTo(d.address, 1)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    for (const d of destinations) expect(await mailsTo(d.address, 1, 0)).toHaveLength(d.send ? 1 : 0);
  });

  it('SMTP server down during the call and back later: the mail arrives once', async () => {
    const s = await newSubscriber();
    await catcher.close();
    okCall(await call({ called: s.number, linePort: s.linePort, caller: 'cancel', callerMs: 1000, line: { scenario: 'ring' } }));
    const [row] = await recorded(s.number);
    const deadline = Date.now() + 10_000;
    let attempts = 0;
    while (attempts < 2 && Date.now() < deadline) {
      attempts = (await db.pool.query('select attempts from mail_outbox where incoming_call_id = $1', [row.id])).rows[0]?.attempts ?? 0;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(attempts).toBeGreaterThanOrEqual(2);
    catcher = await startSmtpCatcher({ host: '127.0.0.1', port: catcherPort, dir, logger: quietLogger });
    await expectOneMail(s.address, s.number, CALLER, '', 1, '応答なし');
    await new Promise((r) => setTimeout(r, 500));
    expect(await mailsTo(s.address, 2, 0)).toHaveLength(1);
  });

  it('app restarted between call end and delivery: the mail arrives once', async () => {
    const s = await newSubscriber();
    await worker!.stop();
    okCall(await call({ called: s.number, linePort: s.linePort, caller: 'cancel', callerMs: 1000, line: { scenario: 'ring' } }));
    await recorded(s.number);
    // The instance goes away with the mail still in the outbox…
    srf.disconnect();
    await app.stop();
    expect(await mailsTo(s.address, 1, 300)).toHaveLength(0);
    // …and a new one (plus a second instance with its own pool) delivers it, once.
    const otherPool = new pg.Pool({ connectionString: db.url, max: 2 });
    const second = startWorker(otherPool);
    worker = startWorker();
    await connectApp();
    await expectOneMail(s.address, s.number, CALLER, '', 1, '応答なし');
    await new Promise((r) => setTimeout(r, 500));
    expect(await mailsTo(s.address, 2, 0)).toHaveLength(1);
    await second.stop();
    await otherPool.end();
  });
});

/**
 * A broken line that answers neither the CANCEL nor the INVITE (RFC 3261 §9.1), on an engine and
 * an app whose T1 is 50 ms (the engine's timers all shrunk by one factor), so 64·T1 is 3.2 s.
 */
describe('a line that answers neither the CANCEL nor the INVITE', () => {
  const T1 = 50;
  const GUARD_MS = 64 * T1;
  /** The line stays silent past the CANCEL's last retransmission. */
  const SILENT_MS = GUARD_MS + 1000;
  let fast: Engine;
  let fastSrf: Srf;
  let fastApp: NotifyApp;
  const logged: { msg: string; callId?: string; time: number; part?: string; component?: string }[] = [];

  beforeAll(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    fast = await startTestEngine(SECRET, { logger, timers: { t1: T1, t2: 8 * T1, t4: 10 * T1, c: 370 * T1 } });
    ({ srf: fastSrf, app: fastApp } = await connectedApp(fast, { spool: 'spool-fast', logger, sipT1Ms: T1 }));
  });
  afterAll(async () => {
    fastSrf?.disconnect();
    await fastApp?.stop();
    await fast?.close();
  });

  /** The app's guard gave the call up: its log line, once the call is no longer counted. */
  async function givenUp(callId: string) {
    const line = await waitFor(async () => logged.find((l) => l.part === 'notify' && l.callId === callId && /within 64·T1/.test(l.msg)), (l) => !!l, GUARD_MS + 15_000);
    expect(line, 'guard log line with the Call-ID').toBeDefined();
    expect(await waitFor(async () => fastApp.activeCalls(), (n) => n === 0, 10_000)).toBe(0);
    return line!;
  }

  /** Nothing left behind in the stack either (UDP transactions linger up to 64·T1 after their end). */
  async function expectEngineIdle() {
    const left = await waitFor(async () => [fast.counters.transactions(), fast.counters.dialogs()], (g) => g.every((n) => n === 0), 3 * GUARD_MS + 10_000, 100);
    expect(left).toEqual([0, 0]);
  }

  it('the caller CANCELs: 200 and 487 to the caller, recorded 応答なし 487 ending at the CANCEL, one mail; the call is given up 64·T1 after the CANCEL; the service takes the next call', async () => {
    const s = await newSubscriber();
    const r = await call({ via: fast, called: s.number, linePort: s.linePort, caller: 'cancel', callerMs: 1000, line: { scenario: 'ignore-cancel', ringMs: SILENT_MS } });
    okCall(r); // the caller's scenario wants 200 to its CANCEL, then 487
    expect(r.caller.messages).toMatch(/^SIP\/2\.0 487 /m);
    expect(r.line!.messages).toMatch(/^CANCEL /m);
    const [row] = await recorded(s.number);
    expect(row).toMatchObject({ status: '応答なし', final_status: 487, ring_seconds: 1, end_reason: null });
    await expectOneMail(s.address, s.number, CALLER, '', 1, '応答なし');
    const line = await givenUp(row.call_id);
    // The record ends when the caller's side did (the CANCEL), not when the guard fired.
    expect(line.time - row.end_at.getTime()).toBeGreaterThanOrEqual(GUARD_MS - 5);
    // The built-in engine follows §9.1 too: its own local 408 for that INVITE, which finds the call over.
    const engineTimeout = await waitFor(async () => logged.find((l) => l.component === 'sip-engine' && l.callId && /local 408/.test(l.msg)), (l) => !!l, 10_000);
    expect(engineTimeout, 'engine: no final response, local 408').toBeDefined();
    expect(await recorded(s.number)).toHaveLength(1);

    const next = await newSubscriber();
    okCall(await call({ via: fast, called: next.number, linePort: next.linePort, caller: 'cancel', callerMs: 1000, line: { scenario: 'ring' } }));
    await expectOneMail(next.address, next.number, CALLER, '', 1, '応答なし');
    expect(await waitFor(async () => fastApp.activeCalls(), (n) => n === 0, 10_000)).toBe(0);
    await expectEngineIdle();
  }, 60_000);

  it(`the line rings past notify.maxRingSec: 480 to the caller, recorded 応答なし 480 ending then, one mail; the call is given up 64·T1 after the CANCEL`, async () => {
    const s = await newSubscriber();
    const r = await call({ via: fast, called: s.number, linePort: s.linePort, caller: 'fail', line: { scenario: 'ignore-cancel', ringMs: MAX_RING_SEC * 1000 + SILENT_MS } });
    okCall(r);
    expect(finalTo(r.caller)).toBe(480);
    expect(r.line!.messages).toMatch(/^CANCEL /m);
    const [row] = await recorded(s.number);
    expect(row).toMatchObject({ status: '応答なし', final_status: 480, ring_seconds: MAX_RING_SEC, end_reason: 'max_ring_time' });
    await expectOneMail(s.address, s.number, CALLER, '', MAX_RING_SEC, '応答なし');
    const line = await givenUp(row.call_id);
    expect(line.time - row.end_at.getTime()).toBeGreaterThanOrEqual(GUARD_MS - 5);
    expect(await recorded(s.number)).toHaveLength(1);
    await expectEngineIdle();
  }, 60_000);
});
