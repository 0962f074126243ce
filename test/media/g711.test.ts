import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeG711, encodeG711, SILENCE_BYTE, type G711Law } from '../../src/media/g711.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'g711-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Every 16-bit sample value, so the comparison covers each segment boundary. */
const allSamples = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);

/** sox's G.711 codec is the independent reference. */
function soxEncode(law: G711Law, pcm: Int16Array): Buffer {
  const input = path.join(tmp, 'in.raw');
  const output = path.join(tmp, `out-${law}.raw`);
  writeFileSync(input, Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  execFileSync('sox', ['-D', '-t', 'raw', '-e', 'signed-integer', '-b', '16', '-r', '8000', '-c', '1', input, '-t', 'raw', '-e', law === 'ulaw' ? 'mu-law' : 'a-law', '-b', '8', output]);
  return readFileSync(output);
}

function soxDecode(law: G711Law, bytes: Uint8Array): Int16Array {
  const input = path.join(tmp, `in-${law}.raw`);
  const output = path.join(tmp, 'out.raw');
  writeFileSync(input, bytes);
  execFileSync('sox', ['-t', 'raw', '-e', law === 'ulaw' ? 'mu-law' : 'a-law', '-b', '8', '-r', '8000', '-c', '1', input, '-t', 'raw', '-e', 'signed-integer', '-b', '16', output]);
  const buf = readFileSync(output);
  return new Int16Array(buf.buffer, buf.byteOffset, buf.length / 2);
}

describe.each(['ulaw', 'alaw'] as const)('G.711 %s', (law) => {
  it('decodes every code word like sox', () => {
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(Array.from(decodeG711(law, codes))).toEqual(Array.from(soxDecode(law, codes)));
  });

  it('encodes every 16-bit sample to a code word that decodes within one quantisation step of it', () => {
    const encoded = encodeG711(law, allSamples);
    const decoded = decodeG711(law, encoded);
    for (let i = 0; i < allSamples.length; i += 1) {
      const x = allSamples[i]!;
      // Step size doubles per segment: ≤ 1/16 of the magnitude plus the smallest step.
      expect(Math.abs(decoded[i]! - x)).toBeLessThanOrEqual(Math.abs(x) / 16 + 33);
    }
  });

  it('agrees with sox on nearly every sample (sox rounds to 14/13 bits where G.191 truncates)', () => {
    const ours = encodeG711(law, allSamples);
    const ref = soxEncode(law, allSamples);
    let differing = 0;
    for (let i = 0; i < ours.length; i++) {
      if (ours[i] !== ref[i]) {
        differing++;
        // Where they differ, it is by one neighbouring code word.
        const a = decodeG711(law, Uint8Array.of(ours[i]!))[0]!;
        const b = decodeG711(law, Uint8Array.of(ref[i]!))[0]!;
        expect(Math.abs(a - b)).toBeLessThanOrEqual(Math.abs(allSamples[i]!) / 8 + 16);
      }
    }
    expect(differing / ours.length).toBeLessThan(0.05);
  });

  it('re-encodes every decoded code word to itself', () => {
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const again = encodeG711(law, decodeG711(law, codes));
    // µ-law has two zeros (0x7F, 0xFF); both decode to 0, which encodes as 0xFF.
    const expected = Array.from(codes, (c) => (law === 'ulaw' && c === 0x7f ? 0xff : c));
    expect(Array.from(again)).toEqual(expected);
  });

  it('encodes silence to the idle code word', () => {
    expect(encodeG711(law, Int16Array.of(0))[0]).toBe(SILENCE_BYTE[law]);
  });

  it('is monotonic: a louder sample never decodes quieter', () => {
    const decoded = decodeG711(law, encodeG711(law, allSamples));
    for (let i = 1; i < decoded.length; i++) expect(decoded[i]!).toBeGreaterThanOrEqual(decoded[i - 1]!);
  });
});
