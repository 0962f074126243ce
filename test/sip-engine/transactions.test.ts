import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseMessage, type SipRequest, type SipResponse } from '../../src/sip-engine/message.ts';
import { ClientTransaction, DEFAULT_TIMERS, ServerTransaction, type TxnHost } from '../../src/sip-engine/transactions.ts';
import type { Peer } from '../../src/sip-engine/transport.ts';

const UDP: Peer = { protocol: 'udp', address: '192.0.2.1', port: 5060 };
const TCP: Peer = { protocol: 'tcp', address: '192.0.2.1', port: 5060 };

function request(method: string): SipRequest {
  const m = parseMessage(Buffer.from([
    `${method} sip:a@192.0.2.1 SIP/2.0`, 'Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx', 'From: <sip:b@x>;tag=f',
    'To: <sip:a@x>', 'Call-ID: c', `CSeq: 1 ${method}`, 'Content-Length: 0', '', '',
  ].join('\r\n')));
  return m as SipRequest;
}
function response(status: number, method = 'INVITE'): SipResponse {
  return parseMessage(Buffer.from([
    `SIP/2.0 ${status} X`, 'Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx', 'From: <sip:b@x>;tag=f',
    'To: <sip:a@x>;tag=t', 'Call-ID: c', `CSeq: 1 ${method}`, 'Content-Length: 0', '', '',
  ].join('\r\n'))) as SipResponse;
}

let sent: string[];
let absorbed: number;
const host: TxnHost = {
  timers: DEFAULT_TIMERS,
  send: (_peer, buf) => { sent.push(buf.toString().split('\r\n')[0] ?? ''); },
  absorbed: () => { absorbed++; },
};

beforeEach(() => {
  vi.useFakeTimers();
  sent = [];
  absorbed = 0;
});
afterEach(() => vi.useRealTimers());

describe('INVITE client transaction', () => {
  it('retransmits with timer A doubling and times out at timer B (64·T1)', () => {
    const tu = { response: vi.fn(), timeout: vi.fn() };
    const txn = new ClientTransaction('k', host, UDP, request('INVITE'), tu);
    txn.start();
    vi.advanceTimersByTime(500 + 1000 + 2000 + 4000 - 1);
    expect(sent).toHaveLength(4); // initial + 500, 1500, 3500
    vi.advanceTimersByTime(1);
    expect(sent).toHaveLength(5);
    vi.advanceTimersByTime(32_000);
    expect(tu.timeout).toHaveBeenCalledTimes(1);
    expect(txn.terminated).toBe(true);
  });

  it('stops on a provisional, ACKs a failure itself and absorbs its retransmission until timer D', () => {
    const tu = { response: vi.fn(), timeout: vi.fn() };
    const txn = new ClientTransaction('k', host, UDP, request('INVITE'), tu);
    txn.start();
    txn.receive(response(180));
    vi.advanceTimersByTime(10_000);
    expect(sent).toEqual(['INVITE sip:a@192.0.2.1 SIP/2.0']);
    txn.receive(response(486));
    expect(sent[1]).toBe('ACK sip:a@192.0.2.1 SIP/2.0');
    txn.receive(response(486));
    expect(sent).toHaveLength(3);
    expect(absorbed).toBe(1);
    expect(tu.response).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(32_000);
    expect(txn.terminated).toBe(true);
    expect(tu.timeout).not.toHaveBeenCalled();
  });

  it('does not retransmit over TCP and ends at once after a failure', () => {
    const tu = { response: vi.fn(), timeout: vi.fn() };
    const txn = new ClientTransaction('k', host, TCP, request('INVITE'), tu);
    txn.start();
    vi.advanceTimersByTime(5000);
    expect(sent).toHaveLength(1);
    txn.receive(response(503));
    vi.advanceTimersByTime(0);
    expect(txn.terminated).toBe(true);
  });
});

describe('non-INVITE client transaction', () => {
  it('caps timer E at T2 and gives up at timer F', () => {
    const tu = { response: vi.fn(), timeout: vi.fn() };
    const txn = new ClientTransaction('k', host, UDP, request('BYE'), tu);
    txn.start();
    vi.advanceTimersByTime(500 + 1000 + 2000 + 4000 + 4000);
    expect(sent).toHaveLength(6);
    vi.advanceTimersByTime(32_000);
    expect(tu.timeout).toHaveBeenCalledTimes(1);
    expect(txn.terminated).toBe(true);
  });
});

describe('INVITE server transaction', () => {
  it('retransmits a failure with timer G until the ACK, then waits T4 (timer I)', () => {
    const txn = new ServerTransaction('k', host, UDP, request('INVITE'));
    txn.respond(response(486));
    vi.advanceTimersByTime(500 + 1000);
    expect(sent).toHaveLength(3);
    txn.ack();
    vi.advanceTimersByTime(4000);
    expect(sent).toHaveLength(3);
    expect(txn.terminated).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(txn.terminated).toBe(true);
  });

  it('answers a retransmitted INVITE with the last response and gives up at timer H', () => {
    const txn = new ServerTransaction('k', host, UDP, request('INVITE'));
    txn.retransmission(); // nothing to send yet
    txn.respond(response(100));
    txn.retransmission();
    expect(sent).toEqual(['SIP/2.0 100 X', 'SIP/2.0 100 X']);
    txn.respond(response(480));
    vi.advanceTimersByTime(32_000);
    expect(txn.terminated).toBe(true);
    expect(absorbed).toBe(2);
  });

  it('after a 2xx stays "accepted" for 64·T1 (RFC 6026) without retransmitting: the dialog layer does that', () => {
    const txn = new ServerTransaction('k', host, UDP, request('INVITE'));
    txn.respond(response(200));
    expect(txn.state).toBe('accepted');
    vi.advanceTimersByTime(31_999);
    expect(sent).toHaveLength(1);
    expect(txn.terminated).toBe(false);
    vi.advanceTimersByTime(1);
    expect(txn.terminated).toBe(true);
  });
});

describe('non-INVITE server transaction', () => {
  it('keeps the final response for retransmissions during timer J (UDP), none on TCP', () => {
    const udp = new ServerTransaction('k', host, UDP, request('OPTIONS'));
    udp.respond(response(200, 'OPTIONS'));
    vi.advanceTimersByTime(31_999);
    udp.retransmission();
    expect(sent).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(udp.terminated).toBe(true);
    const tcp = new ServerTransaction('k', host, TCP, request('OPTIONS'));
    tcp.respond(response(200, 'OPTIONS'));
    vi.advanceTimersByTime(0);
    expect(tcp.terminated).toBe(true);
  });
});
