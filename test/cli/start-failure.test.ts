// A part that cannot start is named in one line with its cause and what to set; no stack trace.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { serviceListenEnv } from '../support/ports.ts';

let db: TestDatabase;
let varDir: string;
let squatter: net.Server;
let takenPort: number;

beforeAll(async () => {
  db = await createTestDatabase();
  varDir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-startfail-'));
  squatter = net.createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  takenPort = (squatter.address() as net.AddressInfo).port;
});
afterAll(async () => {
  squatter.close();
  await db.drop();
  await rm(varDir, { recursive: true, force: true });
});

async function env(extra: Record<string, string>): Promise<Record<string, string>> {
  return { VAR_DIR: varDir, ...(await serviceListenEnv()), ...extra };
}

function oneLine(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('chakushin:'));
}

describe('chakushin start, when a part cannot start', () => {
  it('names embedded PostgreSQL and the taken port', async () => {
    const r = await runCli(['start'], await env({ EMBEDDED_PG_PORT: String(takenPort) }));
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([`chakushin: embedded PostgreSQL did not start: port ${takenPort} is in use by another program; set EMBEDDED_PG_PORT or stop it`]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('names the SMTP catcher and its address', async () => {
    const r = await runCli(['start'], await env({ DATABASE_URL: db.url, SMTP_CATCHER_LISTEN: `127.0.0.1:${takenPort}` }));
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([`chakushin: SMTP catcher did not start: 127.0.0.1:${takenPort} is in use by another program; set SMTP_CATCHER_LISTEN`]);
  });

  it('names the HTTP port', async () => {
    const r = await runCli(['start'], await env({ DATABASE_URL: db.url, HTTP_LISTEN: `127.0.0.1:${takenPort}` }));
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([`chakushin: HTTP did not start: 127.0.0.1:${takenPort} is in use by another program; set HTTP_LISTEN`]);
  });

  it('names the settings site', async () => {
    const r = await runCli(['start'], await env({ DATABASE_URL: db.url, SITE_LISTEN: `127.0.0.1:${takenPort}` }));
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([`chakushin: settings site did not start: 127.0.0.1:${takenPort} is in use by another program; set SITE_LISTEN`]);
  });
});
