// The sites' rate limits are counted in PostgreSQL: two site instances on one database (as behind
// the balancer) share every limit, over real HTTP. Also: the window reopens once it has passed,
// parallel hits never let more than the limit through, and with the counter's database gone the
// limited routes are refused, not let through.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type ConfigInput } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import type { SiteServer } from '../../src/site/foundation.ts';
import { startSettingsSite } from '../../src/site/index.ts';
import { hashPassword } from '../../src/store/password-hash.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { countHit, pruneRateLimits } from '../../src/store/rate-limit.ts';
import { loadSiteAccount, setSitePassword } from '../../src/store/site-accounts.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { testClock } from '../support/site.ts';
import { waitFor } from '../support/wait.ts';

const n = (i: number) => `0653${i + 10}7391`;
const CONTRACTS = {
  contracts: Array.from({ length: 4 }, (_, i) => ({
    id: `R${i}`, region: 'west', pattern: 'A', authUnit: 'line', numbers: [{ number: n(i), role: 'main', services: ['chakushin_mail'] }],
  })),
};
const TOKENS = { W0099: 'tok-rl-W0099-0123456789abcdefghijklmnop', W0100: 'tok-rl-W0100-0123456789abcdefghijklmnop' };
const sha256 = (t: string) => createHash('sha256').update(t).digest('hex');
const LINE = '2001:db8:9999::1';

let db: TestDatabase;
const running: { site: SiteServer; pool: pg.Pool }[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
  await applyProvisioning(db.pool, CONTRACTS);
  for (let i = 0; i < CONTRACTS.contracts.length; i++) await setSitePassword(db.pool, n(i), await hashPassword('k7q2m9x4'), new Date());
});
// Each test starts from no counts (every hit here comes from 127.0.0.1).
beforeEach(async () => {
  await db.pool.query('delete from rate_limit');
});
afterAll(async () => {
  for (const r of running.splice(0)) {
    await r.site.close();
    await r.pool.end();
  }
  await db?.drop();
});

/** One site instance with its own connection pool, as a second process would have. */
async function instance(overrides: ConfigInput, url = db.url): Promise<string> {
  const config = loadConfig({
    env: { DATABASE_URL: url, SITE_LISTEN: '127.0.0.1:0' },
    overrides: {
      otp: { regions: { east: false, west: false } },
      ...overrides,
      // Instances behind one proxy share the secret, so a form from one posts to the other.
      site: { sessionSecret: 'rate-limit-test-secret-0123456789abcdef', ...overrides.site },
      lineInfo: { providerTokens: Object.entries(TOKENS).map(([provider, token]) => ({ provider, sha256: sha256(token) })), ...overrides.lineInfo },
    },
  });
  const pool = new pg.Pool({ connectionString: url, max: 5 });
  // As the service's own pool does (src/store/database.ts): a lost idle connection is replaced, not
  // fatal — and these pools' clients may still be closing when the test database is dropped.
  pool.on('error', () => undefined);
  const site = await startSettingsSite({ pool, config, clock: testClock(), logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') });
  running.push({ site, pool });
  return `http://127.0.0.1:${site.port}`;
}

const pair = (overrides: ConfigInput) => Promise.all([instance(overrides), instance(overrides)]);

/** The ログイン form's CSRF token and cookie, from the login page as a browser gets them. */
async function loginForm(url: string): Promise<{ cookie: string; csrf: string }> {
  const page = await fetch(`${url}/`);
  const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]! };
}

async function logIn(url: string, form: { cookie: string; csrf: string }, number: string, password: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { cookie: form.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: form.csrf, number, password }),
  });
  return { status: res.status, text: await res.text() };
}

async function lookup(url: string, token?: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}/line-info/api/v1/customer-id?line=${encodeURIComponent(LINE)}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: await res.json() };
}

const LIMITED_PAGE = 'しばらくお待ちください';
/** These tests are about the per-address limit alone: the per-number throttle (its own tests) stays out of the way. */
const UNTHROTTLED = { perSourceFailures: 1000, freeFailures: 1000 };

describe('shared by every instance', () => {
  it('the login pages share one allowance per client: tries spread over the new and the legacy login are refused at the max', async () => {
    const url = await instance({ site: { loginRateLimit: { max: 4, windowSec: 600 }, loginThrottle: UNTHROTTLED } });
    const form = await loginForm(url);
    const legacyLogIn = async () => {
      const res = await fetch(`${url}/legacy/chakushin-mail/login`, {
        method: 'POST', redirect: 'manual',
        headers: { cookie: form.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: form.csrf, number: n(3), password: 'wrong9x4q' }),
      });
      await res.arrayBuffer();
      return res.status;
    };
    const answers = [(await logIn(url, form, n(3), 'wrong9x4q')).status, await legacyLogIn(), (await logIn(url, form, n(3), 'wrong9x4q')).status, await legacyLogIn()];
    expect(answers.map((s) => s === 429)).toEqual([false, false, false, false]);
    expect((await logIn(url, form, n(3), 'k7q2m9x4')).status).toBe(429);
    expect(await legacyLogIn()).toBe(429);
  });

  it('the login limit holds across two instances: hits split between them are refused at the configured max', async () => {
    const [a, b] = await pair({ site: { loginRateLimit: { max: 4, windowSec: 600 }, loginThrottle: UNTHROTTLED } });
    const form = await loginForm(a);
    const answers = [];
    for (const url of [a, b, a, b]) answers.push((await logIn(url, form, n(0), 'wrong9x4q')).status);
    expect(answers).toEqual([401, 401, 401, 401]);
    for (const url of [a, b]) {
      const refused = await logIn(url, form, n(0), 'k7q2m9x4');
      expect(refused.status).toBe(429);
      expect(refused.text).toContain(LIMITED_PAGE);
    }
    // The refused hits never reached the per-number counter.
    expect((await loadSiteAccount(db.pool, n(0)))!.password!.failedAttempts).toBe(4);
  });

  it('the line-info lookup limit holds across two instances, per token', async () => {
    const [a, b] = await pair({ lineInfo: { lookupRateLimit: { max: 4, windowSec: 600 } } });
    for (const url of [a, b, a, b]) expect(await lookup(url, TOKENS.W0099)).toEqual({ status: 404, body: { error: 'not_available' } });
    for (const url of [a, b]) expect(await lookup(url, TOKENS.W0099)).toEqual({ status: 429, body: { error: 'rate_limited' } });
    // Another token has its own count, on either instance.
    expect((await lookup(b, TOKENS.W0100)).status).toBe(404);
    // The counters are keyed by route and a digest of the token, never the token.
    const { rows } = await db.pool.query<{ key: string }>('select key from rate_limit');
    expect(rows.length).toBe(2);
    for (const { key } of rows) {
      expect(key).toMatch(/^GET \/line-info\/api\/v1\/customer-id token:/);
      expect(key).not.toContain('tok-');
    }
  });
});

describe('the window', () => {
  it('opens again once it has passed', async () => {
    const [a, b] = await pair({ lineInfo: { lookupRateLimit: { max: 2, windowSec: 2 } } });
    // Hits from both instances until one is refused: the third inside one window (a window that
    // passes between hits only starts the count again).
    const seen: number[] = [];
    for (let i = 0; i < 30 && !seen.includes(429); i++) seen.push((await lookup(i % 2 ? b : a, TOKENS.W0099)).status);
    expect(seen.at(-1)).toBe(429);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    const reopened = await waitFor(() => lookup(b, TOKENS.W0099), (r) => r.status !== 429, 15_000, 100);
    expect(reopened).toEqual({ status: 404, body: { error: 'not_available' } });
  });
});

describe('parallel hits', () => {
  it('never let more than the login limit through, split across two instances', async () => {
    const [a, b] = await pair({ site: { loginRateLimit: { max: 5, windowSec: 600 }, loginThrottle: UNTHROTTLED } });
    const form = await loginForm(a);
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => logIn(i % 2 ? a : b, form, n(1), 'wrong9x4q')));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401).length).toBe(5);
    expect(statuses.filter((s) => s === 429).length).toBe(19);
    expect((await loadSiteAccount(db.pool, n(1)))!.password!.failedAttempts).toBe(5);
  });

  it('never let more than the lookup limit through, split across two instances', async () => {
    const [a, b] = await pair({ lineInfo: { lookupRateLimit: { max: 6, windowSec: 600 } } });
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => lookup(i % 2 ? a : b, TOKENS.W0100)));
    expect(answers.filter((r) => r.status === 404).length).toBe(6);
    expect(answers.filter((r) => r.status === 429).length).toBe(24);
  });
});

describe('the counter', () => {
  it('counts hits in a fixed window and reports what is left of it', async () => {
    const hits = [];
    for (let i = 0; i < 3; i++) hits.push(await countHit(db.pool, 'test:count', 600_000));
    expect(hits.map((h) => h.hits)).toEqual([1, 2, 3]);
    for (const h of hits) {
      expect(h.ttlMs).toBeGreaterThan(0);
      expect(h.ttlMs).toBeLessThanOrEqual(600_000);
    }
  });

  it('ended windows are swept; live ones stay', async () => {
    await countHit(db.pool, 'test:ended', 1);
    await countHit(db.pool, 'test:live', 600_000);
    const keys = async () => (await db.pool.query<{ key: string }>('select key from rate_limit order by key')).rows.map((r) => r.key);
    const left = await waitFor(async () => (await pruneRateLimits(db.pool), keys()), (k) => !k.includes('test:ended'));
    expect(left).toEqual(['test:live']);
  });
});

describe('without the database', () => {
  it('fails closed: a login and a lookup are refused with 503, not let through uncounted', async () => {
    // A database that is not there: nothing listens on the port.
    const gone = await instance({ site: { loginRateLimit: { max: 4, windowSec: 600 } } }, `postgres://chakushin@127.0.0.1:${await freePort('tcp')}/gone`);
    const form = await loginForm(gone);
    const login = await logIn(gone, form, n(2), 'k7q2m9x4');
    expect(login.status).toBe(503);
    expect(login.text).toContain('ただいま処理できません');
    expect(await lookup(gone, TOKENS.W0099)).toEqual({ status: 503, body: { error: 'unavailable' } });
  });
});
