// The CLI loads only what a command needs: `chakushin help` reads the command list and nothing
// of the database, the config schema or the service; a database command loads no site, SIP or
// media code. (How long that takes is measured by `npm run bench:cli`, not here.)
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-lazy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The modules `chakushin ARGS` loaded, as paths from the repository root. */
async function loadedBy(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; modules: string[] }> {
  const trace = path.join(dir, `${args.join('-')}.trace`);
  const r = spawnSync(process.execPath, ['--import', path.join(root, 'test/support/module-trace.mjs'), path.join(root, 'src/cli/bin.mjs'), ...args], {
    cwd: root, env: { ...process.env, ...env, MODULE_TRACE: trace }, encoding: 'utf8', timeout: 60_000,
  });
  const urls = (await readFile(trace, 'utf8').catch(() => '')).split('\n').filter((u) => u.startsWith('file://'));
  return { status: r.status, modules: urls.map((u) => path.relative(root, new URL(u).pathname)) };
}

const HEAVY = [/^node_modules\/(pg|zod|pino|fastify|drachtio-srf|nodemailer|mailparser|smtp-server|xstate|prom-client)\//, /^src\/(service|config)\.ts$/, /^src\/(store|site|sip-engine\/index|media|ivr|notify|web)/];

it('help and a command\'s --help load the command list only', async () => {
  for (const args of [['help'], ['help', 'provision'], ['start', '--help'], ['mail', '--help']]) {
    const { status, modules } = await loadedBy(args);
    expect(status, args.join(' ')).toBe(0);
    expect(modules).toContain('src/cli/commands/index.ts');
    expect(modules.filter((m) => HEAVY.some((h) => h.test(m))), args.join(' ')).toEqual([]);
  }
});

it('a database command loads no site, SIP, media or service code', async () => {
  // An unreachable database: the command fails once it has loaded what it needs to try.
  const { modules } = await loadedBy(['temp-password', 'status', '0611112222'], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', LOG_LEVEL: 'silent' });
  expect(modules).toContain('src/store/temp-passwords.ts');
  expect(modules.filter((m) => /^node_modules\/(fastify|drachtio-srf|nodemailer|mailparser|smtp-server|xstate)\/|^src\/(service\.ts|site|sip-engine\/index|media|ivr|notify|web)/.test(m))).toEqual([]);
});
