// Regenerates prompts/wav/<id>.wav from the kana readings in catalog.json with
// espeak-ng (Japanese voice) and sox (to 8 kHz mono 16-bit PCM, the format the media
// endpoint plays); an entry with `sox` (a tone such as the ringback) is synthesised by sox
// from those effect arguments instead. The WAVs are committed, so the service never needs a
// TTS at run time.
// Usage: npm run prompts [-- id ...]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCatalog } from '../src/media/prompts.ts';

const dir = path.dirname(fileURLToPath(import.meta.url));
const only = new Set(process.argv.slice(2));
const outDir = path.join(dir, 'wav');
mkdirSync(outDir, { recursive: true });
const tmp = mkdtempSync(path.join(os.tmpdir(), 'chakushin-prompts-'));
try {
  for (const entry of await readCatalog(dir)) {
    if (only.size && !only.has(entry.id)) continue;
    const out = path.join(outDir, `${entry.id}.wav`);
    if (entry.sox) {
      execFileSync('sox', ['-R', '-n', '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', out, ...entry.sox.split(/\s+/), 'gain', '-n', '-6']);
      console.log(`${entry.id}.wav`);
      continue;
    }
    const raw = path.join(tmp, `${entry.id}.wav`);
    // -s 150: a little slower than the default, as guidance is spoken to callers on a phone line.
    execFileSync('espeak-ng', ['-v', 'ja', '-s', '150', '-w', raw, entry.kana]);
    // Level to −3 dBFS peak and band-limit to the telephone band before resampling.
    // -R: repeatable dither, so regenerating an unchanged catalog leaves the committed WAVs unchanged.
    execFileSync('sox', ['-R', raw, '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', out, 'highpass', '300', 'lowpass', '3400', 'gain', '-n', '-3']);
    console.log(`${entry.id}.wav`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
