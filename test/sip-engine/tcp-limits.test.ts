// What one peer, or all of them, can hold of the engine: TCP connections (in total, per address,
// and only while they complete messages; the trunk is never locked out) and transactions (beyond:
// 503 with Retry-After).
import dgram from 'node:dgram';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type Engine } from '../../src/sip-engine/index.ts';
import { DEFAULT_LIMITS, tcpConnectionCap } from '../../src/sip-engine/limits.ts';
import { trustedPeerMatcher } from '../../src/domain/trusted-peers.ts';
import { runSipp, sippSummary } from '../support/sipp.ts';
import { openConnection, type TestConnection } from '../support/sockets.ts';
import { waitFor } from '../support/wait.ts';
import { startTestApp, type TestApp } from './app.ts';

const SECRET = 'tcp-limits';
const LIMITS = { tcpMaxConnections: 10, tcpMaxConnectionsPerAddress: 6, tcpMessageTimeoutMs: 600, tcpIdleTimeoutMs: 1500 };
let engine: Engine;
let app: TestApp;

beforeAll(async () => {
  engine = await startEngine({ sip: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, secret: SECRET, limits: LIMITS });
  app = await startTestApp(engine.adminAddress, SECRET);
});
afterAll(async () => {
  app?.close();
  await engine?.close();
});

const open = (localAddress: string, port = engine.sipAddress.port) => openConnection(port, localAddress);
const settle = (ms = 200) => new Promise((r) => setTimeout(r, ms));
/** The engine's view once it has handled what a test just did (a loaded machine may take a while), then a moment more for anything it should not do. */
const settled = async (done: () => boolean) => { await waitFor(async () => done(), (v) => v); await settle(); };
const options = (callId: string) => [
  `OPTIONS sip:options@127.0.0.1:${engine.sipAddress.port} SIP/2.0`, `Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK${callId}`,
  'From: <sip:0311112222@127.0.0.1>;tag=f1', 'To: <sip:options@127.0.0.1>', `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS',
  'Max-Forwards: 70', 'Content-Length: 0', '', '',
].join('\r\n');

describe('SIP TCP connection caps', () => {
  it('refuses connections beyond the cap per source address, and beyond the total cap', async () => {
    const refusedBefore = engine.counters.tcpRefused;
    const a = await Promise.all(Array.from({ length: 8 }, () => open('127.0.0.21')));
    await settled(() => engine.counters.tcpRefused - refusedBefore >= 2 && a.filter((c) => c.isClosed()).length >= 2);
    expect(a.filter((c) => c.isClosed())).toHaveLength(2);
    expect(engine.counters.tcpConnections()).toBe(6);
    const b = await Promise.all(Array.from({ length: 6 }, () => open('127.0.0.22')));
    await settled(() => engine.counters.tcpRefused - refusedBefore >= 4 && b.filter((c) => c.isClosed()).length >= 2);
    // 6 + 4 = the total of 10; the other two from .22 are refused although .22 is under its own cap.
    expect(b.filter((c) => c.isClosed())).toHaveLength(2);
    expect(engine.counters.tcpConnections()).toBe(10);
    expect(engine.counters.tcpRefused - refusedBefore).toBe(4);
    for (const c of [...a, ...b]) c.sock.destroy();
    await settled(() => engine.counters.tcpConnections() === 0);
    expect(engine.counters.tcpConnections()).toBe(0);
  });

  it('lowers the total so that the descriptor reserve stays free', () => {
    const limits = { ...DEFAULT_LIMITS, tcpMaxConnections: 1024, fdReserve: 1024 };
    expect(tcpConnectionCap(limits, 20_000)).toEqual({ cap: 1024, lowFdLimit: false });
    expect(tcpConnectionCap(limits, 1600)).toEqual({ cap: 576, lowFdLimit: false });
    expect(tcpConnectionCap(limits, 1024)).toEqual({ cap: 256, lowFdLimit: true });
    expect(tcpConnectionCap(limits, undefined)).toEqual({ cap: 1024, lowFdLimit: false });
  });
});

describe('the TCP total cap never locks out a trusted trunk peer', () => {
  it('takes a SIPp call over TCP from the trunk while untrusted connections hold every slot', async () => {
    const TRUNK = '127.0.0.31';
    // Idle connections live for the whole test (long message timeout): the slots stay taken throughout.
    const full = await startEngine({
      sip: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, secret: SECRET,
      limits: { tcpMaxConnections: 4, tcpMaxConnectionsPerAddress: 2, tcpMessageTimeoutMs: 120_000 },
      isTrustedPeer: trustedPeerMatcher([TRUNK]),
    });
    const fullApp = await startTestApp(full.adminAddress, SECRET);
    const port = full.sipAddress.port;
    const flood: TestConnection[] = [];
    try {
      for (const from of ['127.0.0.32', '127.0.0.33']) flood.push(await open(from, port), await open(from, port));
      const late = await open('127.0.0.34', port);
      await late.closed;
      expect(full.counters.tcpRefused).toBe(1);
      expect(full.counters.tcpConnections()).toBe(4);

      const call = await runSipp({
        scenario: path.join(import.meta.dirname, '../sipp/engine-uac-answer-bye.xml'), remote: full.sipAddress, transport: 'tcp',
        localIp: TRUNK, service: 'answer', calls: 1, timeoutMs: 20_000,
      });
      expect(call.exitCode, sippSummary(call)).toBe(0);
      expect(fullApp.sources.map((s) => `${s.protocol}:${s.address}`)).toEqual([`tcp:${TRUNK}`]);
      expect(fullApp.events).toEqual(['invite:answer', 'answered', 'bye']);
      // The untrusted connections held their slots all along; only the one beyond the cap was refused.
      expect(flood.filter((c) => c.isClosed())).toEqual([]);
      expect(full.counters.tcpRefused).toBe(1);
    } finally {
      for (const c of flood) c.sock.destroy();
      fullApp.close();
      await full.close();
    }
  });
});

describe('SIP TCP connections live on complete messages (slow-loris guard)', () => {
  it('closes a connection that sends nothing, only CRLF keep-alives, or trickles a message that never ends', async () => {
    const before = engine.counters.tcpTimedOut;
    const silent = await open('127.0.0.23');
    const crlf = await open('127.0.0.23');
    const trickle = await open('127.0.0.23');
    const timers = [
      setInterval(() => crlf.sock.write('\r\n\r\n'), 50),
      setInterval(() => trickle.sock.write('X'), 50),
    ];
    trickle.sock.write('OPTIONS sip:slow@127.0.0.1 SIP/2.0\r\nX-Slow: ');
    try {
      for (const ms of await Promise.all([silent.closed, crlf.closed, trickle.closed])) {
        expect(ms).toBeGreaterThanOrEqual(LIMITS.tcpMessageTimeoutMs - 20);
        expect(ms).toBeLessThan(LIMITS.tcpMessageTimeoutMs + 1000);
      }
    } finally {
      for (const t of timers) clearInterval(t);
    }
    expect(engine.counters.tcpTimedOut - before).toBe(3);
  });

  it('keeps a connection that completes messages, and closes it once it only sends bytes for the idle time', async () => {
    const c = await open('127.0.0.24');
    for (let i = 0; i < 4; i++) {
      c.sock.write(options(`keep-${i}`));
      await settle(400);
    }
    // 1.6 s: past the message deadline, alive because every message completed.
    expect(c.isClosed()).toBe(false);
    await waitFor(async () => c.data().match(/SIP\/2\.0 200 OK/g)?.length ?? 0, (n) => n >= 4);
    expect(c.data().match(/SIP\/2\.0 200 OK/g)).toHaveLength(4);
    const keepAlive = setInterval(() => c.sock.write('\r\n\r\n'), 100);
    try {
      const t0 = Date.now();
      await c.closed;
      expect(Date.now() - t0).toBeLessThan(LIMITS.tcpIdleTimeoutMs + 1000);
    } finally {
      clearInterval(keepAlive);
    }
  });
});

describe('at transaction capacity', () => {
  it('answers a new request over UDP with 503 and Retry-After, keeping no state for it', async () => {
    const full = await startEngine({
      sip: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, secret: SECRET, limits: { maxTransactions: 2, retryAfterSec: 7 },
    });
    const fullApp = await startTestApp(full.adminAddress, SECRET);
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const got: string[] = [];
    sock.on('message', (b) => got.push(b.toString()));
    try {
      // Each OPTIONS answered stays a transaction for 64·T1 (timer J): two fill the engine.
      // One at a time, each answered before the next goes: on a loaded machine the app's answer may take longer than any fixed pause.
      for (const [i, id] of ['cap-1', 'cap-2', 'cap-3'].entries()) {
        sock.send(options(id).replace('SIP/2.0/TCP', 'SIP/2.0/UDP').replace('5999', `${sock.address().port};rport`), full.sipAddress.port, '127.0.0.1');
        await waitFor(async () => got.length, (n) => n > i);
      }
      await settle(150);
      const answers = got.map((m) => `${m.split('\r\n')[0]} ${/\r\nCall-ID: (\S+)/.exec(m)?.[1]} ${/\r\nRetry-After: (\S+)/.exec(m)?.[1] ?? '-'}`);
      expect(answers).toEqual(['SIP/2.0 200 OK cap-1 -', 'SIP/2.0 200 OK cap-2 -', 'SIP/2.0 503 Service Unavailable cap-3 7']);
      expect(full.counters.transactions()).toBe(2);
      expect(full.counters.rejected.get(503)).toBe(1);
      expect(fullApp.events).toEqual(['options', 'options']);
    } finally {
      sock.close();
      fullApp.close();
      await full.close();
    }
  });
});
