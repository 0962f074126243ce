// `chakushin fax send` refuses bad input before any call is made, naming the field or the file.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-faxcli-'));
  await writeFile(path.join(dir, 'not.tif'), 'this is text');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('chakushin fax send: bad input', () => {
  it.each([
    [['send', 'x.tif'], /--to: a national number .* is required/],
    [['send', '--to', '06-1111-3333', 'x.tif'], /--to: a national number .* got "06-1111-3333"/],
    [['send', '--to', '0611113333'], /one TIFF file to send is required/],
    [['send', '--to', '0611113333', '--hangup-after-page', '0', 'x.tif'], /--hangup-after-page: expected a positive whole number/],
    [['send', '--to', '0611113333', '--via', 'nowhere', 'x.tif'], /--via expects HOST:PORT/],
    [['send', '--to', '0611113333', 'MISSING'], /missing\.tif: no such file/],
    [['send', '--to', '0611113333', 'NOT'], /not\.tif: not a TIFF file/],
    [['fetch'], /unknown subcommand "fetch"/],
  ])('%j', async (args, message) => {
    const argv = args.map((a) => (a === 'MISSING' ? path.join(dir, 'missing.tif') : a === 'NOT' ? path.join(dir, 'not.tif') : a));
    const r = await runCli(['fax', ...argv], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
