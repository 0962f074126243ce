// Reads the one WAV format the prompts use: 8 kHz, mono, 16-bit linear PCM.
// Anything else (a studio recording left at 44.1 kHz, stereo, µ-law WAV...) is refused
// with the reason, so an operator learns at start-up, not from a silent call.

export class WavFormatError extends Error {
  constructor(readonly file: string, reason: string) {
    super(`${file}: ${reason} (prompts must be 8 kHz mono 16-bit PCM WAV)`);
    this.name = 'WavFormatError';
  }
}

export function parseWav(file: string, buf: Buffer): Int16Array {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new WavFormatError(file, 'not a RIFF/WAVE file');
  }
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  let offset = 12;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw new WavFormatError(file, 'truncated fmt chunk');
      const tag = buf.readUInt16LE(body);
      // WAVE_FORMAT_EXTENSIBLE (0xFFFE) names the real format in the first two bytes of its subformat GUID.
      const format = tag === 0xfffe && size >= 40 && body + 26 <= buf.length ? buf.readUInt16LE(body + 24) : tag;
      fmt = { format, channels: buf.readUInt16LE(body + 2), rate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) throw new WavFormatError(file, 'data chunk before fmt chunk');
      if (fmt.format !== 1 || fmt.channels !== 1 || fmt.rate !== 8000 || fmt.bits !== 16) {
        throw new WavFormatError(file, `got format ${fmt.format}, ${fmt.rate} Hz, ${fmt.channels} channel(s), ${fmt.bits}-bit`);
      }
      const length = Math.min(size, buf.length - body) & ~1;
      const samples = new Int16Array(length / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(body + i * 2);
      return samples;
    }
    offset = body + size + (size & 1);
  }
  throw new WavFormatError(file, fmt ? 'no data chunk' : 'no fmt chunk');
}

/** Write 8 kHz mono 16-bit PCM WAV (tests and tools make fixtures with it). */
export function encodeWav(samples: Int16Array): Buffer {
  const buf = Buffer.alloc(44 + samples.length * 2);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + samples.length * 2, 4);
  buf.write('WAVEfmt ', 8, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(8000, 24);
  buf.writeUInt32LE(16000, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) buf.writeInt16LE(samples[i]!, 44 + i * 2);
  return buf;
}
