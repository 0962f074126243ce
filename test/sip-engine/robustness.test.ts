// Bad input and fuzzing straight over UDP/TCP sockets: every message gets the RFC answer or is
// dropped and counted, and the engine keeps serving.
import dgram from 'node:dgram';
import net from 'node:net';
import { Registry } from 'prom-client';
import Srf from 'drachtio-srf';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { Dialogs } from '../../src/sip-engine/dialog.ts';
import { startEngine, type Engine } from '../../src/sip-engine/index.ts';

const SECRET = 'robust';
let engine: Engine;
let srf: Srf;
let sock: dgram.Socket;
let port = 0;
const seen: string[] = [];
const logs: { msg: string; callId?: string }[] = [];

function msg(lines: string[], body = ''): Buffer {
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'utf8');
}
function options(branch: string, extra: string[] = [], method = 'OPTIONS'): string[] {
  return [
    `${method} sip:robust@127.0.0.1:${engine.sipAddress.port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${port};rport;branch=z9hG4bK${branch}`,
    'From: <sip:0311112222@127.0.0.1>;tag=f1', 'To: <sip:robust@127.0.0.1>',
    `Call-ID: ${branch}@127.0.0.1`, `CSeq: 1 ${method}`, 'Max-Forwards: 70', ...extra, 'Content-Length: 0',
  ];
}

/** Sends one datagram and collects the start lines of whatever comes back within `ms`. */
async function exchange(buf: Buffer, ms = 300): Promise<string[]> {
  const got: string[] = [];
  const on = (b: Buffer) => got.push(b.toString('utf8'));
  sock.on('message', on);
  sock.send(buf, engine.sipAddress.port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, ms));
  sock.off('message', on);
  return got;
}
const startLine = (s: string) => s.split('\r\n')[0];

async function drained(ms = 8000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (engine.counters.transactions() === 0 && engine.counters.dialogs() === 0) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

beforeAll(async () => {
  engine = await startEngine({
    sip: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, secret: SECRET,
    timers: { t1: 10, t2: 40, t4: 50 },
    logger: pino({ level: 'error' }, { write: (line: string) => { logs.push(JSON.parse(line) as { msg: string }); } }),
  });
  srf = new Srf();
  // Answers everything with a final response that creates no dialog, so the fuzzer never makes
  // the engine send requests to addresses taken from mutated headers.
  srf.invite((req, res) => { seen.push('INVITE'); res.send(486); });
  srf.use('options', (req, res) => { seen.push('OPTIONS'); res.send(200); });
  srf.use('info', (req, res) => res.send(200));
  srf.use('subscribe', (req, res) => res.send(202));
  await new Promise<void>((resolve, reject) => {
    srf.connect({ host: '127.0.0.1', port: engine.adminAddress.port, secret: SECRET });
    srf.once('connect', (err: Error | null) => (err ? reject(err) : resolve()));
  });
  sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  port = sock.address().port;
});
afterAll(async () => {
  sock?.close();
  srf?.disconnect();
  await engine?.close();
});

describe('bad input', () => {
  it('drops and counts an unparseable datagram without answering', async () => {
    const before = engine.counters.parseErrors;
    expect(await exchange(Buffer.from('HELLO WORLD\r\n\r\n'))).toEqual([]);
    expect(engine.counters.parseErrors).toBe(before + 1);
  });

  it.each(['Call-ID', 'From', 'To', 'CSeq'])('answers 400 to a request missing %s (there is a Via to answer to)', async (name) => {
    const lines = options(`no${name}`).filter((l) => !l.startsWith(`${name}:`));
    const res = await exchange(msg(lines));
    expect(res.map(startLine)).toEqual(['SIP/2.0 400 Bad Request']);
    expect(res[0]).toContain(`branch=z9hG4bKno${name}`);
  });

  it('drops what cannot be answered: no Via, or an ACK', async () => {
    const before = engine.counters.parseErrors;
    expect(await exchange(msg(options('novia').filter((l) => !l.startsWith('Via:'))))).toEqual([]);
    expect(await exchange(msg(options('badack', [], 'ACK').filter((l) => !l.startsWith('Call-ID:'))))).toEqual([]);
    expect(engine.counters.parseErrors).toBe(before + 2);
  });

  it('answers 400 to a CSeq whose method is not the request\'s, and to a Max-Forwards that is not a number; a missing Max-Forwards passes', async () => {
    const res = await exchange(msg(options('nocseqm').map((l) => (l.startsWith('CSeq') ? 'CSeq: 1 INVITE' : l))));
    expect(res.map(startLine)).toEqual(['SIP/2.0 400 Bad Request']);
    const mf = await exchange(msg(options('mfword').map((l) => (l.startsWith('Max-Forwards') ? 'Max-Forwards: many' : l))));
    expect(mf.map(startLine)).toEqual(['SIP/2.0 400 Bad Request']);
    const none = await exchange(msg(options('nomf').filter((l) => !l.startsWith('Max-Forwards'))));
    expect(none.map(startLine)).toEqual(['SIP/2.0 200 OK']);
  });

  it('answers 505 to another SIP version, and 400 to a start line that cannot be read', async () => {
    const v3 = await exchange(msg(options('sip3').map((l, i) => (i === 0 ? l.replace('SIP/2.0', 'SIP/3.0') : l))));
    expect(v3.map(startLine)).toEqual(['SIP/2.0 505 Version Not Supported']);
    expect(v3[0]).toContain('Call-ID: sip3@127.0.0.1');
    const bad = await exchange(msg(options('nouri').map((l, i) => (i === 0 ? 'OPTIONS  SIP/2.0' : l))));
    expect(bad.map(startLine)).toEqual(['SIP/2.0 400 Bad Request']);
    expect(engine.counters.rejected.get(505)).toBe(1);
  });

  it('answers 400 when Content-Length is larger than the body', async () => {
    const lines = options('shortbody').map((l) => (l.startsWith('Content-Length') ? 'Content-Length: 100' : l));
    expect((await exchange(msg(lines, 'short'))).map(startLine)).toEqual(['SIP/2.0 400 Bad Request']);
  });

  it('answers 501 with Allow to an unknown method', async () => {
    const res = await exchange(msg(options('unknown', [], 'FROBNICATE')));
    expect(res.map(startLine)).toEqual(['SIP/2.0 501 Not Implemented']);
    expect(res[0]).toMatch(/\r\nAllow: INVITE, ACK/);
  });

  it('answers 481 to a request for a dialog that does not exist', async () => {
    const lines = options('nodialog', [], 'INFO').map((l) => (l.startsWith('To:') ? 'To: <sip:robust@127.0.0.1>;tag=nope' : l));
    expect((await exchange(msg(lines))).map(startLine)).toEqual(['SIP/2.0 481 Call/Transaction Does Not Exist']);
  });

  it('answers 483 when Max-Forwards is exhausted', async () => {
    const lines = options('hops').map((l) => (l.startsWith('Max-Forwards') ? 'Max-Forwards: 0' : l));
    expect((await exchange(msg(lines))).map(startLine)).toEqual(['SIP/2.0 483 Too Many Hops']);
  });

  it('answers 503 for a method no app has a route for', async () => {
    expect((await exchange(msg(options('noroute', [], 'MESSAGE')))).map(startLine)).toEqual(['SIP/2.0 503 Service Unavailable']);
  });

  it('forms no dialog for a SUBSCRIBE: its 2xx goes out as the app wrote it, without an engine Contact', async () => {
    const res = await exchange(msg(options('subscribe', ['Event: presence', 'Contact: <sip:s@127.0.0.1>'], 'SUBSCRIBE')));
    expect(res.map(startLine)).toEqual(['SIP/2.0 202 Accepted']);
    expect(res[0]).not.toMatch(/\r\nContact:/i);
    expect(engine.counters.dialogs()).toBe(0);
  });

  it('absorbs a flood of retransmissions: the app sees the request once, each copy gets the same answer', async () => {
    seen.length = 0;
    const before = engine.counters.retransmissionsAbsorbed;
    const buf = msg(options('flood'));
    const got: string[] = [];
    const on = (b: Buffer) => got.push(b.toString());
    sock.on('message', on);
    sock.send(buf, engine.sipAddress.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 200; i++) {
      sock.send(buf, engine.sipAddress.port, '127.0.0.1');
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5)); // stay under the socket buffers
    }
    await new Promise((r) => setTimeout(r, 300));
    sock.off('message', on);
    expect(seen).toEqual(['OPTIONS']);
    expect(engine.counters.retransmissionsAbsorbed - before).toBeGreaterThanOrEqual(190);
    expect(new Set(got).size).toBe(1);
    expect(got.length).toBeGreaterThanOrEqual(190);
  });

  it('contains an exception while handling one request: 500 to that request, logged with its Call-ID, counted, still serving', async () => {
    const spy = vi.spyOn(Dialogs.prototype, 'find').mockImplementationOnce(() => { throw new Error('injected fault'); });
    const lines = options('faulty', [], 'INFO').map((l) => (l.startsWith('To:') ? 'To: <sip:robust@127.0.0.1>;tag=t1' : l));
    try {
      expect((await exchange(msg(lines))).map(startLine)).toEqual(['SIP/2.0 500 Server Internal Error']);
    } finally {
      spy.mockRestore();
    }
    expect(engine.counters.faults).toBe(1);
    expect(logs.filter((l) => l.callId === 'faulty@127.0.0.1').map((l) => l.msg)).toEqual(['SIP engine fault in INFO request; that transaction or call is ended']);
    expect((await exchange(msg(options('afterfault')))).map(startLine)).toEqual(['SIP/2.0 200 OK']);
  });

  it('exposes its counters on a prom-client registry', async () => {
    const registry = new Registry();
    engine.registerMetrics(registry);
    const text = await registry.metrics();
    expect(text).toMatch(/sip_engine_parse_errors_total [1-9]/);
    expect(text).toMatch(/sip_engine_rejected_total\{status="501"\} 1/);
    expect(text).toMatch(/sip_engine_app_connections 1/);
    expect(text).toMatch(/sip_engine_faults_total 1/);
    expect(text).toMatch(/sip_engine_illegal_transitions_total 0/);
    expect(text).toMatch(/sip_engine_timer_c_cancels_total 0/);
  });
});

// ───────────────────────────── fuzzing ─────────────────────────────

/** Small deterministic PRNG (mulberry32) so a failing run can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function corpus(): string[] {
  const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
  const invite = options('seedinv', ['Contact: <sip:x@127.0.0.1>', 'Content-Type: application/sdp'], 'INVITE')
    .map((l) => (l.startsWith('Content-Length') ? `Content-Length: ${sdp.length}` : l));
  return [
    msg(invite, sdp).toString(),
    msg(options('seedopt')).toString(),
    msg(options('seedbye', [], 'BYE').map((l) => (l.startsWith('To:') ? l + ';tag=x' : l))).toString(),
    msg(options('seedcancel', [], 'CANCEL')).toString(),
    msg(options('seedack', [], 'ACK')).toString(),
    msg(['SIP/2.0 200 OK', ...options('seedres').slice(1)]).toString(),
    msg(['SIP/2.0 180 Ringing', ...options('seedres2', [], 'INVITE').slice(1)]).toString(),
    'v: SIP/2.0/UDP 127.0.0.1\r\n\r\n',
  ];
}

function mutate(seed: string, rnd: () => number, n: number): Buffer {
  const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)] as T;
  // Unique branch/Call-ID per message so mutations create new transactions rather than retransmissions.
  let s = seed.replace(/z9hG4bK\w+/g, `z9hG4bKf${n}`).replace(/Call-ID: \S+/, `Call-ID: fuzz${n}`);
  const rounds = 1 + Math.floor(rnd() * 4);
  for (let r = 0; r < rounds; r++) {
    const lines = s.split('\r\n');
    const i = Math.floor(rnd() * lines.length);
    switch (Math.floor(rnd() * 10)) {
      case 0: lines.splice(i, 1); break;
      case 1: lines.splice(i, 0, lines[i] ?? ''); break;
      case 2: lines[i] = (lines[i] ?? '').slice(0, Math.floor(rnd() * (lines[i]?.length ?? 0))); break;
      case 3: lines[i] = (lines[i] ?? '') + pick([';', ',', '<', '>', '"', ':', '\t', ' ', '%00', 'é', '\u0000', ';tag=', ';branch=']); break;
      case 4: lines[i] = pick(['Content-Length: 99999', 'l: -1', 'CSeq: x', 'Via: SIP/2.0/UDP', 'To: <', 'From:', ' folded', 'Max-Forwards: 0', 'CSeq: 99999999999 INVITE']); break;
      case 5: lines[i] = (lines[i] ?? '').toLowerCase(); break;
      case 6: lines[i] = 'X-Big: ' + 'a'.repeat(Math.floor(rnd() * 3000)); break;
      case 7: { const j = Math.floor(rnd() * lines.length); [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? '']; break; }
      default: {
        const b = Buffer.from(lines[i] ?? '', 'utf8');
        if (b.length) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
        lines[i] = b.toString('latin1');
      }
    }
    s = lines.join('\r\n');
  }
  return Buffer.from(s, 'latin1');
}

describe('fuzzing', () => {
  it('survives thousands of mutated messages over UDP and TCP without leaking transactions', async () => {
    const rnd = prng(20250101);
    const seeds = corpus();
    const before = engine.counters.messagesIn;
    for (let n = 0; n < 4000; n++) {
      sock.send(mutate(pick(seeds, rnd), rnd, n), engine.sipAddress.port, '127.0.0.1');
      if (n % 50 === 49) await new Promise((r) => setTimeout(r, 5));
    }
    // TCP: mutated messages through a few connections; unframeable streams are closed by the engine.
    for (let c = 0; c < 20; c++) {
      const conn = net.connect(engine.sipAddress.port, '127.0.0.1');
      conn.on('error', () => {});
      await new Promise<void>((r) => conn.once('connect', () => r()));
      for (let n = 0; n < 50; n++) conn.write(mutate(pick(seeds, rnd), rnd, 10_000 + c * 100 + n).toString('latin1').replace('SIP/2.0/UDP', 'SIP/2.0/TCP'), 'latin1');
      await new Promise((r) => setTimeout(r, 20));
      conn.destroy();
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(engine.counters.messagesIn - before).toBeGreaterThan(3000);
    expect(engine.counters.parseErrors).toBeGreaterThan(100);
    expect(await drained(), `transactions=${engine.counters.transactions()} dialogs=${engine.counters.dialogs()}`).toBe(true);

    // Still serving: a clean request gets its answer from the app.
    const res = await exchange(msg(options('afterfuzz')));
    expect(res.map(startLine)).toEqual(['SIP/2.0 200 OK']);
  });
});

function pick<T>(a: T[], rnd: () => number): T {
  return a[Math.floor(rnd() * a.length)] as T;
}
