// bench:site — the settings site under load, against embedded PostgreSQL (or DATABASE_URL).
// Three runs on one server, one after another: a static route (the stylesheet: Fastify, helmet and
// the cookie/session plugins, no database) as the baseline; a logged-in settings page (session
// read from PostgreSQL, 認証単位 scope, settings read, template); and login (two scrypt checks and
// a session write per request). Prints req/s, latency p50/p99 and each run's ratio to the baseline,
// and what one password check costs.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import pino from 'pino';
import { parseConfig } from '../../src/config.ts';
import { systemClock } from '../../src/domain/clock.ts';
import { startSettingsSite } from '../../src/site/index.ts';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres.ts';
import { migrate } from '../../src/store/migrate.ts';
import { hashPassword, verifyPassword } from '../../src/store/password-hash.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { setSitePassword } from '../../src/store/site-accounts.ts';
import { freePort } from '../support/ports.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const NUMBER = '0611112222';
const PASSWORD = 'k7q2m9x4';

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'chakushin-bench-site-'));
  await chmod(tmp, 0o755);
  let url = process.env.DATABASE_URL;
  let stopPg: (() => Promise<void>) | undefined;
  if (!url) {
    const embedded = await startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), port: await freePort('tcp'), persistent: false });
    url = embedded.url;
    stopPg = embedded.stop;
  }
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  try {
    await migrate(pool);
    await applyProvisioning(pool, {
      contracts: [{ id: 'BENCH', region: 'west', pattern: 'A', authUnit: 'line', numbers: [{
        number: NUMBER, role: 'main', services: ['chakushin_mail'],
        notify: { started: true, destinations: [{ address: 'a@example.jp', send: true }, { address: 'b@example.jp', send: false }] },
      }] }],
    });
    await setSitePassword(pool, NUMBER, await hashPassword(PASSWORD), new Date());
    const config = parseConfig({ site: { listen: { host: '127.0.0.1', port: 0 }, loginRateLimit: { max: 1_000_000, windowSec: 60 } } });
    const site = await startSettingsSite({ pool, config, clock: systemClock, logger: pino({ level: 'warn' }) });
    const base = `http://127.0.0.1:${site.port}`;
    try {
      const hashMs = await passwordCheckMs();
      const { cookie, csrf } = await loginForm(base);
      const sid = await logIn(base, cookie, csrf);
      const page = `${base}/chakushin-mail/${NUMBER}/destinations`;
      const check = await fetch(page, { headers: { cookie: `${cookie}; ${sid}` } });
      if (check.status !== 200 || !(await check.text()).includes('送信先メールアドレス1')) throw new Error(`settings page not reachable logged in: ${check.status}`);

      const run = async (name: string, opts: Parameters<typeof autocannon>[0]) => {
        const r = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...opts });
        const ok = r['2xx'] + (r['3xx'] ?? 0);
        return { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, ok, bad: r.non2xx - (r['3xx'] ?? 0) + r.errors + r.timeouts };
      };
      const results = [
        await run('static route (baseline)', { url: `${base}/static/site.css` }),
        await run('logged-in settings page', { url: page, headers: { cookie: `${cookie}; ${sid}` } }),
        await run('login (POST, right password)', {
          url: `${base}/login`, method: 'POST', connections: 4,
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ _csrf: csrf, number: NUMBER, password: PASSWORD }).toString(),
        }),
      ];
      const baseline = results[0]!.rps;
      console.log(`bench:site — ${SECONDS} s per run, ${CONNECTIONS} connections (login: 4), ${os.cpus().length} cores`);
      console.log(`one scrypt password check: ${hashMs.toFixed(0)} ms (login runs two, in parallel)`);
      console.log('run                            req/s   p50 ms  p99 ms  ratio  ok/failed');
      for (const r of results) {
        console.log(`${r.name.padEnd(30)} ${r.rps.toFixed(0).padStart(6)} ${String(r.p50).padStart(8)} ${String(r.p99).padStart(7)}  ${(r.rps / baseline).toFixed(2).padStart(5)}  ${r.ok}/${r.bad}`);
      }
    } finally {
      await site.close();
    }
  } finally {
    await pool.end();
    await stopPg?.();
    await rm(tmp, { recursive: true, force: true });
  }
}

async function passwordCheckMs(): Promise<number> {
  const hash = await hashPassword(PASSWORD);
  const start = process.hrtime.bigint();
  for (let i = 0; i < 5; i++) await verifyPassword(PASSWORD, hash);
  return Number(process.hrtime.bigint() - start) / 5e6;
}

/** The login page's CSRF cookie and token, as a browser gets them. */
async function loginForm(base: string): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${base}/`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await res.text())?.[1];
  if (!csrf) throw new Error('no CSRF token on the login page');
  return { cookie, csrf };
}

async function logIn(base: string, cookie: string, csrf: string): Promise<string> {
  const res = await fetch(`${base}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, number: NUMBER, password: PASSWORD }),
  });
  const sid = res.headers.getSetCookie().find((c) => c.startsWith('sid='));
  if (res.status !== 303 || !sid) throw new Error(`login failed: ${res.status}`);
  return sid.split(';')[0]!;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
