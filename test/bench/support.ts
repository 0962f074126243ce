// What the benchmarks share: their `--name value` options, percentiles, a migrated database in a
// scratch directory, a logged-in settings-site session, and an engine in a child process of its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres.ts';
import { migrate } from '../../src/store/migrate.ts';
import { freePort } from '../support/ports.ts';

/** The value after `--name` on the command line, or `def`. */
export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] ?? def : def;
}

/** The p-th percentile (0–100) of `values`; NaN for none. */
export function pct(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = Float64Array.from(values).sort();
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

export interface BenchDatabase {
  url: string;
  pool: pg.Pool;
  /** A scratch directory of the run's own (the embedded server's data lives in it too). */
  dir: string;
  /** Ends the pool, stops the embedded server and removes the directory. */
  close(): Promise<void>;
}

/** Embedded PostgreSQL in a fresh scratch directory, or DATABASE_URL when set; migrated. */
export async function benchDatabase(name: string): Promise<BenchDatabase> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `chakushin-bench-${name}-`));
  // As root, PostgreSQL runs as its own user and must reach the data directory.
  await chmod(dir, 0o755);
  let url = process.env.DATABASE_URL;
  let stopPg: (() => Promise<void>) | undefined;
  if (!url) {
    const embedded = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: await freePort('tcp'), persistent: false });
    url = embedded.url;
    stopPg = embedded.stop;
  }
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', () => {}); // idle connections cut when the embedded server stops at the end
  await migrate(pool);
  return {
    url,
    pool,
    dir,
    async close() {
      await pool.end();
      await stopPg?.();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface SiteSession {
  /** The login form's CSRF cookie(s), for POSTing the form again. */
  formCookie: string;
  csrf: string;
  /** Every cookie a browser holds once logged in (the form's and the session's). */
  cookie: string;
}

/** Logs in as a browser would: the form's CSRF token and cookie, then the session cookie. */
export async function logInToSite(base: string, number: string, password: string): Promise<SiteSession> {
  const jar = new Map<string, string>();
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      jar.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
  };
  const cookies = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const form = await fetch(`${base}/`);
  keep(form);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!csrf) throw new Error('no CSRF token on the login page');
  const formCookie = cookies();
  const login = await fetch(`${base}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { cookie: formCookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, number, password }),
  });
  keep(login);
  if (login.status !== 303 || !jar.has('sid')) throw new Error(`login failed: ${login.status}`);
  return { formCookie, csrf, cookie: cookies() };
}

/**
 * This bench script again as a child process (`--engine-child` plus `args`), so an engine crash shows
 * as a dead child, not a dead bench. Requests and replies go over IPC, answered in order; the child
 * serves them with serveBenchParent.
 */
export class BenchChild {
  private pending: ((m: unknown) => void)[] = [];
  /** The exit code once the child is gone; undefined while it runs. */
  exited: number | null | undefined;
  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m) => this.pending.shift()?.(m));
    child.on('exit', (code) => {
      this.exited = code;
      for (const p of this.pending.splice(0)) p(undefined);
    });
  }

  static async start(script: string, args: string[], nodeArgs: string[] = []): Promise<BenchChild> {
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, '--engine-child', ...args], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const c = new BenchChild(child);
    const ready = await new Promise((resolve) => c.pending.push(resolve));
    if (ready === undefined) throw new Error(`engine child exited ${c.exited}`);
    return c;
  }

  /** The child's reply to `m`; undefined when the child is gone. */
  ask<T>(m: object): Promise<T | undefined> {
    if (this.exited !== undefined) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.pending.push(resolve as (m: unknown) => void);
      this.child.send(m);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  stop(): void {
    if (this.exited === undefined) this.child.disconnect();
  }
}

/** The child side of BenchChild: answers each request with `answer`, closes and exits when the parent lets go. */
export function serveBenchParent<M>(answer: (m: M) => unknown, close: () => Promise<void>): void {
  process.on('message', async (m: M) => process.send?.(await answer(m)));
  process.on('disconnect', () => {
    void close().then(() => process.exit(0));
  });
  process.send?.({ ready: true });
}
