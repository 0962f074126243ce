// The embedded PostgreSQL driver: its own socket folder, a per-instance secret, and knowing
// its own server after a crash (postmaster.pid) instead of whatever answers on the port.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres.ts';
import { freePort } from '../support/ports.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-embedded-'));
  // As root the server runs as its own user, which must reach the folder (mkdtemp makes it 0700).
  await chmod(dir, 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function answers(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Starts the database from another process (a stand-in for a running service). */
async function holder(dataDir: string, port: number): Promise<{ url: string; crash(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures/hold-embedded-postgres.ts'), dataDir, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (b: Buffer) => resolve(b.toString().trim()));
    child.once('exit', (code) => reject(new Error(`holder exited ${code}`)));
  });
  return {
    url,
    async crash() {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

function serverPid(dataDir: string): number {
  return Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

describe('embedded PostgreSQL', () => {
  it('keeps its socket in its own data directory, not the shared temporary one', async () => {
    const port = await freePort('tcp');
    const dataDir = path.join(dir, 'socket');
    const db = await startEmbeddedPostgres({ dataDir, port, persistent: false });
    try {
      expect(existsSync(path.join(dataDir, `.s.PGSQL.${port}.lock`))).toBe(true);
      expect(existsSync(path.join(os.tmpdir(), `.s.PGSQL.${port}.lock`))).toBe(false);
    } finally {
      await db.stop();
    }
  });

  it('uses a secret of its own instance, not a fixed password', async () => {
    const a = await startEmbeddedPostgres({ dataDir: path.join(dir, 'a'), port: await freePort('tcp'), persistent: false });
    const b = await startEmbeddedPostgres({ dataDir: path.join(dir, 'b'), port: await freePort('tcp'), persistent: false });
    try {
      const secret = (u: string) => new URL(u).password;
      expect(secret(a.url)).not.toBe(secret(b.url));
      expect(secret(a.url).length).toBeGreaterThanOrEqual(24);
      // b's secret does not open a.
      const crossed = new URL(a.url);
      crossed.password = secret(b.url);
      expect(await answers(crossed.toString())).toBe(false);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('after its owner was killed, adopts its own server and stops it at the end', async () => {
    const port = await freePort('tcp');
    const dataDir = path.join(dir, 'crash');
    const service = await holder(dataDir, port);
    await service.crash();
    const pid = serverPid(dataDir);
    expect(alive(pid)).toBe(true);
    const db = await startEmbeddedPostgres({ dataDir, port, persistent: false });
    expect(db.url).toBe(service.url);
    expect(await answers(db.url)).toBe(true);
    await db.stop();
    expect(alive(pid)).toBe(false);
  });

  it('does not adopt another server that answers on its port', async () => {
    const port = await freePort('tcp');
    const other = await startEmbeddedPostgres({ dataDir: path.join(dir, 'other'), port, persistent: false });
    try {
      await expect(startEmbeddedPostgres({ dataDir: path.join(dir, 'mine'), port, persistent: false })).rejects.toThrow(
        `embedded PostgreSQL did not start: port ${port} is in use by another program; set EMBEDDED_PG_PORT or stop it`,
      );
      expect(await answers(other.url)).toBe(true);
    } finally {
      await other.stop();
    }
  });

  it('shares the server of a live owner and leaves it running', async () => {
    const port = await freePort('tcp');
    const dataDir = path.join(dir, 'shared');
    const service = await holder(dataDir, port);
    const pid = serverPid(dataDir);
    try {
      const cli = await startEmbeddedPostgres({ dataDir, port });
      expect(cli.url).toBe(service.url);
      await cli.stop();
      expect(alive(pid)).toBe(true);
      expect(await answers(service.url)).toBe(true);
    } finally {
      await service.crash();
      await (await startEmbeddedPostgres({ dataDir, port, persistent: false })).stop();
    }
    expect(alive(pid)).toBe(false);
  });
});
