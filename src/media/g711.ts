// G.711 (ITU-T) µ-law and A-law, the two codecs every Japanese fixed-line trunk offers.
// Encoding uses 64 KiB lookup tables built once, so encoding a prompt or a frame is a table walk.

// Encoders follow the ITU-T G.191 reference: the magnitude of the 14-bit (µ-law) or 13-bit
// (A-law) linear value, negatives taken as one's complement, truncated towards zero.

/** Segment of a biased magnitude: index of the first end point it does not exceed. */
function segment(value: number, ends: readonly number[]): number {
  let seg = 0;
  while (seg < ends.length && value > ends[seg]!) seg++;
  return seg;
}

const ULAW_SEGMENT_ENDS = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const ALAW_SEGMENT_ENDS = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
const ULAW_BIAS = 0x84;

function encodeUlawSample(sample: number): number {
  const mask = sample < 0 ? 0x7f : 0xff;
  let v = sample < 0 ? ~sample >> 2 : sample >> 2;
  v = Math.min(v, 8159) + (ULAW_BIAS >> 2);
  const seg = segment(v, ULAW_SEGMENT_ENDS);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((v >> (seg + 1)) & 0x0f)) ^ mask;
}

function decodeUlawByte(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

function encodeAlawSample(sample: number): number {
  const mask = sample >= 0 ? 0xd5 : 0x55;
  const v = sample < 0 ? ~sample >> 3 : sample >> 3;
  const seg = segment(v, ALAW_SEGMENT_ENDS);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((seg < 2 ? v >> 1 : v >> seg) & 0x0f)) ^ mask;
}

function decodeAlawByte(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  const magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

const ulawEncodeTable = new Uint8Array(65536);
const alawEncodeTable = new Uint8Array(65536);
const ulawDecodeTable = new Int16Array(256);
const alawDecodeTable = new Int16Array(256);
for (let i = 0; i < 65536; i++) {
  const sample = i < 32768 ? i : i - 65536;
  ulawEncodeTable[i] = encodeUlawSample(sample);
  alawEncodeTable[i] = encodeAlawSample(sample);
}
for (let i = 0; i < 256; i++) {
  ulawDecodeTable[i] = decodeUlawByte(i);
  alawDecodeTable[i] = decodeAlawByte(i);
}

export type G711Law = 'ulaw' | 'alaw';

/** The byte a silent (zero) sample encodes to: what an idle stream carries. */
export const SILENCE_BYTE: Record<G711Law, number> = { ulaw: 0xff, alaw: 0xd5 };

export function encodeG711(law: G711Law, pcm: Int16Array): Buffer {
  const table = law === 'ulaw' ? ulawEncodeTable : alawEncodeTable;
  const out = Buffer.allocUnsafe(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = table[pcm[i]! & 0xffff]!;
  return out;
}

export function decodeG711(law: G711Law, bytes: Uint8Array, out: Int16Array = new Int16Array(bytes.length)): Int16Array {
  const table = law === 'ulaw' ? ulawDecodeTable : alawDecodeTable;
  for (let i = 0; i < bytes.length; i++) out[i] = table[bytes[i]!]!;
  return out;
}
