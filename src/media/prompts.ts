// Prompt library: every guidance clip loaded and G.711-encoded once at start, shared by
// all calls. An operator's studio recording in overrideDir (same <id>.wav) wins over the
// generated clip in <dir>/wav/.
import { readFile, access } from 'node:fs/promises';
import path from 'node:path';
import { encodeG711, SILENCE_BYTE, type G711Law } from './g711.ts';
import type { PromptItem } from './port.ts';
import { parseWav } from './wav.ts';

/** Samples in one 20 ms packet at 8 kHz. */
export const FRAME_SAMPLES = 160;

export interface PromptClip {
  readonly id: string;
  /** The WAV this clip came from (FreeSWITCH plays the file itself). */
  readonly file: string;
  readonly pcm: Int16Array;
  /** Encoded audio padded with silence to whole 20 ms frames. */
  readonly encoded: Readonly<Record<G711Law, Buffer>>;
}

export interface PromptLibrary {
  ids(): string[];
  get(id: string): PromptClip;
  /** Items → clips in play order; a number becomes its digit_N clips. Throws on an unknown id or a non-digit. */
  resolve(items: PromptItem[]): PromptClip[];
}

interface CatalogEntry {
  id: string;
  text: string;
  kana: string;
  /** A tone, not speech: sox synth effect arguments (prompts/generate.ts). */
  sox?: string;
}

export async function readCatalog(dir: string): Promise<CatalogEntry[]> {
  const file = path.join(dir, 'catalog.json');
  const parsed = JSON.parse(await readFile(file, 'utf8')) as { prompts?: CatalogEntry[] };
  if (!Array.isArray(parsed.prompts)) throw new Error(`${file}: no "prompts" array`);
  return parsed.prompts;
}

function padToFrames(law: G711Law, encoded: Buffer): Buffer {
  const frames = Math.ceil(encoded.length / FRAME_SAMPLES);
  const out = Buffer.alloc(frames * FRAME_SAMPLES, SILENCE_BYTE[law]);
  encoded.copy(out);
  return out;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

export async function loadPromptLibrary(opts: { dir: string; overrideDir?: string }): Promise<PromptLibrary> {
  const catalog = await readCatalog(opts.dir);
  const clips = new Map<string, PromptClip>();
  for (const entry of catalog) {
    const override = opts.overrideDir ? path.resolve(opts.overrideDir, `${entry.id}.wav`) : undefined;
    const file = override && (await exists(override)) ? override : path.resolve(opts.dir, 'wav', `${entry.id}.wav`);
    const pcm = parseWav(file, await readFile(file));
    clips.set(entry.id, {
      id: entry.id,
      file,
      pcm,
      encoded: { ulaw: padToFrames('ulaw', encodeG711('ulaw', pcm)), alaw: padToFrames('alaw', encodeG711('alaw', pcm)) },
    });
  }
  const get = (id: string): PromptClip => {
    const clip = clips.get(id);
    if (!clip) throw new Error(`unknown prompt "${id}"`);
    return clip;
  };
  return {
    ids: () => [...clips.keys()],
    get,
    resolve: (items) =>
      items.flatMap((item) => {
        if ('prompt' in item) return [get(item.prompt)];
        if (!/^\d*$/.test(item.digits)) throw new Error('a number read aloud may contain only 0-9');
        return [...item.digits].map((d) => get(`digit_${d}`));
      }),
  };
}
