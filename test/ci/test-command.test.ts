// `npm test` must be able to fail: a deliberately failing test file, run through the same
// vitest config (and so the same global setup that starts PostgreSQL), exits non-zero.
// An exit hook in a dependency once turned every failing run into exit 0.
import { spawnSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

async function runThroughTestCommand(body: string): Promise<{ status: number | null; output: string }> {
  // Made at run time (this suite's own file list was collected already), removed after.
  const file = path.join(root, 'test', 'ci', `probe-${randomBytes(4).toString('hex')}.test.ts`);
  await writeFile(file, `import { it } from 'vitest';\n${body}\n`);
  try {
    const r = spawnSync(process.execPath, [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'test/vitest.config.ts', path.relative(root, file)], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true' },
      timeout: 120_000,
    });
    return { status: r.status, output: r.stdout + r.stderr };
  } finally {
    await rm(file, { force: true });
  }
}

it('exits non-zero when a test fails', async () => {
  const r = await runThroughTestCommand(`it('fails on purpose', () => { throw new Error('deliberate'); });`);
  expect(r.output).toMatch(/1 failed/);
  expect(r.status).not.toBe(0);
});

it('exits 0 when every test passes', async () => {
  const r = await runThroughTestCommand(`it('passes', () => {});`);
  expect(r.output).toMatch(/1 passed/);
  expect(r.status).toBe(0);
});
