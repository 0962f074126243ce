import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeG711, encodeG711 } from '../../src/media/g711.ts';
import { GoertzelDetector } from '../../src/media/goertzel.ts';
import { loadPromptLibrary } from '../../src/media/prompts.ts';

const FREQS: Record<string, [number, number]> = {};
'123A456B789C*0#D'.split('').forEach((k, i) => {
  FREQS[k] = [[697, 770, 852, 941][Math.floor(i / 4)]!, [1209, 1336, 1477, 1633][i % 4]!];
});

/** Deterministic noise so a failure reproduces. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Tones for each key, gaps between, white noise throughout, sent through G.711 like a real call. */
function synthesize(keys: string, opts: { toneMs: number; gapMs: number; amplitude: number; noise: number; twistDb?: number; seed?: number }): Int16Array {
  const random = rng(opts.seed ?? 1);
  const out: number[] = [];
  const push = (ms: number, key?: string) => {
    const n = (ms * 8000) / 1000;
    const [lo, hi] = key ? FREQS[key]! : [0, 0];
    const hiAmp = opts.amplitude * 10 ** ((opts.twistDb ?? 0) / 20);
    for (let i = 0; i < n; i++) {
      const t = out.length / 8000;
      let v = (random() * 2 - 1) * opts.noise;
      if (key) v += opts.amplitude * Math.sin(2 * Math.PI * lo * t) + hiAmp * Math.sin(2 * Math.PI * hi * t + 1);
      out.push(Math.max(-32768, Math.min(32767, Math.round(v))));
    }
  };
  push(opts.gapMs);
  for (const k of keys) {
    push(opts.toneMs, k);
    push(opts.gapMs);
  }
  return decodeG711('ulaw', encodeG711('ulaw', Int16Array.from(out)));
}

/** Feed in 20 ms frames, as packets arrive. */
function detect(pcm: Int16Array): string {
  const d = new GoertzelDetector();
  let keys = '';
  for (let i = 0; i < pcm.length; i += 160) keys += d.push(pcm.subarray(i, i + 160)).join('');
  return keys;
}

describe('in-band DTMF (Goertzel)', () => {
  it('hears all 16 keys in noise (about 20 dB SNR)', () => {
    const keys = '1234567890*#ABCD';
    expect(detect(synthesize(keys, { toneMs: 70, gapMs: 60, amplitude: 6000, noise: 1500 }))).toBe(keys);
  });

  it('keeps repeated keys apart when a gap separates them', () => {
    expect(detect(synthesize('0066001', { toneMs: 60, gapMs: 50, amplitude: 4000, noise: 800, seed: 7 }))).toBe('0066001');
  });

  it('hears quiet tones and tones with twist', () => {
    expect(detect(synthesize('159#', { toneMs: 80, gapMs: 60, amplitude: 600, noise: 60, seed: 3 }))).toBe('159#');
    expect(detect(synthesize('26*', { toneMs: 80, gapMs: 60, amplitude: 3000, noise: 300, twistDb: -6, seed: 4 }))).toBe('26*');
  });

  it('reports a long press once', () => {
    expect(detect(synthesize('5', { toneMs: 1500, gapMs: 100, amplitude: 5000, noise: 500 }))).toBe('5');
  });

  it('ignores noise alone and tones too short to be a press', () => {
    expect(detect(synthesize('', { toneMs: 0, gapMs: 3000, amplitude: 0, noise: 8000 }))).toBe('');
    expect(detect(synthesize('123', { toneMs: 20, gapMs: 100, amplitude: 5000, noise: 300 }))).toBe('');
  });

  it('finds no digits in any spoken guidance prompt', async () => {
    const lib = await loadPromptLibrary({ dir: path.resolve('prompts') });
    for (const id of lib.ids()) {
      const clip = lib.get(id);
      expect({ id, keys: detect(decodeG711('ulaw', clip.encoded.ulaw)) }).toEqual({ id, keys: '' });
    }
  });
});
