// bench:site — the settings site under load, against embedded PostgreSQL (or DATABASE_URL).
// Three runs on one server, one after another: a static route (the stylesheet: Fastify, helmet and
// the cookie/session plugins, no database) as the baseline; a logged-in settings page (session
// read from PostgreSQL, 認証単位 scope, settings read, template); and login (two scrypt checks and
// a session write per request). Prints req/s, latency p50/p99 and each run's ratio to the baseline,
// and what one password check costs.
import os from 'node:os';
import autocannon from 'autocannon';
import pino from 'pino';
import { parseConfig } from '../../src/config.ts';
import { systemClock } from '../../src/domain/clock.ts';
import { startSettingsSite } from '../../src/site/index.ts';
import { hashPassword, verifyPassword } from '../../src/store/password-hash.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { setSitePassword } from '../../src/store/site-accounts.ts';
import { benchDatabase, logInToSite } from './support.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const NUMBER = '0611112222';
const PASSWORD = 'k7q2m9x4';

async function main() {
  const db = await benchDatabase('site');
  const { pool } = db;
  try {
    await applyProvisioning(pool, {
      contracts: [{ id: 'BENCH', region: 'west', pattern: 'A', authUnit: 'line', numbers: [{
        number: NUMBER, role: 'main', services: ['chakushin_mail'],
        notify: { started: true, destinations: [{ address: 'a@example.jp', send: true }, { address: 'b@example.jp', send: false }] },
      }] }],
    });
    await setSitePassword(pool, NUMBER, await hashPassword(PASSWORD), new Date());
    // One number logged in 4 at a time from one address is no subscriber: the per-address limit and
    // the per-number throttle (its transaction still runs on every login) let the load through.
    const config = parseConfig({
      site: { listen: { host: '127.0.0.1', port: 0 }, loginRateLimit: { max: 1_000_000, windowSec: 60 }, loginThrottle: { perSourceFailures: 1_000_000, freeFailures: 1_000_000 } },
    });
    const site = await startSettingsSite({ pool, config, clock: systemClock, logger: pino({ level: 'warn' }) });
    const base = `http://127.0.0.1:${site.port}`;
    try {
      const hashMs = await passwordCheckMs();
      const session = await logInToSite(base, NUMBER, PASSWORD);
      const page = `${base}/chakushin-mail/${NUMBER}/destinations`;
      const check = await fetch(page, { headers: { cookie: session.cookie } });
      if (check.status !== 200 || !(await check.text()).includes('送信先メールアドレス1')) throw new Error(`settings page not reachable logged in: ${check.status}`);

      const run = async (name: string, opts: Parameters<typeof autocannon>[0]) => {
        const r = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...opts });
        const ok = r['2xx'] + (r['3xx'] ?? 0);
        return { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, ok, bad: r.non2xx - (r['3xx'] ?? 0) + r.errors + r.timeouts };
      };
      const results = [
        await run('static route (baseline)', { url: `${base}/static/site.css` }),
        await run('logged-in settings page', { url: page, headers: { cookie: session.cookie } }),
        await run('login (POST, right password)', {
          url: `${base}/login`, method: 'POST', connections: 4,
          headers: { cookie: session.formCookie, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ _csrf: session.csrf, number: NUMBER, password: PASSWORD }).toString(),
        }),
      ];
      const baseline = results[0]!.rps;
      console.log(`bench:site — ${SECONDS} s per run, ${CONNECTIONS} connections (login: 4), ${os.cpus().length} cores`);
      console.log('topology measured: one settings-site server in the benchmark process on its own PostgreSQL (as the node of `npm start` runs it, without calls beside)');
      console.log(`one scrypt password check: ${hashMs.toFixed(0)} ms (login runs two, in parallel)`);
      console.log('run                            req/s   p50 ms  p99 ms  ratio  ok/failed');
      for (const r of results) {
        console.log(`${r.name.padEnd(30)} ${r.rps.toFixed(0).padStart(6)} ${String(r.p50).padStart(8)} ${String(r.p99).padStart(7)}  ${(r.rps / baseline).toFixed(2).padStart(5)}  ${r.ok}/${r.bad}`);
      }
    } finally {
      await site.close();
    }
  } finally {
    await db.close();
  }
}

async function passwordCheckMs(): Promise<number> {
  const hash = await hashPassword(PASSWORD);
  const start = process.hrtime.bigint();
  for (let i = 0; i < 5; i++) await verifyPassword(PASSWORD, hash);
  return Number(process.hrtime.bigint() - start) / 5e6;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
