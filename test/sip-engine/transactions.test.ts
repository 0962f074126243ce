// The four RFC 3261 §17 state machines under fake timers: which timers each state arms, what each
// does when it fires, and final responses landing at the timer edges (the long-ringing crash).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseMessage, type SipRequest, type SipResponse } from '../../src/sip-engine/message.ts';
import {
  DEFAULT_TIMERS, InviteClientTransaction, InviteServerTransaction, NonInviteClientTransaction, NonInviteServerTransaction,
  type ClientTu, type TxnHost,
} from '../../src/sip-engine/transactions.ts';
import type { Peer } from '../../src/sip-engine/transport.ts';

const UDP: Peer = { protocol: 'udp', address: '192.0.2.1', port: 5060 };
const TCP: Peer = { protocol: 'tcp', address: '192.0.2.1', port: 5060 };
const { t1, t2, t4, c: TIMER_C } = DEFAULT_TIMERS;
const T64 = 64 * t1;

function request(method: string): SipRequest {
  return parseMessage(Buffer.from([
    `${method} sip:a@192.0.2.1 SIP/2.0`, 'Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx', 'From: <sip:b@x>;tag=f',
    'To: <sip:a@x>', 'Call-ID: c', `CSeq: 1 ${method}`, 'Route: <sip:proxy@192.0.2.2;lr>', 'Content-Length: 0', '', '',
  ].join('\r\n'))) as SipRequest;
}
function response(status: number, method = 'INVITE'): SipResponse {
  return parseMessage(Buffer.from([
    `SIP/2.0 ${status} X`, 'Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx', 'From: <sip:b@x>;tag=f',
    'To: <sip:a@x>;tag=t', 'Call-ID: c', `CSeq: 1 ${method}`, 'Content-Length: 0', '', '',
  ].join('\r\n'))) as SipResponse;
}

let sent: string[];
let absorbed: number;
let illegal: string[];
let faults: string[];
const host: TxnHost = {
  timers: DEFAULT_TIMERS,
  send: (_peer, buf) => { sent.push(buf.toString().split('\r\n')[0] ?? ''); },
  absorbed: () => { absorbed++; },
  illegal: (_txn, from, to) => { illegal.push(`${from}→${to}`); },
  fault: (txn, where) => { faults.push(where); txn.terminate(); },
};

function tu() {
  const t = { response: vi.fn(), timeout: vi.fn(), cancel: vi.fn(), retransmitted2xx: vi.fn() };
  return t as typeof t & ClientTu;
}
const statuses = (fn: ReturnType<typeof vi.fn>) => fn.mock.calls.map((c) => (c[0] as SipResponse).status);

beforeEach(() => {
  vi.useFakeTimers();
  sent = [];
  absorbed = 0;
  illegal = [];
  faults = [];
});
afterEach(() => {
  expect(illegal).toEqual([]);
  expect(faults).toEqual([]);
  vi.useRealTimers();
});

describe('INVITE client transaction', () => {
  it('calling: timer A doubles with no cap, timer B ends it at 64·T1 with a timeout to the TU', () => {
    const u = tu();
    const txn = new InviteClientTransaction('k', host, UDP, request('INVITE'), u);
    txn.start();
    expect(txn.timers.sort()).toEqual(['A', 'B']);
    vi.advanceTimersByTime(t1 + 2 * t1 + 4 * t1 + 8 * t1 + 16 * t1 - 1);
    expect(sent).toHaveLength(5); // initial + at 0.5, 1.5, 3.5, 7.5 s
    vi.advanceTimersByTime(1);
    expect(sent).toHaveLength(6); // 15.5 s: 8 s after the last, beyond T2
    vi.advanceTimersByTime(T64 - 31 * t1 - 1);
    expect(sent).toHaveLength(7); // 31.5 s
    expect(u.timeout).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(u.timeout).toHaveBeenCalledTimes(1);
    expect(txn.state).toBe('terminated');
    expect(txn.request).toBeUndefined();
    vi.advanceTimersByTime(600_000);
    expect(sent).toHaveLength(7);
  });

  it('proceeding: A and B stop, timer C is armed and each provisional restarts it', () => {
    const u = tu();
    const txn = new InviteClientTransaction('k', host, UDP, request('INVITE'), u);
    txn.start();
    vi.advanceTimersByTime(1000);
    txn.receive(response(180));
    expect(txn.state).toBe('proceeding');
    expect(txn.timers).toEqual(['C']);
    vi.advanceTimersByTime(100_000);
    txn.receive(response(183));
    vi.advanceTimersByTime(TIMER_C - 1);
    expect(u.cancel).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(u.cancel).toHaveBeenCalledTimes(1);
    expect(sent).toEqual(['INVITE sip:a@192.0.2.1 SIP/2.0', 'INVITE sip:a@192.0.2.1 SIP/2.0']); // one A retransmission before the 180
    expect(u.timeout).not.toHaveBeenCalled();
  });

  it('timer C: the line gets a CANCEL like the INVITE, the app only the line\'s own 487', () => {
    const u = tu();
    const txn = new InviteClientTransaction('k', host, UDP, request('INVITE'), u);
    txn.start();
    txn.receive(response(180));
    vi.advanceTimersByTime(TIMER_C);
    expect(u.cancel).toHaveBeenCalledTimes(1);
    const [cancel, , byTimerC] = u.cancel.mock.calls[0] as [SipRequest, unknown, boolean];
    expect(byTimerC).toBe(true);
    expect(cancel.method).toBe('CANCEL');
    expect(cancel.uri).toBe('sip:a@192.0.2.1');
    const h = (k: string) => cancel.headers.filter((x) => x.key === k).map((x) => x.value);
    expect(h('via')).toEqual(['SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx']);
    expect(h('cseq')).toEqual(['1 CANCEL']);
    expect(h('to')).toEqual(['<sip:a@x>']);
    expect(h('route')).toEqual(['<sip:proxy@192.0.2.2;lr>']);
    expect(txn.timers).toEqual(['cancelled']);
    vi.advanceTimersByTime(T64 - 1);
    txn.receive(response(487));
    expect(statuses(u.response)).toEqual([180, 487]);
    expect(sent.at(-1)).toBe('ACK sip:a@192.0.2.1 SIP/2.0');
    expect(txn.state).toBe('completed');
    vi.advanceTimersByTime(600_000);
    expect(u.timeout).not.toHaveBeenCalled();
    expect(u.cancel).toHaveBeenCalledTimes(1);
    expect(txn.state).toBe('terminated');
  });

  it('a line that answers neither CANCEL nor INVITE: the TU hears a timeout 64·T1 after the CANCEL (§9.1)', () => {
    const u = tu();
    const txn = new InviteClientTransaction('k', host, UDP, request('INVITE'), u);
    txn.start();
    txn.receive(response(180));
    vi.advanceTimersByTime(TIMER_C + T64 - 1);
    expect(u.timeout).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(u.timeout).toHaveBeenCalledTimes(1);
    expect(txn.state).toBe('terminated');
  });

  it('the app\'s CANCEL that the line ignores, and the INVITE too: the TU hears a timeout 64·T1 after the CANCEL (§9.1), once', () => {
    const u = tu();
    const txn = new InviteClientTransaction('k', host, UDP, request('INVITE'), u);
    txn.start();
    txn.receive(response(180));
    vi.advanceTimersByTime(10_000);
    txn.cancel();
    expect(u.cancel.mock.calls[0]?.[2]).toBe(false);
    vi.advanceTimersByTime(T64 - 1);
    expect(u.timeout).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(u.timeout).toHaveBeenCalledTimes(1);
    expect(txn.state).toBe('terminated');
    vi.advanceTimersByTime(TIMER_C);
    expect(u.timeout).toHaveBeenCalledTimes(1);
    expect(statuses(u.response)).toEqual([180]);
  });

  // The crash of issue 10: a final response while timer C was still due used to leave C running into
  // Completed, where it read the released request and threw inside a timer.
  const edges: [string, number][] = [
    ['180 at 1 s, 486 at 171 s', 171_000],
    ['486 one tick before timer C', TIMER_C - 1],
    ['486 inside the window where timer D outlives timer C', TIMER_C - T64 + 1],
    ['486 at 150 s (the reported call)', 150_000],
  ];
  for (const [name, at] of edges) {
    it(`${name}, then 250 s more: ACKed once, no timeout, no CANCEL, no throw`, () => {
      const u = tu();
      const txn = new InviteClientTransaction('k', host, UDP, request('INVITE'), u);
      txn.start();
      vi.advanceTimersByTime(1000);
      txn.receive(response(180));
      vi.advanceTimersByTime(at - 1000);
      txn.receive(response(486));
      expect(txn.timers).toEqual(['D']);
      expect(() => vi.advanceTimersByTime(250_000)).not.toThrow();
      expect(u.timeout).not.toHaveBeenCalled();
      expect(u.cancel).not.toHaveBeenCalled();
      expect(statuses(u.response)).toEqual([180, 486]);
      expect(sent.filter((l) => l.startsWith('ACK'))).toHaveLength(1);
      expect(txn.state).toBe('terminated');
    });
  }

  it('completed: a retransmitted failure is ACKed again and absorbed; timer D ends it after 64·T1 on UDP', () => {
    const u = tu();
    const txn = new InviteClientTransaction('k', host, UDP, request('INVITE'), u);
    txn.start();
    txn.receive(response(486));
    txn.receive(response(486));
    expect(sent).toEqual(['INVITE sip:a@192.0.2.1 SIP/2.0', 'ACK sip:a@192.0.2.1 SIP/2.0', 'ACK sip:a@192.0.2.1 SIP/2.0']);
    expect(absorbed).toBe(1);
    expect(statuses(u.response)).toEqual([486]);
    expect(txn.request).toBeUndefined();
    vi.advanceTimersByTime(T64 - 1);
    expect(txn.state).toBe('completed');
    vi.advanceTimersByTime(1);
    expect(txn.state).toBe('terminated');
  });

  it('accepted (RFC 6026): a 2xx retransmission goes to the TU for a new ACK; timer M ends it', () => {
    const u = tu();
    const txn = new InviteClientTransaction('k', host, UDP, request('INVITE'), u);
    txn.start();
    txn.receive(response(200));
    expect(txn.state).toBe('accepted');
    expect(txn.timers).toEqual(['M']);
    txn.receive(response(200));
    expect(u.retransmitted2xx).toHaveBeenCalledTimes(1);
    expect(statuses(u.response)).toEqual([200]);
    expect(sent).toHaveLength(1); // the ACK for a 2xx is the dialog's
    vi.advanceTimersByTime(T64);
    expect(txn.state).toBe('terminated');
  });

  it('TCP: no timer A, timer D is zero', () => {
    const u = tu();
    const txn = new InviteClientTransaction('k', host, TCP, request('INVITE'), u);
    txn.start();
    expect(txn.timers).toEqual(['B']);
    vi.advanceTimersByTime(5000);
    expect(sent).toHaveLength(1);
    txn.receive(response(503));
    vi.advanceTimersByTime(0);
    expect(txn.state).toBe('terminated');
  });

  it('a CANCEL asked for while calling waits for the first provisional (§9.1); after the final it is refused', () => {
    const u = tu();
    const txn = new InviteClientTransaction('k', host, UDP, request('INVITE'), u);
    txn.start();
    expect(txn.cancel()?.method).toBe('CANCEL');
    expect(u.cancel).not.toHaveBeenCalled();
    txn.receive(response(180));
    expect(u.cancel).toHaveBeenCalledTimes(1);
    expect(u.cancel.mock.calls[0]?.[2]).toBe(false);
    expect(txn.timers).toEqual(['cancelled']); // no timer C once cancelled
    txn.receive(response(183));
    expect(txn.timers).toEqual(['cancelled']);
    txn.receive(response(487));
    expect(txn.cancel()).toBeUndefined();
    expect(u.cancel).toHaveBeenCalledTimes(1);
  });

  it('an exception in a timer callback is reported to the host, never thrown out of the timer', () => {
    const u = tu();
    u.timeout.mockImplementation(() => { throw new Error('TU bug'); });
    const txn = new InviteClientTransaction('k', host, UDP, request('INVITE'), u);
    txn.start();
    expect(() => vi.advanceTimersByTime(T64)).not.toThrow();
    expect(faults).toEqual(['timer B in calling']);
    expect(txn.state).toBe('terminated');
    faults = [];
  });
});

describe('non-INVITE client transaction', () => {
  it('trying: timer E doubles up to T2, timer F gives up at 64·T1', () => {
    const u = tu();
    const txn = new NonInviteClientTransaction('k', host, UDP, request('BYE'), u);
    txn.start();
    expect(txn.timers.sort()).toEqual(['E', 'F']);
    vi.advanceTimersByTime(t1 + 2 * t1 + 4 * t1 + t2 + t2);
    expect(sent).toHaveLength(6);
    vi.advanceTimersByTime(T64 - (7 * t1 + 2 * t2) - 1);
    expect(u.timeout).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(u.timeout).toHaveBeenCalledTimes(1);
    expect(txn.state).toBe('terminated');
  });

  it('proceeding: timer E at T2, timer F keeps its original deadline', () => {
    const u = tu();
    const txn = new NonInviteClientTransaction('k', host, UDP, request('BYE'), u);
    txn.start();
    vi.advanceTimersByTime(1000);
    txn.receive(response(100, 'BYE'));
    expect(txn.state).toBe('proceeding');
    expect(txn.timers.sort()).toEqual(['E', 'F']);
    const before = sent.length;
    vi.advanceTimersByTime(t2 - 1);
    expect(sent).toHaveLength(before);
    vi.advanceTimersByTime(1);
    expect(sent).toHaveLength(before + 1);
    vi.advanceTimersByTime(T64 - 1000 - t2 - 1);
    expect(u.timeout).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(u.timeout).toHaveBeenCalledTimes(1);
  });

  it('completed: a final one tick before F wins; retransmissions absorbed; timer K T4 on UDP, zero on TCP', () => {
    const u = tu();
    const txn = new NonInviteClientTransaction('k', host, UDP, request('BYE'), u);
    txn.start();
    vi.advanceTimersByTime(T64 - 1);
    txn.receive(response(200, 'BYE'));
    expect(txn.timers).toEqual(['K']);
    txn.receive(response(200, 'BYE'));
    expect(absorbed).toBe(1);
    vi.advanceTimersByTime(t4 - 1);
    expect(txn.state).toBe('completed');
    vi.advanceTimersByTime(1);
    expect(txn.state).toBe('terminated');
    expect(u.timeout).not.toHaveBeenCalled();
    expect(statuses(u.response)).toEqual([200]);

    const tcp = new NonInviteClientTransaction('k2', host, TCP, request('BYE'), tu());
    tcp.start();
    expect(tcp.timers).toEqual(['F']);
    tcp.receive(response(200, 'BYE'));
    vi.advanceTimersByTime(0);
    expect(tcp.state).toBe('terminated');
  });
});

describe('INVITE server transaction', () => {
  it('proceeding: no timers; a retransmitted INVITE gets the last provisional', () => {
    const txn = new InviteServerTransaction('k', host, UDP, request('INVITE'));
    txn.retransmission();
    expect(sent).toEqual([]);
    txn.respond(response(180));
    txn.retransmission();
    expect(sent).toEqual(['SIP/2.0 180 X', 'SIP/2.0 180 X']);
    expect(txn.timers).toEqual([]);
    vi.advanceTimersByTime(600_000);
    expect(txn.state).toBe('proceeding');
  });

  it('completed: timer G retransmits the failure (T1 doubling to T2), timer H gives up at 64·T1', () => {
    const txn = new InviteServerTransaction('k', host, UDP, request('INVITE'));
    txn.respond(response(486));
    expect(txn.timers.sort()).toEqual(['G', 'H']);
    expect(txn.request).toBeUndefined();
    vi.advanceTimersByTime(t1 + 2 * t1 + 4 * t1 + t2 + t2);
    expect(sent).toHaveLength(6);
    vi.advanceTimersByTime(T64 - (7 * t1 + 2 * t2) - 1);
    expect(txn.state).toBe('completed');
    vi.advanceTimersByTime(1);
    expect(txn.state).toBe('terminated');
  });

  it('confirmed: the ACK stops G and H; timer I is T4 on UDP, zero on TCP', () => {
    const txn = new InviteServerTransaction('k', host, UDP, request('INVITE'));
    txn.respond(response(486));
    vi.advanceTimersByTime(t1 + 2 * t1);
    expect(sent).toHaveLength(3);
    expect(txn.ack()).toBe(true);
    expect(txn.timers).toEqual(['I']);
    txn.ack(); // retransmitted ACK
    expect(absorbed).toBe(1);
    vi.advanceTimersByTime(t4 - 1);
    expect(sent).toHaveLength(3);
    expect(txn.state).toBe('confirmed');
    vi.advanceTimersByTime(1);
    expect(txn.state).toBe('terminated');

    const tcp = new InviteServerTransaction('k2', host, TCP, request('INVITE'));
    tcp.respond(response(486));
    expect(tcp.timers).toEqual(['H']);
    tcp.ack();
    vi.advanceTimersByTime(0);
    expect(tcp.state).toBe('terminated');
  });

  it('accepted (RFC 6026): timer L only; INVITE retransmissions absorbed; the ACK is the dialog\'s', () => {
    const txn = new InviteServerTransaction('k', host, UDP, request('INVITE'));
    txn.respond(response(200));
    expect(txn.state).toBe('accepted');
    expect(txn.timers).toEqual(['L']);
    txn.retransmission();
    expect(sent).toHaveLength(1);
    expect(absorbed).toBe(1);
    expect(txn.ack()).toBe(false);
    vi.advanceTimersByTime(T64 - 1);
    expect(txn.state).toBe('accepted');
    vi.advanceTimersByTime(1);
    expect(txn.state).toBe('terminated');
  });

  it('a second final response is an illegal transition: reported, not sent, not thrown', () => {
    const txn = new InviteServerTransaction('k', host, UDP, request('INVITE'));
    txn.respond(response(486));
    expect(txn.respond(response(200))).toBeUndefined();
    expect(sent).toHaveLength(1);
    expect(illegal).toEqual(['completed→respond 200']);
    illegal = [];
  });
});

describe('non-INVITE server transaction', () => {
  it('trying: retransmissions absorbed silently; the app deadline (the engine\'s own timer) fires once', () => {
    const expired = vi.fn();
    const txn = new NonInviteServerTransaction('k', host, UDP, request('OPTIONS'), { expired }, T64);
    expect(txn.timers).toEqual(['deadline']);
    txn.retransmission();
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(T64);
    expect(expired).toHaveBeenCalledTimes(1);
  });

  it('proceeding: the last provisional answers retransmissions; the deadline carries on; a final clears it', () => {
    const expired = vi.fn();
    const txn = new NonInviteServerTransaction('k', host, UDP, request('OPTIONS'), { expired }, T64);
    txn.respond(response(100, 'OPTIONS'));
    expect(txn.state).toBe('proceeding');
    expect(txn.timers).toEqual(['deadline']);
    txn.retransmission();
    expect(sent).toEqual(['SIP/2.0 100 X', 'SIP/2.0 100 X']);
    vi.advanceTimersByTime(T64 - 1);
    txn.respond(response(200, 'OPTIONS'));
    expect(txn.timers).toEqual(['J']);
    vi.advanceTimersByTime(600_000);
    expect(expired).not.toHaveBeenCalled();
  });

  it('completed: keeps the final response for retransmissions during timer J (UDP), none on TCP', () => {
    const udp = new NonInviteServerTransaction('k', host, UDP, request('OPTIONS'));
    udp.respond(response(200, 'OPTIONS'));
    vi.advanceTimersByTime(T64 - 1);
    udp.retransmission();
    expect(sent).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(udp.state).toBe('terminated');
    const tcp = new NonInviteServerTransaction('k', host, TCP, request('OPTIONS'));
    tcp.respond(response(200, 'OPTIONS'));
    vi.advanceTimersByTime(0);
    expect(tcp.state).toBe('terminated');
  });
});
