// `npm ci` on the Node this machine and CI run (20.x) installs without a warning: every locked
// package's `engines` admits it. cookie 2 (through @fastify/cookie and fastify's light-my-request)
// wants Node ≥ 22, so package.json overrides it with cookie 1.1, which has the same API.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

it('npm ci reports no EBADENGINE for the lockfile on this Node', () => {
  // --dry-run reads the lockfile and checks engines as a real install does, and changes nothing.
  const r = spawnSync('npm', ['ci', '--dry-run', '--no-audit', '--no-fund'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  const output = r.stdout + r.stderr;
  expect(r.status, output).toBe(0);
  expect(output).not.toMatch(/EBADENGINE/);
});
