// UDPTL (ITU-T T.38 §9.1, Annex A ASN.1 UDPTLPacket in aligned PER), the transport of T.38 IFP
// packets over UDP, with redundancy error recovery: every datagram carries the newest IFP packet
// (primary) and the previous ones (secondary, newest first), so a lost datagram is rebuilt from the
// next. FEC (parity) recovery is not sent; received FEC is accepted and only its primary used.
//
//   UDPTLPacket ::= SEQUENCE {
//     seq-number          INTEGER (0..65535),                  -- 2 octets
//     primary-ifp-packet  TYPE-IDENTIFIER.&Type(IFPPacket),     -- open type: length + octets
//     error-recovery      CHOICE {                              -- 1 bit, padded to an octet
//       secondary-ifp-packets SEQUENCE OF UDPTLPacket.primary-ifp-packet,  -- count + (length + octets)*
//       fec-info              SEQUENCE { fec-npackets INTEGER, fec-data SEQUENCE OF OCTET STRING } } }

/** How many earlier IFP packets each datagram repeats (RFC 3362 / T.38: t38UDPRedundancy). */
export const DEFAULT_REDUNDANCY = 3;

export class UdptlError extends Error {
  override name = 'UdptlError';
}

/** PER length determinant (X.691 §10.9, aligned, unconstrained): 1 octet < 128, 2 octets < 16384. */
function putLength(out: number[], len: number): void {
  if (len < 0x80) out.push(len);
  else if (len < 0x4000) out.push(0x80 | (len >> 8), len & 0xff);
  else throw new UdptlError(`IFP packet of ${len} octets is beyond UDPTL's 16383`);
}

function putOpen(out: number[], data: Uint8Array): void {
  putLength(out, data.length);
  for (const b of data) out.push(b);
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Uint8Array) {}
  byte(): number {
    if (this.at >= this.buf.length) throw new UdptlError('truncated UDPTL packet');
    return this.buf[this.at++]!;
  }
  length(): number {
    const b = this.byte();
    if ((b & 0x80) === 0) return b;
    if ((b & 0xc0) === 0x80) return ((b & 0x3f) << 8) | this.byte();
    // Fragmented lengths (≥ 16 K) never occur in T.38.
    throw new UdptlError('fragmented PER length in UDPTL packet');
  }
  open(): Uint8Array {
    const len = this.length();
    if (this.at + len > this.buf.length) throw new UdptlError('truncated UDPTL packet');
    const out = this.buf.subarray(this.at, this.at + len);
    this.at += len;
    return out;
  }
}

export interface UdptlPacket {
  seq: number;
  primary: Uint8Array;
  /** Earlier IFP packets, newest first: secondary[i] is packet seq − 1 − i. */
  secondary: Uint8Array[];
}

export function encodeUdptl(seq: number, primary: Uint8Array, secondary: readonly Uint8Array[]): Buffer {
  const out: number[] = [(seq >> 8) & 0xff, seq & 0xff];
  putOpen(out, primary);
  out.push(0x00); // error-recovery: secondary-ifp-packets
  putLength(out, secondary.length);
  for (const s of secondary) putOpen(out, s);
  return Buffer.from(out);
}

export function decodeUdptl(buf: Uint8Array): UdptlPacket {
  const r = new Reader(buf);
  const seq = (r.byte() << 8) | r.byte();
  const primary = r.open();
  const choice = r.byte();
  const secondary: Uint8Array[] = [];
  if ((choice & 0x80) === 0) {
    const count = r.length();
    for (let i = 0; i < count; i++) secondary.push(r.open());
  }
  // fec-info: only the primary is used.
  return { seq, primary, secondary };
}

/** Sender side: numbers IFP packets and keeps the last few to repeat as redundancy. */
export class UdptlSender {
  private seq = 0;
  private readonly history: Uint8Array[] = [];
  constructor(private readonly redundancy = DEFAULT_REDUNDANCY) {}

  packet(ifp: Uint8Array): Buffer {
    const pkt = encodeUdptl(this.seq, ifp, this.history);
    this.seq = (this.seq + 1) & 0xffff;
    this.history.unshift(Uint8Array.from(ifp));
    if (this.history.length > this.redundancy) this.history.pop();
    return pkt;
  }
}

/**
 * Receiver side: delivers each IFP packet once, in order, recovering lost ones from the next
 * datagram's secondaries. Old and duplicate datagrams are dropped.
 */
export class UdptlReceiver {
  private expected: number | undefined;

  /** The IFP packets this datagram makes deliverable, oldest first, with their sequence numbers. */
  receive(buf: Uint8Array): { seq: number; ifp: Uint8Array }[] {
    const p = decodeUdptl(buf);
    if (this.expected === undefined) this.expected = p.seq;
    const ahead = (p.seq - this.expected) & 0xffff;
    // More than half the sequence space ahead is behind: a late or repeated datagram.
    if (ahead >= 0x8000) return [];
    const out: { seq: number; ifp: Uint8Array }[] = [];
    // Lost packets the secondaries still hold (secondary[i] is seq − 1 − i).
    for (let back = Math.min(ahead, p.secondary.length); back >= 1; back--) {
      out.push({ seq: (p.seq - back) & 0xffff, ifp: p.secondary[back - 1]! });
    }
    out.push({ seq: p.seq, ifp: p.primary });
    this.expected = (p.seq + 1) & 0xffff;
    return out;
  }
}
