// G.711 (ITU-T) µ-law and A-law, the two codecs every Japanese fixed-line trunk offers.
// Encoding uses 64 KiB lookup tables built once, so encoding a prompt or a frame is a table walk.

const ULAW_BIAS = 0x84;
const ULAW_CLIP = 32635;

function encodeUlawSample(sample: number): number {
  let s = sample;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > ULAW_CLIP) s = ULAW_CLIP;
  s += ULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function decodeUlawByte(byte: number): number {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

function encodeAlawSample(sample: number): number {
  let s = sample;
  let sign = 0x80;
  if (s < 0) {
    sign = 0;
    s = -s - 1;
  }
  if (s > 32767) s = 32767;
  let out: number;
  if (s < 256) {
    out = s >> 4;
  } else {
    let exponent = 7;
    for (let mask = 0x4000; (s & mask) === 0 && exponent > 1; mask >>= 1) exponent--;
    out = (exponent << 4) | ((s >> (exponent + 3)) & 0x0f);
  }
  return (out | sign) ^ 0x55;
}

function decodeAlawByte(byte: number): number {
  const a = byte ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
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
