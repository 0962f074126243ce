// Request smuggling over TCP: a request hidden in a body must never be taken for a message of its own,
// whatever the Content-Length looks like. Raw TCP client ⇄ built-in engine ⇄ drachtio-srf test app.
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startEngine, type Engine } from '../../src/sip-engine/index.ts';
import { startTestApp, type TestApp } from './app.ts';

const SECRET = 'framing-secret';
let engine: Engine;
let app: TestApp;

beforeAll(async () => {
  engine = await startEngine({ sip: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, secret: SECRET });
  app = await startTestApp(engine.adminAddress, SECRET);
});
afterAll(async () => {
  app?.close();
  await engine?.close();
});
beforeEach(() => {
  app.events.length = 0;
});

function options(callId: string, extra: string[], body = ''): string {
  return [
    `OPTIONS sip:options@127.0.0.1:${engine.sipAddress.port} SIP/2.0`,
    `Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK${callId}`,
    'From: <sip:0311112222@127.0.0.1>;tag=f1', 'To: <sip:options@127.0.0.1>',
    `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS', 'Max-Forwards: 70', ...extra, '', body,
  ].join('\r\n');
}

/** Writes `text` on a new TCP connection; returns the start line and Call-ID of every response within `ms`, and whether the engine closed. */
async function exchange(text: string, ms = 700): Promise<{ responses: string[]; closedByEngine: boolean }> {
  const sock = net.connect(engine.sipAddress.port, '127.0.0.1');
  sock.on('error', () => {});
  let data = '';
  let closedByEngine = false;
  sock.on('data', (d) => { data += d.toString(); });
  sock.on('end', () => { closedByEngine = true; });
  sock.on('close', () => { closedByEngine = true; });
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(text);
  await new Promise((r) => setTimeout(r, ms));
  sock.destroy();
  const responses = data.split(/(?=SIP\/2\.0 \d{3} )/).filter(Boolean)
    .map((m) => `${m.split('\r\n')[0]} ${/\r\nCall-ID: (\S+)/.exec(m)?.[1] ?? ''}`);
  return { responses, closedByEngine };
}

const hidden = () => options('hidden', ['Content-Length: 0']);

it('takes an 11-digit Content-Length exactly: the request in the body gets no answer of its own', async () => {
  const outer = options('outer-zeros', ['Content-Type: text/plain', `Content-Length: 0000000${Buffer.byteLength(hidden())}`], hidden());
  const r = await exchange(outer);
  expect(r.responses).toEqual(['SIP/2.0 200 OK outer-zeros']);
  expect(app.events).toEqual(['options']);
  expect(r.closedByEngine).toBe(false);
});

it('answers a Content-Length it cannot take exactly with 400, closes the connection, and leaves the body unread', async () => {
  for (const cl of ['Content-Length: 1e3', 'Content-Length: 0x10', `Content-Length: ${Buffer.byteLength(hidden())}\r\nl: 0`]) {
    const r = await exchange(options('outer-bad', ['Content-Type: text/plain', cl], hidden()));
    expect(r.responses, cl).toEqual(['SIP/2.0 400 Bad Request outer-bad']);
    expect(r.closedByEngine, cl).toBe(true);
  }
  expect(app.events).toEqual([]);
});

it('answers a Max-Forwards that is not a number with 400', async () => {
  const r = await exchange(options('mf-bad', ['Max-Forwards: seventy', 'Content-Length: 0']).replace('Max-Forwards: 70\r\n', ''));
  expect(r.responses).toEqual(['SIP/2.0 400 Bad Request mf-bad']);
  expect(app.events).toEqual([]);
});
