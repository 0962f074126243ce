// The dialog layer under fake timers: UAS/UAC construction, the 2xx retransmitted until the ACK, and
// the ACK timeout that ends the dialog with a BYE to the peer and the same BYE to the app.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AppConnection } from '../../src/sip-engine/app-link.ts';
import { ACK_TIMEOUT_REASON, Dialogs, type DialogHost } from '../../src/sip-engine/dialog.ts';
import { getHeader, parseMessage, serialize, type SipRequest, type SipResponse } from '../../src/sip-engine/message.ts';
import { DEFAULT_TIMERS } from '../../src/sip-engine/transactions.ts';
import type { Peer } from '../../src/sip-engine/transport.ts';

const UDP: Peer = { protocol: 'udp', address: '127.0.0.1', port: 5070 };
const TCP: Peer = { protocol: 'tcp', address: '127.0.0.1', port: 5070 };
const { t1, t2 } = DEFAULT_TIMERS;
const app = {} as AppConnection;

const invite = parseMessage(Buffer.from([
  'INVITE sip:callee@127.0.0.1 SIP/2.0', 'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa', 'From: <sip:caller@127.0.0.1>;tag=ft',
  'To: <sip:callee@127.0.0.1>', 'Call-ID: d1', 'CSeq: 5 INVITE', 'Contact: <sip:caller@127.0.0.1:5070>',
  'Record-Route: <sip:p1@127.0.0.2;lr>, <sip:p2@127.0.0.3;lr>', 'Content-Length: 0', '', '',
].join('\r\n'))) as SipRequest;
const ok = parseMessage(Buffer.from([
  'SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKa', 'From: <sip:caller@127.0.0.1>;tag=ft',
  'To: <sip:callee@127.0.0.1>;tag=tt', 'Call-ID: d1', 'CSeq: 5 INVITE', 'Contact: <sip:callee@127.0.0.9:5080>',
  'Record-Route: <sip:p1@127.0.0.2;lr>, <sip:p2@127.0.0.3;lr>', 'Content-Length: 0', '', '',
].join('\r\n'))) as SipResponse;
const ack = (seq: number) => ({ ...invite, method: 'ACK', headers: invite.headers.map((h) => (h.key === 'cseq' ? { key: 'cseq', value: `${seq} ACK` } : h)) }) as SipRequest;

let sent: string[];
const mocks = () => ({
  startRequest: vi.fn<DialogHost['startRequest']>(), toApp: vi.fn<DialogHost['toApp']>(),
  ackTimedOut: vi.fn<DialogHost['ackTimedOut']>(), fault: vi.fn<DialogHost['fault']>(),
});
let host: DialogHost & ReturnType<typeof mocks>;

beforeEach(() => {
  vi.useFakeTimers();
  sent = [];
  host = {
    timers: DEFAULT_TIMERS,
    send: (_p, buf) => { sent.push(buf.toString().split('\r\n')[0] ?? ''); },
    via: (proto) => `SIP/2.0/${proto.toUpperCase()} 127.0.0.1:5060;rport;branch=z9hG4bKnew`,
    ...mocks(),
  };
});
afterEach(() => vi.useRealTimers());

describe('UAS dialog (§12.1.1)', () => {
  it('takes the route set in order and the Contact as remote target; retransmits the 2xx T1 doubling to T2 until the ACK', () => {
    const dialogs = new Dialogs(host);
    const d = dialogs.uasAnswered(invite, ok, serialize(ok), UDP, app);
    expect(d).toMatchObject({ id: 'd1;from-tag=ft', role: 'uas', localTag: 'tt', remoteTag: 'ft', remoteSeq: 5, remoteTarget: 'sip:caller@127.0.0.1:5070' });
    expect(d.routeSet).toEqual(['<sip:p1@127.0.0.2;lr>', '<sip:p2@127.0.0.3;lr>']);
    vi.advanceTimersByTime(t1 + 2 * t1 + 4 * t1 + t2 + t2);
    expect(sent).toHaveLength(5);
    expect(dialogs.ack(ack(4), d)).toBe(false); // not this INVITE's ACK
    expect(dialogs.ack(ack(5), d)).toBe(true);
    expect(host.toApp).toHaveBeenCalledWith(d, expect.objectContaining({ method: 'ACK' }), 'network', UDP);
    vi.advanceTimersByTime(60_000);
    expect(sent).toHaveLength(5);
    expect(host.ackTimedOut).not.toHaveBeenCalled();
    expect(dialogs.size).toBe(1);
  });

  it('no ACK within 64·T1: BYE with the ACK-timeout reason to the peer, the same BYE to the app, the dialog gone', async () => {
    const dialogs = new Dialogs(host);
    const d = dialogs.uasAnswered(invite, ok, serialize(ok), TCP, app);
    vi.advanceTimersByTime(64 * t1 - 1);
    expect(sent).toEqual([]); // reliable transport: no retransmission
    vi.advanceTimersByTime(1);
    expect(host.ackTimedOut).toHaveBeenCalledWith(d);
    expect(dialogs.size).toBe(0);
    await vi.waitFor(() => expect(host.startRequest).toHaveBeenCalledTimes(1));
    const bye = host.startRequest.mock.calls[0]?.[0] as SipRequest;
    expect(bye.method).toBe('BYE');
    expect(bye.uri).toBe('sip:caller@127.0.0.1:5070');
    expect(getHeader(bye, 'reason')).toBe(ACK_TIMEOUT_REASON);
    expect(getHeader(bye, 'from')).toBe('<sip:callee@127.0.0.1>;tag=tt');
    expect(bye.headers.filter((h) => h.key === 'route').map((h) => h.value)).toEqual(['<sip:p1@127.0.0.2;lr>', '<sip:p2@127.0.0.3;lr>']);
    expect(host.toApp).toHaveBeenCalledWith(d, bye, 'application', expect.anything());
  });

  it('an exception in a retransmission timer ends only this dialog, reported with its Call-ID', () => {
    const dialogs = new Dialogs({ ...host, send: () => { throw new Error('send failed'); } });
    dialogs.uasAnswered(invite, ok, serialize(ok), UDP, app);
    expect(() => vi.advanceTimersByTime(t1)).not.toThrow();
    expect(host.fault).toHaveBeenCalledWith('d1', '2xx retransmission', expect.any(Error));
    expect(dialogs.size).toBe(0);
    vi.advanceTimersByTime(64 * t1);
    expect(host.ackTimedOut).not.toHaveBeenCalled();
  });
});

describe('UAC dialog (§12.1.2)', () => {
  it('reverses the route set, targets the 2xx Contact, and ACKs a retransmitted 2xx again', () => {
    const dialogs = new Dialogs(host);
    const d = dialogs.uacAnswered(invite, ok, UDP, app);
    expect(d).toMatchObject({ role: 'uac', localTag: 'ft', remoteTag: 'tt', localSeq: 5, remoteTarget: 'sip:callee@127.0.0.9:5080', ackDue: true });
    expect(d?.routeSet).toEqual(['<sip:p2@127.0.0.3;lr>', '<sip:p1@127.0.0.2;lr>']);
    if (!d) return;
    expect(dialogs.reAck(ok)).toBe(false); // no ACK sent yet
    const a = dialogs.request(d, 'ACK', [], Buffer.alloc(0));
    expect(getHeader(a, 'cseq')).toBe('5 ACK');
    dialogs.sendAck(d, a, UDP);
    expect(d.ackDue).toBe(false);
    expect(dialogs.reAck(ok)).toBe(true);
    expect(sent).toEqual(['ACK sip:callee@127.0.0.9:5080 SIP/2.0', 'ACK sip:callee@127.0.0.9:5080 SIP/2.0']);
    expect(getHeader(dialogs.request(d, 'BYE', [], Buffer.alloc(0)), 'cseq')).toBe('6 BYE');
  });
});
