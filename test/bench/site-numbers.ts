// npm run bench:site-numbers [-- --seconds 5] [-- --connections 10]
//
// 電話番号選択 of a 1,000-number contract (logged in as its main number, 回線単位): the unfiltered
// first page and a '*' search, against the same server's static stylesheet as the baseline, with
// autocannon on embedded PostgreSQL (or DATABASE_URL). Prints req/s, p50/p99 and the ratio.
import autocannon from 'autocannon';
import { loadConfig } from '../../src/config.ts';
import { systemClock } from '../../src/domain/clock.ts';
import { createLogger } from '../../src/logger.ts';
import { startSettingsSite } from '../../src/site/index.ts';
import { hashPassword } from '../../src/store/password-hash.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { setSitePassword } from '../../src/store/site-accounts.ts';
import { arg, benchDatabase, logInToSite } from './support.ts';

const seconds = Number(arg('seconds', '5'));
const connections = Number(arg('connections', '10'));
const num = (i: number) => `0355${String(i).padStart(6, '0')}`;
const PW = 'k7q2m9x4';

async function main() {
  const db = await benchDatabase('site-numbers');
  const { pool, url } = db;
  await applyProvisioning(pool, {
    contracts: [{ id: 'BENCH1000', region: 'west', pattern: 'A', authUnit: 'line', numbers: Array.from({ length: 1000 }, (_, i) => ({ number: num(i), role: i ? 'additional' : 'main', services: ['chakushin_mail'] })) }],
  });
  await setSitePassword(pool, num(0), await hashPassword(PW), new Date());
  const config = loadConfig({ env: { DATABASE_URL: url, SITE_LISTEN: '127.0.0.1:0' }, overrides: { site: { loginRateLimit: { max: 1000, windowSec: 60 } } } });
  const site = await startSettingsSite({ pool, config, clock: systemClock, logger: createLogger('silent') });
  const base = `http://127.0.0.1:${site.port}`;
  console.log('topology measured: one settings-site server in the benchmark process on its own PostgreSQL (as the node of `npm start` runs it, without calls beside)');

  const { cookie } = await logInToSite(base, num(0), PW);

  const run = (p: string) => autocannon({ url: `${base}${p}`, connections, duration: seconds, headers: { cookie } });
  const check = await fetch(`${base}/chakushin-mail?q=0355*99`, { headers: { cookie } });
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
  await db.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
