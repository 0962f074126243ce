import { describe, expect, it } from 'vitest';
import { Rfc4733Receiver } from '../../src/media/rfc4733.ts';
import { buildRtp, parseRtp, type RtpPacket } from '../../src/media/rtp.ts';
import { pcapName, udpPayloads } from './pcap.ts';

let seq = 0;
function event(e: { key: number; ts: number; duration: number; end?: boolean; marker?: boolean; ssrc?: number }): RtpPacket {
  const payload = Buffer.from([e.key, (e.end ? 0x80 : 0) | 10, e.duration >> 8, e.duration & 0xff]);
  return parseRtp(buildRtp({ marker: e.marker ?? false, payloadType: 101, sequence: seq++, timestamp: e.ts, ssrc: e.ssrc ?? 1234 }, payload))!;
}

/** A well-behaved press: start with marker, updates, end sent three times. */
function press(key: number, ts: number, opts: { loseEnd?: boolean; loseStart?: boolean } = {}): RtpPacket[] {
  const pkts = [event({ key, ts, duration: 0, marker: true }), event({ key, ts, duration: 320 }), event({ key, ts, duration: 640 }), event({ key, ts, duration: 960 })];
  if (opts.loseStart) pkts.shift();
  if (!opts.loseEnd) for (let i = 0; i < 3; i++) pkts.push(event({ key, ts, duration: 1120, end: true }));
  return pkts;
}

function feed(rx: Rfc4733Receiver, pkts: RtpPacket[]): string {
  return pkts.map((p) => rx.receive(p) ?? '').join('');
}

describe('RFC 4733 receiver', () => {
  it('reports one key per press despite updates and the three end packets', () => {
    expect(feed(new Rfc4733Receiver(), press(5, 1000))).toBe('5');
  });

  it('maps event codes 10-15 to * # A-D and ignores non-DTMF events', () => {
    const rx = new Rfc4733Receiver();
    expect(feed(rx, [...press(10, 1), ...press(11, 2000), ...press(12, 4000), ...press(15, 6000), ...press(16, 8000)])).toBe('*#AD');
  });

  it('keeps a repeated digit (new timestamp each press)', () => {
    expect(feed(new Rfc4733Receiver(), [...press(1, 1000), ...press(1, 3000), ...press(1, 5000)])).toBe('111');
  });

  it('treats a marker after an end packet on the same timestamp as a new press', () => {
    expect(feed(new Rfc4733Receiver(), [...press(1, 1000), ...press(1, 1000)])).toBe('11');
  });

  it('still counts a press whose end packets were all lost', () => {
    expect(feed(new Rfc4733Receiver(), [...press(3, 1000, { loseEnd: true }), ...press(3, 3000), ...press(4, 5000, { loseEnd: true }), ...press(4, 7000)])).toBe('3344');
  });

  it('sees a re-used timestamp as a new press when the end was lost but the duration starts over', () => {
    expect(feed(new Rfc4733Receiver(), [...press(7, 1000, { loseEnd: true }), ...press(7, 1000)])).toBe('77');
  });

  it('sees a re-used timestamp as a new press when the marker packet was lost but the duration went back', () => {
    expect(feed(new Rfc4733Receiver(), [...press(8, 1000), ...press(8, 1000, { loseStart: true })])).toBe('88');
  });

  it('counts a press whose first packets were lost', () => {
    expect(feed(new Rfc4733Receiver(), press(9, 1000, { loseStart: true }))).toBe('9');
  });

  it('ignores a late retransmitted end of an earlier press', () => {
    const rx = new Rfc4733Receiver();
    const first = press(2, 1000);
    const second = press(6, 3000);
    expect(feed(rx, [...first.slice(0, 5), ...second.slice(0, 2), first[5]!, first[6]!, ...second.slice(2)])).toBe('26');
  });

  it('keeps presses of two SSRCs apart', () => {
    const rx = new Rfc4733Receiver();
    const a = press(1, 1000).map((p) => ({ ...p, ssrc: 1 }));
    const b = press(1, 1000).map((p) => ({ ...p, ssrc: 2 }));
    expect(feed(rx, [...a, ...b])).toBe('11');
  });

  it('ignores truncated payloads', () => {
    const p = event({ key: 1, ts: 1, duration: 0 });
    expect(new Rfc4733Receiver().receive({ ...p, payload: p.payload.subarray(0, 3) })).toBeUndefined();
  });

  it('reads the sip-tester captures, each pressed twice as SIPp replays them (same SSRC and timestamp)', () => {
    const rx = new Rfc4733Receiver();
    const keys = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#'];
    let heard = '';
    for (const key of keys) {
      const pkts = udpPayloads(pcapName(key)).map((b) => parseRtp(b)!);
      expect(pkts.every((p) => p.payloadType === 101)).toBe(true);
      heard += feed(rx, [...pkts, ...pkts]);
    }
    expect(heard).toBe(keys.map((k) => k + k).join(''));
  });
});
