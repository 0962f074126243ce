// npm run bench:site-numbers [-- --seconds 5] [-- --connections 10]
//
// 電話番号選択 of a 1,000-number contract (logged in as its main number, 回線単位): the unfiltered
// first page and a '*' search, against the same server's static stylesheet as the baseline, with
// autocannon on embedded PostgreSQL (or DATABASE_URL). Prints req/s, p50/p99 and the ratio.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { systemClock } from '../../src/domain/clock.ts';
import { createLogger } from '../../src/logger.ts';
import { startSettingsSite } from '../../src/site/index.ts';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres.ts';
import { migrate } from '../../src/store/migrate.ts';
import { hashPassword } from '../../src/store/password-hash.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { setSitePassword } from '../../src/store/site-accounts.ts';
import { freePort } from '../support/ports.ts';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? def) : def;
}
const seconds = Number(arg('seconds', '5'));
const connections = Number(arg('connections', '10'));
const num = (i: number) => `0355${String(i).padStart(6, '0')}`;
const PW = 'k7q2m9x4';

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'chakushin-bench-site-'));
  // As root, PostgreSQL runs as its own user and must reach the data directory.
  await chmod(tmp, 0o755);
  let url = process.env.DATABASE_URL;
  let stopPg: (() => Promise<void>) | undefined;
  if (!url) {
    const embedded = await startEmbeddedPostgres({ dataDir: path.join(tmp, 'pg'), port: await freePort('tcp'), persistent: false });
    url = embedded.url;
    stopPg = embedded.stop;
  }
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', () => {});
  await migrate(pool);
  await applyProvisioning(pool, {
    contracts: [{ id: 'BENCH1000', region: 'west', pattern: 'A', authUnit: 'line', numbers: Array.from({ length: 1000 }, (_, i) => ({ number: num(i), role: i ? 'additional' : 'main', services: ['chakushin_mail'] })) }],
  });
  await setSitePassword(pool, num(0), await hashPassword(PW), new Date());
  const config = loadConfig({ env: { DATABASE_URL: url, SITE_LISTEN: '127.0.0.1:0' }, overrides: { site: { loginRateLimit: { max: 1000, windowSec: 60 } } } });
  const site = await startSettingsSite({ pool, config, clock: systemClock, logger: createLogger('silent') });
  const base = `http://127.0.0.1:${site.port}`;

  // Log in as a browser would: the form's CSRF token and cookie, then the session cookie.
  const jar = new Map<string, string>();
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      jar.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const loginPage = await fetch(`${base}/`);
  keep(loginPage);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await loginPage.text())![1]!;
  const login = await fetch(`${base}/login`, { method: 'POST', redirect: 'manual', headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, number: num(0), password: PW }) });
  keep(login);
  if (login.status !== 303 || !jar.has('sid')) throw new Error(`login failed: ${login.status}`);

  const run = (p: string) => autocannon({ url: `${base}${p}`, connections, duration: seconds, headers: { cookie: cookie() } });
  const check = await fetch(`${base}/chakushin-mail?q=0355*99`, { headers: { cookie: cookie() } });
  if (check.status !== 200 || !(await check.text()).includes('0355000999')) throw new Error('search page not served');

  const rows: [string, Awaited<ReturnType<typeof autocannon>>][] = [];
  for (const [name, p] of [['baseline /static/site.css', '/static/site.css'], ['電話番号選択 page 1', '/chakushin-mail'], ["電話番号選択 q=0355*99", '/chakushin-mail?q=0355*99']] as const) {
    rows.push([name, await run(p)]);
  }
  const baseRps = rows[0]![1].requests.average;
  for (const [name, r] of rows) {
    const bad = r.non2xx + r.errors;
    console.log(`${name.padEnd(28)} ${r.requests.average.toFixed(0).padStart(6)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  ratio ${(r.requests.average / baseRps).toFixed(2)}${bad ? `  (${bad} non-2xx/errors)` : ''}`);
  }
  await site.close();
  await pool.end();
  await stopPg?.();
  await rm(tmp, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
