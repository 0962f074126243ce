// RFC 4733 telephone-event receiver: turns a stream of event packets into key presses.
//
// One press is one (SSRC, RTP timestamp) pair, sent many times (updates with growing
// duration, then the end packet three times), so presses are de-duplicated on that pair.
// A key is reported on the first packet seen for a press, so a press whose end packets
// are lost still counts. Some senders (and SIPp replaying the same pcap twice) reuse the
// timestamp for the next press: a packet after the end with the marker set, or with a
// duration that went backwards, starts a new press; so does a different event code.
import { eventToKey } from './dtmf.ts';
import type { RtpPacket } from './rtp.ts';

interface PressState {
  timestamp: number;
  event: number;
  ended: boolean;
  duration: number;
}

/** Timestamps remembered per SSRC, so a late retransmission of an earlier press is not a new one. */
const REMEMBERED = 4;

export class Rfc4733Receiver {
  private readonly bySsrc = new Map<number, PressState[]>();

  /** Feed one telephone-event packet; returns the key when it starts a new press. */
  receive(pkt: RtpPacket): string | undefined {
    if (pkt.payload.length < 4) return undefined;
    const event = pkt.payload[0]!;
    const ended = (pkt.payload[1]! & 0x80) !== 0;
    const duration = pkt.payload.readUInt16BE(2);
    let presses = this.bySsrc.get(pkt.ssrc);
    if (!presses) {
      // Bound memory against a sender that keeps changing SSRC.
      if (this.bySsrc.size >= 8) this.bySsrc.clear();
      presses = [];
      this.bySsrc.set(pkt.ssrc, presses);
    }
    const s = presses.find((p) => p.timestamp === pkt.timestamp);
    if (!s) {
      presses.push({ timestamp: pkt.timestamp, event, ended, duration });
      if (presses.length > REMEMBERED) presses.shift();
      return eventToKey(event);
    }
    const newPress =
      event !== s.event ||
      (s.ended && !ended && (pkt.marker || duration < s.duration)) ||
      (!s.ended && pkt.marker && duration < s.duration);
    if (newPress) {
      Object.assign(s, { event, ended, duration });
      return eventToKey(event);
    }
    if (!s.ended) {
      s.ended = ended;
      s.duration = Math.max(s.duration, duration);
    }
    return undefined;
  }
}
