// ボイスワープ in the call path, over SIP: SIPp caller → built-in SIP engine → notify B2BUA → SIPp
// line, and the 転送先 a second SIPp UAS at notify.nextHop that checks Diversion (and History-Info).
// Each 転送条件 with a line that answers, is busy or rings past 呼出秒数; the 転送先 busy; CANCEL
// during either ringing; セレクト機能; the loop guard; 転送ガイダンス as early media with the media
// anchored; and the mail of each case, as received over SMTP.
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import type { PromptLibrary } from '../../src/media/index.ts';
import { parseRtp, buildRtp } from '../../src/media/rtp.ts';
import type { Engine } from '../../src/sip-engine/index.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { testFreeswitch } from '../support/test-drachtio.ts';
import { waitFor } from '../support/wait.ts';
import { jst } from '../mail/mailbox.ts';
import {
  CALLER, DESTINATION, header, ok, okSide, responsesTo, startWarpStack, traced, untouched, type CallResult, type CallSpec, type WarpStack,
} from './stack.ts';

const config = parseConfig({ notify: { codecRetryWindowSec: 0, maxRingSec: 30 }, voiceWarp: { maxDiversions: 5 } });

let db: TestDatabase;
let stack: WarpStack;
let engine: Engine;
let prompts: PromptLibrary;
/** notify.nextHop: where the 転送先 SIPp listens. */
let nextHopPort: number;

beforeAll(async () => {
  db = await createTestDatabase();
  stack = await startWarpStack(db, config);
  ({ engine, prompts, nextHopPort } = stack);
});
afterAll(async () => {
  await stack?.stop();
  await db?.drop();
});

const call = (spec: CallSpec) => stack.call(spec);

let numbers = 0;
/** A fresh subscriber per test (mails never mix), its line at its own port, with these ボイスワープ settings. */
async function subscriber(voiceWarp: Record<string, unknown>) {
  const number = `06300000${String(++numbers).padStart(2, '0')}`;
  const linePort = await freePort('udp');
  const address = `pc.${number}@example.jp`;
  await applyProvisioning(db.pool, {
    contracts: [{
      id: `W${number}`, region: 'west', pattern: 'A', authUnit: 'line',
      numbers: [{
        number, role: 'main', services: ['chakushin_mail', 'voice_warp'], target: `sip:${number}@127.0.0.1:${linePort}`,
        notify: { started: true, destinations: [{ address, send: true }] },
        voiceWarp: { started: true, destination: DESTINATION, ...voiceWarp },
      }],
    }],
  });
  return { number, linePort, address };
}

async function recorded(called: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.pool.query('select * from incoming_call where called_number = $1', [called]);
    if (rows.length || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const mailsTo = (address: string, count: number, timeoutMs?: number) => stack.mailsTo(address, count, timeoutMs);

async function expectMail(s: { number: string; address: string }, caller: string, reason: string, seconds: number, status: string) {
  const [row] = await recorded(s.number);
  expect(row, 'call recorded').toBeDefined();
  const mails = await mailsTo(s.address, 1);
  expect(mails).toHaveLength(1);
  expect(mails[0]!.subject).toBe(`着信通知（${s.number}着）`);
  expect(mails[0]!.text).toContain(
    [`着信日時:${jst(row.invite_at)}`, `発信電話番号:${caller}`, `非通知理由:${reason}`, `呼出時間:${seconds}秒`, `着信状態:${status}`].join('\n'),
  );
  return row;
}

async function expectNoMail(s: { number: string; address: string }) {
  const rows = await recorded(s.number);
  expect(rows).toHaveLength(1);
  const { rows: out } = await db.pool.query('select count(*)::int as n from mail_outbox where incoming_call_id = $1', [rows[0].id]);
  expect(out[0].n).toBe(0);
  await new Promise((r) => setTimeout(r, 300));
  expect(await mailsTo(s.address, 1, 0)).toHaveLength(0);
  return rows[0];
}

/** The forwarded INVITE the 転送先 got, with its Diversion checked. */
function expectForwarded(r: CallResult, s: { number: string }, reason: string, counter = 1) {
  const invite = traced(r.dest!, /^INVITE /);
  expect(invite, r.dest!.messages).toBeDefined();
  expect(invite!.text).toMatch(new RegExp(`^INVITE sip:${DESTINATION}@127\\.0\\.0\\.1:${nextHopPort} SIP/2\\.0`));
  const diversion = header(invite!.text, 'Diversion')!;
  expect(diversion).toMatch(new RegExp(`^<sip:${s.number}@127\\.0\\.0\\.1:${engine.sipAddress.port}>;reason=${reason};counter=${counter}`));
  expect(header(invite!.text, 'From')).toMatch(new RegExp(`^<sip:${CALLER}@127\\.0\\.0\\.1>;tag=`));
  expect(header(invite!.text, 'To')).toMatch(new RegExp(`^<sip:${s.number}@`));
  return invite!;
}

describe('ボイスワープ: each 転送条件', () => {
  it('無条件転送: the line is never rung; the 転送先 gets Diversion reason=unconditional;counter=1; 181 then its 180 and 200 reach the caller; mailed 転送 0秒', async () => {
    const s = await subscriber({ condition: 'unconditional' });
    const r = await call({ called: s.number, linePort: s.linePort, caller: 'answer', callerMs: 500, dest: { scenario: 'answer', ringMs: 1000 } });
    ok(r);
    okSide(r.dest);
    untouched(r.line);
    expectForwarded(r, s, 'unconditional');
    expect(header(traced(r.dest!, /^INVITE /)!.text, 'History-Info')).toBeUndefined();
    expect(responsesTo(r.caller)).toEqual([181, 180, 200]);
    expect(r.dest!.messages).toMatch(/^BYE /m);
    const row = await expectMail(s, CALLER, '', 0, '転送');
    expect(row).toMatchObject({ status: '転送', final_status: 200, ring_seconds: 0 });
  });

  it('話中時転送: a line that answers keeps the call (通話, the 転送先 never rung); a busy line is forwarded with reason=user-busy (転送, 呼出時間 up to the 486)', async () => {
    const answered = await subscriber({ condition: 'busy' });
    const a = await call({ called: answered.number, linePort: answered.linePort, caller: 'answer', callerMs: 300, line: { scenario: 'answer', ringMs: 1000 } });
    ok(a);
    okSide(a.line);
    untouched(a.dest);
    await expectMail(answered, CALLER, '', 1, '通話');

    const busy = await subscriber({ condition: 'busy' });
    const b = await call({ called: busy.number, linePort: busy.linePort, caller: 'answer', callerMs: 300, line: { scenario: 'busy', ringMs: 1000 }, dest: { scenario: 'answer' } });
    ok(b);
    okSide(b.line);
    okSide(b.dest);
    expectForwarded(b, busy, 'user-busy');
    // The line's 180 carried no SDP to the caller: the 転送先's answer is the one it takes.
    expect(responsesTo(b.caller)).toEqual([180, 181, 180, 200]);
    expect(b.caller.messages).not.toMatch(/SIP\/2\.0 486/);
    await expectMail(busy, CALLER, '', 1, '転送');
  });

  it('無応答時転送: answered within 呼出秒数 stays on the line; busy is relayed; ringing past 呼出秒数 the line is CANCELled and the call forwarded with reason=no-answer (転送, 呼出時間 = 呼出秒数)', async () => {
    const answered = await subscriber({ condition: 'no_answer', ringSeconds: 5 });
    const a = await call({ called: answered.number, linePort: answered.linePort, caller: 'answer', callerMs: 300, line: { scenario: 'answer', ringMs: 2000 } });
    ok(a);
    okSide(a.line);
    untouched(a.dest);
    await expectMail(answered, CALLER, '', 2, '通話');

    // Busy is not this condition's: the 486 is relayed, not forwarded.
    const busy = await subscriber({ condition: 'no_answer', ringSeconds: 5 });
    const b = await call({ called: busy.number, linePort: busy.linePort, caller: 'fail', line: { scenario: 'busy', ringMs: 1000 } });
    ok(b);
    untouched(b.dest);
    expect(responsesTo(b.caller)).toEqual([180, 486]);
    await expectMail(busy, CALLER, '', 1, '応答なし');

    const s = await subscriber({ condition: 'no_answer', ringSeconds: 5 });
    const r = await call({ called: s.number, linePort: s.linePort, caller: 'answer', callerMs: 300, line: { scenario: 'ring' }, dest: { scenario: 'answer', ringMs: 500 } });
    ok(r);
    okSide(r.line);
    okSide(r.dest);
    const cancel = traced(r.line!, /^CANCEL /)!;
    expect(header(cancel.text, 'Reason')).toBe('SIP;cause=480;text="No answer"');
    const invite = expectForwarded(r, s, 'no-answer');
    // The forward goes once the line has answered its CANCEL, 呼出秒数 after the line's INVITE.
    const lineInvite = traced(r.line!, /^INVITE /)!;
    expect(invite.at - lineInvite.at).toBeGreaterThanOrEqual(4_900);
    expect(invite.at - lineInvite.at).toBeLessThan(7_000);
    expect(responsesTo(r.caller)).toEqual([180, 181, 180, 200]);
    const row = await expectMail(s, CALLER, '', 5, '転送');
    expect(row.status).toBe('転送');
  }, 60_000);

  it('話中・無応答時転送 with History-Info on: busy → user-busy, no answer → no-answer; History-Info (RFC 7044) names both with cause 486 / 408', async () => {
    config.voiceWarp.historyInfo = true;
    try {
      const busy = await subscriber({ condition: 'busy_no_answer', ringSeconds: 5 });
      const b = await call({ called: busy.number, linePort: busy.linePort, caller: 'answer', callerMs: 200, line: { scenario: 'busy', ringMs: 300 }, dest: { scenario: 'answer' } });
      ok(b);
      const hb = header(expectForwarded(b, busy, 'user-busy').text, 'History-Info')!;
      expect(hb).toMatch(new RegExp(`^<sip:${busy.number}@127\\.0\\.0\\.1:\\d+\\?Reason=SIP%3Bcause%3D486[^>]*>;index=1, <sip:${DESTINATION}@127\\.0\\.0\\.1:${nextHopPort};cause=486>;index=1\\.1;mp=1$`));
      await expectMail(busy, CALLER, '', 0, '転送');

      const none = await subscriber({ condition: 'busy_no_answer', ringSeconds: 5 });
      const n = await call({ called: none.number, linePort: none.linePort, caller: 'answer', callerMs: 200, line: { scenario: 'ring' }, dest: { scenario: 'answer' } });
      ok(n);
      const hn = header(expectForwarded(n, none, 'no-answer').text, 'History-Info')!;
      expect(hn).toContain(`<sip:${DESTINATION}@127.0.0.1:${nextHopPort};cause=408>;index=1.1;mp=1`);
      await expectMail(none, CALLER, '', 5, '転送');
    } finally {
      config.voiceWarp.historyInfo = false;
    }
  }, 60_000);
});

describe('ボイスワープ: the 転送先 and the caller', () => {
  it('the 転送先 busy: the caller gets 486; recorded 応答なし, no mail (the forward did not happen)', async () => {
    const s = await subscriber({ condition: 'unconditional' });
    const r = await call({ called: s.number, linePort: s.linePort, caller: 'fail', dest: { scenario: 'busy' } });
    ok(r);
    okSide(r.dest);
    untouched(r.line);
    expect(responsesTo(r.caller)).toEqual([181, 486]);
    expect(await expectNoMail(s)).toMatchObject({ status: '応答なし', final_status: 486 });
  });

  it('the caller CANCELs while the line rings (before 呼出秒数): the line gets the CANCEL, the 転送先 nothing; 応答なし 1秒', async () => {
    const s = await subscriber({ condition: 'no_answer', ringSeconds: 5 });
    const r = await call({ called: s.number, linePort: s.linePort, caller: 'cancel', callerMs: 1000, line: { scenario: 'ring' } });
    ok(r);
    okSide(r.line);
    untouched(r.dest);
    await expectMail(s, CALLER, '', 1, '応答なし');
  });

  it('the caller CANCELs while the 転送先 rings: the CANCEL reaches the 転送先; 487 to the caller; mailed 転送', async () => {
    const s = await subscriber({ condition: 'unconditional' });
    const r = await call({ called: s.number, linePort: s.linePort, caller: 'cancel-forwarded', callerMs: 1000, dest: { scenario: 'ring' } });
    ok(r);
    okSide(r.dest);
    untouched(r.line);
    expect(r.dest!.messages).toMatch(/^CANCEL /m);
    expect(responsesTo(r.caller)).toEqual([181, 180, 487]);
    const row = await expectMail(s, CALLER, '', 0, '転送');
    expect(row.final_status).toBe(487);
  });
});

describe('ボイスワープ: セレクト機能 and the loop guard', () => {
  const WITHHELD = { from: '"Anonymous" <sip:anonymous@anonymous.invalid>', hdr1: `P-Asserted-Identity: <sip:${CALLER}@127.0.0.1>`, hdr2: 'Privacy: id' };
  const OTHER = '<sip:0698765432@127.0.0.1>';

  for (const mode of ['forward_listed', 'ring_listed'] as const) {
    it(`${mode === 'forward_listed' ? '登録番号転送' : '登録番号着信'}: a listed, an unlisted and a withheld caller`, async () => {
      const s = await subscriber({ condition: 'unconditional', select: { started: true, mode, list: [CALLER] } });
      const cases = [
        { who: 'listed', keys: {}, forwarded: mode === 'forward_listed' },
        { who: 'unlisted', keys: { from: OTHER }, forwarded: mode === 'ring_listed' },
        { who: 'withheld', keys: WITHHELD, forwarded: mode === 'ring_listed' },
      ];
      for (const c of cases) {
        const r = await call({
          called: s.number, linePort: s.linePort, caller: 'answer', callerMs: 100, ...c.keys,
          ...(c.forwarded ? { dest: { scenario: 'answer' as const } } : { line: { scenario: 'answer' as const } }),
        });
        ok(r);
        if (c.forwarded) {
          okSide(r.dest);
          untouched(r.line);
        } else {
          okSide(r.line);
          untouched(r.dest);
        }
      }
      const rows = await waitFor(async () => (await db.pool.query('select caller_number, status from incoming_call where called_number = $1 order by id', [s.number])).rows, (x) => x.length === 3);
      expect(rows.map((x) => x.status)).toEqual(cases.map((c) => (c.forwarded ? '転送' : '通話')));
    }, 60_000);
  }

  it('loop guard: a call that arrives diverted 5 times rings the line; one diverted 4 times is forwarded with its history kept', async () => {
    const s = await subscriber({ condition: 'unconditional' });
    const looped = await call({
      called: s.number, linePort: s.linePort, caller: 'answer', callerMs: 100, line: { scenario: 'answer' },
      hdr1: 'Diversion: <sip:0633334444@192.0.2.1>;reason=unconditional;counter=3, <sip:0644445555@192.0.2.1>;reason=no-answer;counter=2',
    });
    ok(looped);
    okSide(looped.line);
    untouched(looped.dest);

    const s2 = await subscriber({ condition: 'unconditional' });
    const once = await call({
      called: s2.number, linePort: s2.linePort, caller: 'answer', callerMs: 100, dest: { scenario: 'answer' },
      hdr1: 'Diversion: <sip:0633334444@192.0.2.1>;reason=unconditional;counter=4',
    });
    ok(once);
    const diversion = header(expectForwarded(once, s2, 'unconditional').text, 'Diversion')!;
    expect(diversion).toMatch(/;reason=unconditional;counter=1, <sip:0633334444@192\.0\.2\.1>;reason=unconditional;counter=4$/);
  }, 60_000);
});

describe('a caller without SDP (late offer)', () => {
  it('the line (ボイスワープ stopped) and the 転送先 each get an INVITE without SDP; their 200 carries the offer to the caller, whose ACK carries the answer back', async () => {
    for (const [started, side] of [[false, 'line'], [true, 'dest']] as const) {
      const s = await subscriber({ started, condition: 'unconditional' });
      const r = await call({
        called: s.number, linePort: s.linePort, caller: 'late-offer', callerMs: 200, audioPort: 40000,
        ...(side === 'line' ? { line: { scenario: 'answer' as const } } : { dest: { scenario: 'answer' as const } }),
      });
      ok(r);
      const callee = side === 'line' ? r.line! : r.dest!;
      okSide(callee);
      expect(traced(callee, /^INVITE /)!.text).toMatch(/^Content-Length: 0/im);
      expect(traced(callee, /^ACK /)!.text).toMatch(/m=audio 40000 RTP\/AVP 0/);
      expect(traced(r.caller, /^SIP\/2\.0 200 /)!.text).toMatch(/^m=audio \d+ RTP\/AVP 0/m);
      await expectMail(s, CALLER, '', 0, started ? '転送' : '通話');
    }
  }, 60_000);
});

describe('ボイスワープ: 転送ガイダンス', () => {
  it('heard as early media (183 with the endpoint’s SDP) before the forward goes out; then ringback, and once the 転送先 answers the endpoint relays both ways; the caller’s 200 repeats the 183’s SDP', async () => {
    const s = await subscriber({ condition: 'unconditional', guidance: true });
    const callerAudio = dgram.createSocket('udp4');
    const destAudio = dgram.createSocket('udp4');
    await new Promise<void>((r) => callerAudio.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => destAudio.bind(0, '127.0.0.1', r));
    const heard: { at: number; payload: Buffer; from: number }[] = [];
    const destHeard: Buffer[] = [];
    let endpointPort = 0;
    let talking: NodeJS.Timeout | undefined;
    let seq = 0;
    callerAudio.on('message', (msg, rinfo) => {
      const pkt = parseRtp(msg);
      if (!pkt) return;
      heard.push({ at: Date.now(), payload: pkt.payload, from: rinfo.port });
      if (!endpointPort) {
        endpointPort = rinfo.port;
        // The caller talks from now on: 0x55 frames, which reach the 転送先 only once it is bridged.
        talking = setInterval(() => callerAudio.send(buildRtp({ marker: false, payloadType: 0, sequence: seq++, timestamp: seq * 160, ssrc: 0x0c0c0c0c }, Buffer.alloc(160, 0x55)), endpointPort, '127.0.0.1'), 20);
      }
    });
    destAudio.on('message', (msg, rinfo) => {
      const pkt = parseRtp(msg);
      if (!pkt) return;
      destHeard.push(pkt.payload);
      destAudio.send(buildRtp({ marker: false, payloadType: 0, sequence: seq++, timestamp: seq * 160, ssrc: 0x0d0d0d0d }, Buffer.alloc(160, 0x66)), rinfo.port, rinfo.address);
    });
    try {
      const r = await call({
        called: s.number, linePort: s.linePort, caller: 'answer', callerMs: 1500, audioPort: callerAudio.address().port,
        dest: { scenario: 'answer', ringMs: 1000, audioPort: destAudio.address().port },
      });
      ok(r);
      okSide(r.dest);
      untouched(r.line);
      expect(responsesTo(r.caller)).toEqual([181, 183, 180, 200]);
      const progress = traced(r.caller, /^SIP\/2\.0 183 /)!;
      const answer = traced(r.caller, /^SIP\/2\.0 200 /)!;
      const sdpOf = (text: string) => text.slice(text.indexOf('\r\n\r\n') >= 0 ? text.indexOf('\r\n\r\n') : text.indexOf('\n\n')).trim();
      expect(sdpOf(progress.text)).toMatch(/^v=0/);
      expect(sdpOf(answer.text)).toBe(sdpOf(progress.text));
      // The guidance reached the caller before the 転送先 got its INVITE: frame for frame from the
      // built-in endpoint; from FreeSWITCH (its own G.711 encoder) as that many frames of sound.
      const clip = prompts.get('vw_guidance').encoded.ulaw;
      const invite = expectForwarded(r, s, 'unconditional');
      if (testFreeswitch()) {
        // µ-law code words 0x7c–0x7f and 0xfc–0xff are within a few steps of zero.
        const silent = (p: Buffer) => p.every((b) => (b & 0x7f) >= 0x7c);
        const sound = heard.filter((h) => h.at <= invite.at + 50 && !silent(h.payload));
        expect(sound.length, 'guidance frames heard').toBeGreaterThan(0.4 * (clip.length / 160));
      } else {
        const stream = Buffer.concat(heard.map((h) => h.payload));
        const start = stream.indexOf(clip.subarray(0, 1600));
        expect(start, 'guidance frames heard').toBeGreaterThanOrEqual(0);
        const lastFrame = heard[Math.ceil((start + clip.length) / 160) - 1]!;
        expect(lastFrame.at).toBeLessThanOrEqual(invite.at + 50);
      }
      // …which offered the endpoint's SDP, not the caller's.
      expect(sdpOf(invite.text)).toMatch(testFreeswitch() ? /^v=0[\s\S]*o=FreeSWITCH / : /^v=0[\s\S]*o=chakushin /);
      expect(sdpOf(invite.text)).not.toContain(`m=audio ${callerAudio.address().port} `);
      // Bridged: the caller's audio reached the 転送先 and the 転送先's the caller, from the port the caller knows.
      expect(destHeard.some((p) => p[0] === 0x55)).toBe(true);
      const fromDest = heard.filter((h) => h.payload[0] === 0x66);
      expect(fromDest.length).toBeGreaterThan(0);
      expect(fromDest.every((h) => h.from === endpointPort)).toBe(true);
      await expectMail(s, CALLER, '', 0, '転送');
    } finally {
      clearInterval(talking);
      callerAudio.close();
      destAudio.close();
    }
  }, 60_000);
});
