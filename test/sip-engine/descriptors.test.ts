// When the process is nearly out of file descriptors, whoever holds them, a new request gets 503 with
// Retry-After instead of failing inside (an IVR call whose RTP socket cannot be bound answers 500).
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEngineProcess, type EngineProcess } from '../support/engine-process.ts';
import { startTestApp, type TestApp } from './app.ts';

const SECRET = 'descriptors';
const NOFILE = 200;
let engine: EngineProcess;
let app: TestApp;
let udp: dgram.Socket;

beforeAll(async () => {
  // No reserve and no connection cap below the limit: only the descriptor watch stands in the way.
  engine = await startEngineProcess({
    secret: SECRET, limits: { fdReserve: 0, tcpMaxConnections: 10_000, tcpMaxConnectionsPerAddress: 10_000, tcpMessageTimeoutMs: 60_000, retryAfterSec: 9 },
  }, { nofile: NOFILE });
  app = await startTestApp(engine.admin, SECRET);
  udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
});
afterAll(async () => {
  udp?.close();
  app?.close();
  await engine?.stop();
});

async function optionsAnswer(callId: string): Promise<string> {
  const text = [
    `OPTIONS sip:options@127.0.0.1:${engine.sip.port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${udp.address().port};rport;branch=z9hG4bK${callId}`,
    'From: <sip:0311112222@127.0.0.1>;tag=f1', 'To: <sip:options@127.0.0.1>', `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS',
    'Max-Forwards: 70', 'Content-Length: 0', '', '',
  ].join('\r\n');
  const answer = new Promise<string>((resolve) => udp.once('message', (b) => {
    const m = b.toString();
    resolve(`${m.split('\r\n')[0]}${/\r\nRetry-After: (\S+)/.exec(m) ? ` Retry-After ${/\r\nRetry-After: (\S+)/.exec(m)?.[1]}` : ''}`);
  }));
  udp.send(text, engine.sip.port, '127.0.0.1');
  return Promise.race([answer, new Promise<string>((r) => setTimeout(() => r('no answer'), 3000))]);
}

it('answers new requests 503 with Retry-After while descriptors run out, and serves again once they are back', async () => {
  expect(await optionsAnswer('fd-before')).toBe('SIP/2.0 200 OK');
  const flood: net.Socket[] = [];
  try {
    for (let i = 0; i < NOFILE; i++) {
      const s = net.connect({ host: '127.0.0.1', port: engine.sip.port });
      s.on('error', () => {});
      flood.push(s);
    }
    await new Promise((r) => setTimeout(r, 2500)); // the watch samples once a second
    expect(await optionsAnswer('fd-low')).toBe('SIP/2.0 503 Service Unavailable Retry-After 9');
  } finally {
    for (const s of flood) s.destroy();
  }
  await new Promise((r) => setTimeout(r, 2500));
  expect(await optionsAnswer('fd-after')).toBe('SIP/2.0 200 OK');
});
