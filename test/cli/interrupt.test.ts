// Ctrl-C on a database command run without a service: the command has started the embedded
// PostgreSQL itself (its own session, out of the terminal's reach), so the signal must end the
// command and still stop that server. Signalled as a terminal does, to the whole process group,
// once the server is up.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { leftRunning } from '../support/npm-start.ts';
import { freePort } from '../support/ports.ts';

const BIN = path.resolve(import.meta.dirname, '../../src/cli/bin.mjs');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-interrupt-'));
  // As root PostgreSQL runs as its own user, which must reach the folder.
  await chmod(dir, 0o755);
});
afterAll(async () => {
  for (const line of leftRunning(path.join(dir, 'var'))) process.kill(Number(line.split(' ')[0]), 'SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

it('SIGINT to `chakushin migrate` while it runs its own embedded PostgreSQL: the server is stopped too', async () => {
  const varDir = path.join(dir, 'var');
  const env: NodeJS.ProcessEnv = { ...process.env, VAR_DIR: varDir, EMBEDDED_PG_PORT: String(await freePort('tcp')), LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, [BIN, 'migrate'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  // The server is launched once its postmaster.pid is written (after initdb on this fresh folder).
  const deadline = Date.now() + 90_000;
  while (!existsSync(path.join(varDir, 'pgdata', 'postmaster.pid')) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(child.exitCode, out).toBeNull();
  process.kill(-child.pid!, 'SIGINT');
  const end = await exited;
  await new Promise((r) => setTimeout(r, 500));
  expect(leftRunning(varDir), out).toEqual([]);
  // Cut short (130), or done just before the signal came (0): either way, by itself.
  expect(end.signal, out).toBeNull();
  expect([0, 130], out).toContain(end.code);
  if (end.code === 130) expect(out).toContain('chakushin migrate: interrupted by SIGINT');
}, 120_000);
