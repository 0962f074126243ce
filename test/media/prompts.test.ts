import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPromptLibrary } from '../../src/media/prompts.ts';
import { encodeWav, parseWav, WavFormatError } from '../../src/media/wav.ts';

const promptDir = path.resolve('prompts');
const catalog = JSON.parse(readFileSync(path.join(promptDir, 'catalog.json'), 'utf8')) as { prompts: { id: string; text: string; kana: string }[] };
const tmp = mkdtempSync(path.join(os.tmpdir(), 'prompts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('prompt library', () => {
  it('has a playable clip for every catalog entry, encoded to whole 20 ms frames', async () => {
    const lib = await loadPromptLibrary({ dir: promptDir });
    expect(lib.ids().sort()).toEqual(catalog.prompts.map((p) => p.id).sort());
    for (const id of lib.ids()) {
      const clip = lib.get(id);
      expect(clip.pcm.length, id).toBeGreaterThan(800);
      expect(clip.encoded.ulaw.length % 160, id).toBe(0);
      expect(clip.encoded.alaw.length).toBe(clip.encoded.ulaw.length);
      expect(clip.encoded.ulaw.length - clip.pcm.length).toBeLessThan(160);
    }
  });

  it('every catalog entry has text and a kana reading without kanji', () => {
    for (const p of catalog.prompts) {
      expect(p.text.length, p.id).toBeGreaterThan(0);
      expect(p.kana, p.id).not.toMatch(/[\u4e00-\u9fff]/);
    }
  });

  it('reads a number digit by digit', async () => {
    const lib = await loadPromptLibrary({ dir: promptDir });
    expect(lib.resolve([{ digits: '0611' }, { prompt: 'a_enter_password_after_number' }]).map((c) => c.id)).toEqual(['digit_0', 'digit_6', 'digit_1', 'digit_1', 'a_enter_password_after_number']);
    expect(() => lib.resolve([{ digits: '06-11' }])).toThrow(/only 0-9/);
    expect(() => lib.resolve([{ prompt: 'nope' }])).toThrow(/unknown prompt "nope"/);
  });

  it("plays an operator's recording dropped into the override directory", async () => {
    const overrideDir = path.join(tmp, 'override-ok');
    execFileSync('mkdir', ['-p', overrideDir]);
    const studio = Int16Array.from({ length: 8000 }, (_, i) => Math.round(3000 * Math.sin((2 * Math.PI * 440 * i) / 8000)));
    writeFileSync(path.join(overrideDir, 'b_completed.wav'), encodeWav(studio));
    const lib = await loadPromptLibrary({ dir: promptDir, overrideDir });
    expect(lib.get('b_completed').file).toBe(path.join(overrideDir, 'b_completed.wav'));
    expect(Array.from(lib.get('b_completed').pcm)).toEqual(Array.from(studio));
    expect(lib.get('b_invalid').file).toBe(path.join(promptDir, 'wav', 'b_invalid.wav'));
  });

  it('refuses a recording the endpoint cannot play, naming the file', async () => {
    const overrideDir = path.join(tmp, 'override-bad');
    execFileSync('mkdir', ['-p', overrideDir]);
    const bad = path.join(overrideDir, 'a_invalid.wav');
    execFileSync('sox', ['-n', '-r', '44100', '-c', '2', '-b', '16', bad, 'synth', '0.2', 'sine', '440']);
    await expect(loadPromptLibrary({ dir: promptDir, overrideDir })).rejects.toThrow(`${bad}: got format 1, 44100 Hz, 2 channel(s), 16-bit`);
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-e', 'mu-law', bad, 'synth', '0.2', 'sine', '440']);
    await expect(loadPromptLibrary({ dir: promptDir, overrideDir })).rejects.toThrow(WavFormatError);
    writeFileSync(bad, 'not audio at all');
    await expect(loadPromptLibrary({ dir: promptDir, overrideDir })).rejects.toThrow(`${bad}: not a RIFF/WAVE file`);
  });

  it('parses what encodeWav writes and sox-made 8 kHz WAVs', () => {
    const samples = Int16Array.of(0, 1, -1, 32767, -32768);
    expect(Array.from(parseWav('x.wav', encodeWav(samples)))).toEqual(Array.from(samples));
    const file = path.join(tmp, 'sox.wav');
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', file, 'synth', '0.1', 'sine', '1000']);
    expect(parseWav(file, readFileSync(file)).length).toBe(800);
  });
});
