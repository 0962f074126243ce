// The settings site on its own for browser tests: a fresh database, provisioned contracts, the
// site on a free port with a clock the test moves, and temp passwords set as the IVR sets them.
import type { Page } from 'playwright-core';
import { loadConfig, type Config, type ConfigInput } from '../../src/config.ts';
import type { Clock } from '../../src/domain/clock.ts';
import { createLogger } from '../../src/logger.ts';
import type { SiteServer } from '../../src/site/foundation.ts';
import { startSettingsSite } from '../../src/site/index.ts';
import { hashPassword } from '../../src/store/password-hash.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { loadSiteAccount, setSitePassword, type SiteAccount } from '../../src/store/site-accounts.ts';
import type { AuthUnit } from '../../src/domain/subscriber.ts';
import { setTempPassword } from '../../src/store/temp-passwords.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

export interface TestClock extends Clock {
  advance(ms: number): void;
  /** Back to real time. */
  reset(): void;
}

/** Real time plus an offset the test moves forward (the database's own now() stays real). */
export function testClock(): TestClock {
  let offset = 0;
  return { now: () => new Date(Date.now() + offset), advance: (ms) => void (offset += ms), reset: () => void (offset = 0) };
}

export interface SiteHarness {
  db: TestDatabase;
  config: Config;
  clock: TestClock;
  site: SiteServer;
  url: string;
  setTemp(number: string, password: string, unit: AuthUnit): Promise<void>;
  /** A password as if set on the site at the clock's now. */
  setPassword(number: string, password: string): Promise<void>;
  /** The account's counters and lock, as stored. */
  account(number: string): Promise<SiteAccount | undefined>;
  /** Audit actions about a number, oldest first. */
  auditActions(number: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startSiteHarness(provisioning: unknown, overrides: ConfigInput = {}): Promise<SiteHarness> {
  const db = await createTestDatabase();
  await applyProvisioning(db.pool, provisioning);
  // Suites not about ワンタイムパスワード run with it off; test/otp turns it on. The test's own address
  // is trusted as the TLS proxy, so a page can say which client it speaks for (fromAddress).
  const config = loadConfig({
    env: { DATABASE_URL: db.url, SITE_LISTEN: '127.0.0.1:0', SITE_TRUSTED_PROXIES: '127.0.0.1' },
    overrides: { otp: { regions: { east: false, west: false } }, ...overrides },
  });
  const clock = testClock();
  const site = await startSettingsSite({ pool: db.pool, config, clock, logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') });
  const url = `http://127.0.0.1:${site.port}`;
  return {
    db,
    config,
    clock,
    site,
    url,
    async setTemp(number, password, unit) {
      await setTempPassword(db.pool, { loginNumber: number, realm: 'site', authUnit: unit, password, ttlHours: config.ivr.tempPasswordTtlHours });
      // As if set at the clock's now (the IVR stamps it with the database's, which the test clock runs ahead of).
      const at = clock.now();
      await db.pool.query("update temp_password set created_at = $2, expires_at = $3 where login_number = $1 and realm = 'site'", [number, at, new Date(at.getTime() + config.ivr.tempPasswordTtlHours * 3_600_000)]);
    },
    async setPassword(number, password) {
      await setSitePassword(db.pool, number, await hashPassword(password), clock.now());
    },
    account: (number) => loadSiteAccount(db.pool, number),
    async auditActions(number) {
      const { rows } = await db.pool.query<{ action: string }>('select action from audit_log where subject = $1 order by id', [number]);
      return rows.map((r) => r.action);
    },
    async stop() {
      await site.close();
      await db.drop();
    },
  };
}

/** The page's requests come from client `ip` from now on (as the TLS proxy forwards it); undefined: the test's own. */
export async function fromAddress(page: Page, ip: string | undefined): Promise<void> {
  await page.setExtraHTTPHeaders(ip ? { 'x-forwarded-for': ip } : {});
}

/**
 * `count` attempts at a number as strangers spread over many addresses make them: each address within
 * its share of the number's strikes (site.loginThrottle.perSourceFailures), each attempt after the
 * number's delay has passed (the clock moves on). The page speaks for the test's own address after.
 */
export async function fromManyAddresses(page: Page, h: SiteHarness, count: number, attempt: (i: number) => Promise<void>): Promise<void> {
  const { perSourceFailures } = h.config.site.loginThrottle;
  for (let i = 0; i < count; i++) {
    await fromAddress(page, `198.51.100.${Math.floor(i / perSourceFailures) + 1}`);
    waitOutLoginDelay(h);
    await attempt(i);
  }
  await fromAddress(page, undefined);
  waitOutLoginDelay(h);
}

/** Wrong logins on the ログイン screen, from many addresses (fromManyAddresses). */
export function wrongLoginsFromMany(page: Page, h: SiteHarness, number: string, count: number, password = 'wrong9x4q'): Promise<void> {
  return fromManyAddresses(page, h, count, () => logIn(page, h.url, number, password));
}

/** Moves the clock past the longest delay a number's failures can bring (site.loginThrottle.delayMaxSec). */
export function waitOutLoginDelay(h: SiteHarness): void {
  h.clock.advance(h.config.site.loginThrottle.delayMaxSec * 1000 + 1000);
}

/** Logs in through the ログイン screen as a subscriber does. */
export async function logIn(page: Page, url: string, number: string, password: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel('電話番号').fill(number);
  await page.getByLabel('パスワード', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'ログイン' }).click();
}

/** The forced パスワード変更 after a temp-password login. */
export async function changePassword(page: Page, current: string, next: string, confirm = next): Promise<void> {
  await page.getByLabel('現在のパスワード').fill(current);
  await page.getByLabel('新しいパスワード', { exact: true }).fill(next);
  await page.getByLabel('新しいパスワード（確認）').fill(confirm);
  await page.getByRole('button', { name: 'パスワード変更' }).click();
}

/** The page's h1, as a subscriber sees which screen they are on. */
export const heading = (page: Page) => page.getByRole('heading', { level: 1 }).textContent();

/** Every refusal the page shows, as a person reads them: the error summary and the messages at the fields. */
export async function refusals(page: Page): Promise<string> {
  return (await page.locator('[role="alert"], .field-error').allTextContents()).join('\n');
}

/** The message shown at a group of radio buttons (its fieldset's description), found by its legend. */
export async function groupError(page: Page, legend: string): Promise<string | null> {
  const group = page.getByRole('group', { name: legend, exact: true });
  const id = await group.getAttribute('aria-describedby');
  return id ? page.locator(`[id="${id}"]`).textContent() : null;
}

/** The message shown next to a field (its accessible description). */
export async function fieldError(page: Page, label: string, exact = true): Promise<string | null> {
  const field = page.getByLabel(label, { exact });
  const id = await field.getAttribute('aria-describedby');
  return id ? page.locator(`[id="${id}"]`).textContent() : null;
}
