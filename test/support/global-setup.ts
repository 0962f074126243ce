// Starts one real PostgreSQL (embedded) for the whole test run; each test file makes
// its own database on it with createTestDatabase(), so files can run in parallel.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/store/embedded-postgres.ts';
import { freePort } from './ports.ts';

let db: EmbeddedDatabase | undefined;
let dir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-test-pg-'));
  // mkdtemp makes the folder 0700; as root, PostgreSQL runs as its own user and must reach it.
  await chmod(dir, 0o755);
  db = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port: await freePort('tcp'), persistent: false });
  project.provide('pgAdminUrl', db.url);
}

export async function teardown(): Promise<void> {
  await db?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}
