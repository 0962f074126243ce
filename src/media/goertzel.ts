// In-band DTMF (tones inside the audio) for callers whose equipment neither sends
// RFC 4733 nor INFO. Goertzel filters on the eight DTMF frequencies over 205-sample
// blocks (25.6 ms at 8 kHz, where the DTMF frequencies fall close to filter bins).
// Speech must never turn into digits, so a block counts only if the two tones carry
// most of its energy, each clearly dominates its group, and the twist is within limits;
// a key is reported after two consecutive agreeing blocks and re-armed only after a gap.

const RATE = 8000;
const BLOCK = 205;
const ROWS = [697, 770, 852, 941];
const COLS = [1209, 1336, 1477, 1633];
const KEYS = ['123A', '456B', '789C', '*0#D'];

const coeff = (f: number) => 2 * Math.cos((2 * Math.PI * f) / RATE);
const ROW_COEFF = ROWS.map(coeff);
const COL_COEFF = COLS.map(coeff);

/** Below this mean square (RMS 100 of 32767, about −40 dBm0) a block is silence, not a tone. */
const MIN_MEAN_SQUARE = 100 * 100;
/** Share of block energy the two tones must carry. */
const MIN_TONE_SHARE = 0.6;
/** The winner in each group must beat the runner-up by this power ratio (≈ 8 dB). */
const GROUP_DOMINANCE = 6.3;
/** Twist (row vs column level) allowed either way, ≈ 8 dB: old handsets are far from the nominal levels. */
const MAX_TWIST = 6.3;

function goertzelPower(samples: Float64Array, c: number): number {
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const s0 = samples[i]! + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - c * s1 * s2;
}

function strongest(samples: Float64Array, coeffs: number[]): { index: number; power: number; second: number } {
  let index = 0;
  let power = -1;
  let second = 0;
  coeffs.forEach((c, i) => {
    const p = goertzelPower(samples, c);
    if (p > power) {
      second = Math.max(second, power);
      power = p;
      index = i;
    } else if (p > second) second = p;
  });
  return { index, power, second };
}

/** The key a block holds, if any. */
function detectBlock(samples: Float64Array): string | undefined {
  let energy = 0;
  for (let i = 0; i < samples.length; i++) energy += samples[i]! * samples[i]!;
  if (energy / samples.length < MIN_MEAN_SQUARE) return undefined;
  const row = strongest(samples, ROW_COEFF);
  const col = strongest(samples, COL_COEFF);
  if (row.power < GROUP_DOMINANCE * row.second || col.power < GROUP_DOMINANCE * col.second) return undefined;
  if (row.power > MAX_TWIST * col.power || col.power > MAX_TWIST * row.power) return undefined;
  // A pure tone of amplitude A gives power (N·A/2)² and energy N·A²/2, hence the 2/N.
  const share = ((row.power + col.power) * 2) / (samples.length * energy);
  if (share < MIN_TONE_SHARE) return undefined;
  return KEYS[row.index]![col.index];
}

export class GoertzelDetector {
  private readonly block = new Float64Array(BLOCK);
  private filled = 0;
  private candidate: string | undefined;
  private reported: string | undefined;

  /** Feed decoded audio; returns keys newly pressed within it. */
  push(pcm: Int16Array): string[] {
    const keys: string[] = [];
    for (let i = 0; i < pcm.length; i++) {
      this.block[this.filled++] = pcm[i]!;
      if (this.filled < BLOCK) continue;
      this.filled = 0;
      const key = detectBlock(this.block);
      if (key !== undefined && key === this.candidate && key !== this.reported) {
        this.reported = key;
        keys.push(key);
      } else if (key === undefined) {
        this.reported = undefined;
      }
      this.candidate = key;
    }
    return keys;
  }
}
