// RFC 4733 telephone-event receiver: turns a stream of event packets into key presses.
//
// RFC 4733 identifies an event by its RTP timestamp: the start, the updates with a growing
// duration and the end packet sent three times all carry the event's timestamp, and the
// next press gets a new one. So a packet is a new key press only when it is newer than
// anything seen from its SSRC (sequence number, RFC 3550 serial order) and carries a
// timestamp not seen before. A byte-identical duplicate (same sequence number) or an older
// sequence number is stale, as FreeSWITCH treats it; a network that duplicates or reorders
// packets cannot double a caller's keys. A key is reported on the first packet seen for its
// timestamp, so a press whose start or end packets are lost still counts once.
import { eventToKey } from './dtmf.ts';
import type { RtpPacket } from './rtp.ts';

interface EventState {
  timestamp: number;
  event: number;
  /** Longest duration seen for the event (timestamp units). */
  duration: number;
}

interface SourceState {
  /** Highest sequence number accepted from this SSRC. */
  highestSeq: number;
  /** The latest events, newest last: a late packet of an earlier event is not a new one. */
  events: EventState[];
}

/** Events remembered per SSRC. */
const REMEMBERED = 4;
/** How far behind the highest sequence number a packet counts as reordered (RFC 3550 A.1 MAX_MISORDER). */
const MAX_MISORDER = 100;
/** SSRCs remembered at once, against a sender that keeps changing its SSRC. */
const MAX_SOURCES = 8;
/** A segment of a long-duration event ends when its duration field is (nearly) full (RFC 4733 §2.5.1.3). */
const FULL_SEGMENT = 0xffff - 8000;

/** How `seq` relates to the highest sequence number seen: newer, a duplicate, reordered (older), or a restart. */
function sequenceOrder(seq: number, highest: number): 'newer' | 'duplicate' | 'older' | 'restart' {
  const delta = (seq - highest) & 0xffff;
  if (delta === 0) return 'duplicate';
  if (delta < 0x8000) return 'newer';
  // Far behind: the sender restarted its sequence on the same SSRC (RFC 3550 A.1 treats it as a resync).
  return 0x10000 - delta <= MAX_MISORDER ? 'older' : 'restart';
}

export class Rfc4733Receiver {
  private readonly bySsrc = new Map<number, SourceState>();

  /** Feed one telephone-event packet; returns the key when it starts a new press. */
  receive(pkt: RtpPacket): string | undefined {
    if (pkt.payload.length < 4) return undefined;
    const event = pkt.payload[0]!;
    const duration = pkt.payload.readUInt16BE(2);
    let source = this.bySsrc.get(pkt.ssrc);
    if (!source) {
      if (this.bySsrc.size >= MAX_SOURCES) this.bySsrc.clear();
      source = { highestSeq: pkt.sequence, events: [] };
      this.bySsrc.set(pkt.ssrc, source);
    } else {
      const order = sequenceOrder(pkt.sequence, source.highestSeq);
      if (order === 'duplicate' || order === 'older') return undefined;
      source.highestSeq = pkt.sequence;
    }
    const known = source.events.find((e) => e.timestamp === pkt.timestamp);
    if (known) {
      // An update or an end retransmission of an event already reported.
      known.duration = Math.max(known.duration, duration);
      return undefined;
    }
    const previous = source.events[source.events.length - 1];
    source.events.push({ timestamp: pkt.timestamp, event, duration });
    if (source.events.length > REMEMBERED) source.events.shift();
    // The next segment of a key held longer than one segment starts at the previous
    // segment's timestamp plus its duration: the same press, not a new one.
    const continues =
      previous !== undefined &&
      previous.event === event &&
      previous.duration >= FULL_SEGMENT &&
      pkt.timestamp === ((previous.timestamp + previous.duration) >>> 0);
    return continues ? undefined : eventToKey(event);
  }
}
