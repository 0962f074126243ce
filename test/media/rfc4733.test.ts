import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rfc4733Receiver } from '../../src/media/rfc4733.ts';
import { buildRtp, parseRtp, type RtpPacket } from '../../src/media/rtp.ts';
import { pressAt, scenarioWithRisingDtmf } from '../support/dtmf-pcaps.ts';
import { pcapName, udpPayloads } from './pcap.ts';

/** One telephone-event packet; every packet a caller sends gets the next sequence number unless `seq` says otherwise. */
function event(e: { key: number; ts: number; duration: number; seq: number; end?: boolean; marker?: boolean; ssrc?: number }): RtpPacket {
  const payload = Buffer.from([e.key, (e.end ? 0x80 : 0) | 10, e.duration >> 8, e.duration & 0xff]);
  return parseRtp(buildRtp({ marker: e.marker ?? false, payloadType: 101, sequence: e.seq, timestamp: e.ts, ssrc: e.ssrc ?? 1234 }, payload))!;
}

/**
 * A well-behaved press starting at sequence number `seq`: start with marker, updates, then
 * the end packet three times — as one retransmitted packet (same sequence number, as
 * sip-tester's captures have it) or as three packets with their own sequence numbers.
 */
function press(key: number, ts: number, seq: number, opts: { loseEnd?: boolean; loseStart?: boolean; endSeqs?: 'same' | 'rising' } = {}): RtpPacket[] {
  const pkts = [0, 320, 640, 960].map((duration, i) => event({ key, ts, duration, seq: seq + i, marker: i === 0 }));
  if (opts.loseStart) pkts.shift();
  if (!opts.loseEnd) {
    for (let i = 0; i < 3; i++) pkts.push(event({ key, ts, duration: 1120, end: true, seq: seq + 4 + (opts.endSeqs === 'rising' ? i : 0) }));
  }
  return pkts;
}

function feed(rx: Rfc4733Receiver, pkts: RtpPacket[]): string {
  return pkts.map((p) => rx.receive(p) ?? '').join('');
}

describe('RFC 4733 receiver', () => {
  it('reports one key per press despite updates and the end packet sent three times', () => {
    expect(feed(new Rfc4733Receiver(), press(5, 1000, 10))).toBe('5');
    expect(feed(new Rfc4733Receiver(), press(5, 1000, 10, { endSeqs: 'rising' }))).toBe('5');
  });

  it('maps event codes 10-15 to * # A-D and ignores non-DTMF events', () => {
    const rx = new Rfc4733Receiver();
    expect(feed(rx, [...press(10, 1, 0), ...press(11, 2000, 10), ...press(12, 4000, 20), ...press(15, 6000, 30), ...press(16, 8000, 40)])).toBe('*#AD');
  });

  it('keeps a repeated digit: each press has its own timestamp', () => {
    expect(feed(new Rfc4733Receiver(), [...press(1, 1000, 10), ...press(1, 3000, 20), ...press(1, 5000, 30)])).toBe('111');
  });

  it('takes a byte-identical duplicate of a press (same sequence numbers, same timestamp) as no new press', () => {
    const once = press(1, 1000, 10);
    expect(feed(new Rfc4733Receiver(), [...once, ...once])).toBe('1');
    // Duplicated packet by packet, as a network that duplicates would deliver them.
    expect(feed(new Rfc4733Receiver(), once.flatMap((p) => [p, p]))).toBe('1');
  });

  it('identifies an event by its timestamp: newer packets on an ended timestamp are the same press, marker or not', () => {
    expect(feed(new Rfc4733Receiver(), [...press(1, 1000, 10), ...press(1, 1000, 20)])).toBe('1');
    expect(feed(new Rfc4733Receiver(), [...press(7, 1000, 10, { loseEnd: true }), ...press(7, 1000, 20)])).toBe('7');
  });

  it('takes an older sequence number as stale, even on a new timestamp', () => {
    const rx = new Rfc4733Receiver();
    expect(feed(rx, press(4, 5000, 50))).toBe('4');
    expect(feed(rx, press(9, 9000, 30))).toBe('');
    expect(feed(rx, press(9, 9000, 60))).toBe('9');
  });

  it('still counts a press whose end packets were all lost', () => {
    expect(feed(new Rfc4733Receiver(), [...press(3, 1000, 10, { loseEnd: true }), ...press(3, 3000, 20), ...press(4, 5000, 30, { loseEnd: true }), ...press(4, 7000, 40)])).toBe('3344');
  });

  it('counts a press whose first packets were lost', () => {
    expect(feed(new Rfc4733Receiver(), press(9, 1000, 10, { loseStart: true }))).toBe('9');
  });

  it('ignores a late end retransmission of an earlier press', () => {
    const rx = new Rfc4733Receiver();
    const first = press(2, 1000, 10, { endSeqs: 'rising' });
    const second = press(6, 3000, 20);
    expect(feed(rx, [...first.slice(0, 5), ...second.slice(0, 2), first[5]!, first[6]!, ...second.slice(2)])).toBe('26');
  });

  it('follows the sequence number across its wrap from 65535 to 0', () => {
    expect(feed(new Rfc4733Receiver(), [...press(1, 1000, 65530), ...press(2, 3000, 65537 & 0xffff), ...press(3, 5000, 20)])).toBe('123');
  });

  it('accepts a sender that restarted its sequence far behind on the same SSRC', () => {
    expect(feed(new Rfc4733Receiver(), [...press(1, 1000, 40_000), ...press(2, 3000, 100)])).toBe('12');
  });

  it('takes the segments of a key held past the longest duration as one press', () => {
    const rx = new Rfc4733Receiver();
    const segment1 = [event({ key: 5, ts: 1000, duration: 0, seq: 1, marker: true }), event({ key: 5, ts: 1000, duration: 0xffff, seq: 2, end: true })];
    const segment2 = [event({ key: 5, ts: 1000 + 0xffff, duration: 400, seq: 3 }), event({ key: 5, ts: 1000 + 0xffff, duration: 800, seq: 4, end: true })];
    expect(feed(rx, [...segment1, ...segment2, ...press(5, 200_000, 10)])).toBe('55');
  });

  it('keeps presses of two SSRCs apart', () => {
    const rx = new Rfc4733Receiver();
    const a = press(1, 1000, 10).map((p) => ({ ...p, ssrc: 1 }));
    const b = press(1, 1000, 10).map((p) => ({ ...p, ssrc: 2 }));
    expect(feed(rx, [...a, ...b])).toBe('11');
  });

  it('ignores truncated payloads', () => {
    const p = event({ key: 1, ts: 1, duration: 0, seq: 1 });
    expect(new Rfc4733Receiver().receive({ ...p, payload: p.payload.subarray(0, 3) })).toBeUndefined();
  });

  const KEYS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#'];

  it('reads sip-tester’s captures replayed unchanged twice as one press each (what FreeSWITCH does)', () => {
    const rx = new Rfc4733Receiver();
    let heard = '';
    for (const key of KEYS) {
      const pkts = udpPayloads(pcapName(key)).map((b) => parseRtp(b)!);
      expect(pkts.every((p) => p.payloadType === 101)).toBe(true);
      heard += feed(rx, [...pkts, ...pkts]);
    }
    expect(heard).toBe(KEYS.join(''));
  });

  it('reads the captures the test support generates (rising through the call), each key pressed twice, as two presses', () => {
    const rx = new Rfc4733Receiver();
    let heard = '';
    KEYS.flatMap((k) => [k, k]).forEach((key, index) => {
      const pcap = pressAt(readFileSync(pcapName(key)), index);
      heard += feed(rx, udpPayloads(pcap).map((b) => parseRtp(b)!));
    });
    expect(heard).toBe(KEYS.map((k) => k + k).join(''));
  });

  it('plays each entry of a scenario as one capture: presses in order, spaced as its pauses, then one pause as long', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-dtmf-test-'));
    try {
      // Into a folder not made yet, as by hand (`npx tsx test/support/dtmf-pcaps.ts SCENARIO DIR`).
      const scenario = await scenarioWithRisingDtmf('test/sipp/ivr-a-typeahead-line-rfc2833.xml', path.join(dir, 'not', 'made', 'yet'));
      const xml = await readFile(scenario, 'utf8');
      // 単位 1, then the password and its confirmation (8 presses 200 ms apart each).
      const plays = [...xml.matchAll(/play_pcap_audio="([^"]+)" \/><\/action><\/nop>(?:<pause milliseconds="(\d+)" \/>)?/g)];
      expect(plays.map((m) => m[2])).toEqual([undefined, '1400', '1400']);
      expect(xml).not.toContain('/usr/share/sip-tester/');
      const rx = new Rfc4733Receiver();
      const heard: string[] = [];
      for (const [, file] of plays) {
        const pcap = await readFile(file!);
        const starts: number[] = [];
        let keys = '';
        for (let at = 24, i = 0; at + 16 <= pcap.length; at += 16 + pcap.readUInt32LE(at + 8), i++) {
          const key = rx.receive(parseRtp(udpPayloads(pcap)[i]!)!);
          if (key) {
            keys += key;
            starts.push(pcap.readUInt32LE(at) * 1000 + pcap.readUInt32LE(at + 4) / 1000);
          }
        }
        heard.push(keys);
        expect(starts.map((t) => Math.round(t - starts[0]!))).toEqual(starts.map((_, i) => i * 200));
      }
      expect(heard).toEqual(['1', '13572468', '13572468']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
