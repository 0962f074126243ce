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
  // Suites not about ワンタイムパスワード run with it off; test/otp turns it on.
  const config = loadConfig({ env: { DATABASE_URL: db.url, SITE_LISTEN: '127.0.0.1:0' }, overrides: { otp: { regions: { east: false, west: false } }, ...overrides } });
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

/** The message shown next to a field (its accessible description). */
export async function fieldError(page: Page, label: string, exact = true): Promise<string | null> {
  const field = page.getByLabel(label, { exact });
  const id = await field.getAttribute('aria-describedby');
  return id ? page.locator(`[id="${id}"]`).textContent() : null;
}
