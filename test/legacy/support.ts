// Helpers for the legacy site (サービス設定ホームページ) tests: its temp password as the pattern B IVR
// stores it, a legacy password as the old site stored it, and logging in through its screens.
import type { Page } from 'playwright-core';
import type pg from 'pg';
import { hashPassword } from '../../src/store/password-hash.ts';
import { setLegacyPassword, type LegacyRealm } from '../../src/store/legacy-accounts.ts';
import { setTempPassword } from '../../src/store/temp-passwords.ts';

export const LEGACY = '/legacy';

/** As the pattern B IVR sets it; `at`: as if set at that time of the test's clock (the IVR stamps the database's). */
export async function setLegacyTemp(pool: pg.Pool, number: string, realm: LegacyRealm, password: string, at?: Date): Promise<void> {
  await setTempPassword(pool, { loginNumber: number, realm, password, ttlHours: 24 });
  if (at) await pool.query('update temp_password set created_at = $3, expires_at = $4 where login_number = $1 and realm = $2', [number, realm, at, new Date(at.getTime() + 24 * 3_600_000)]);
}

/** A password the subscriber set on the old site before (the FAXお知らせメール site is not built here). */
export async function setOldPassword(pool: pg.Pool, number: string, realm: LegacyRealm, password: string): Promise<void> {
  await setLegacyPassword(pool, number, realm, await hashPassword(password), new Date());
}

export async function lockOldPassword(pool: pg.Pool, number: string, realm: LegacyRealm): Promise<void> {
  await pool.query(`update password set failed_attempts = 10, locked_at = now() where login_number = $1 and realm = $2`, [number, realm]);
}

/** トップ → 着信お知らせメール → ログイン → 次へ, as the guide shows it. */
export async function legacyLogIn(page: Page, url: string, number: string, password: string, opts: { fromTop?: boolean } = {}): Promise<void> {
  if (opts.fromTop ?? true) {
    await page.goto(`${url}${LEGACY}/`);
    await page.getByRole('link', { name: '着信お知らせメール' }).click();
  } else {
    await page.goto(`${url}${LEGACY}/chakushin-mail`);
  }
  await page.getByLabel('電話番号').fill(number);
  await page.getByLabel('パスワード', { exact: true }).fill(password);
  await page.getByRole('button', { name: '次へ' }).click();
}

export async function setFirstPassword(page: Page, temp: string, next: string, confirm = next): Promise<void> {
  await page.getByLabel('電話で設定したパスワード').fill(temp);
  await page.getByLabel('新しいパスワード', { exact: true }).fill(next);
  await page.getByLabel('新しいパスワード（確認）').fill(confirm);
  await page.getByRole('button', { name: '設定', exact: true }).click();
}

export const heading = (page: Page) => page.getByRole('heading', { level: 1 }).textContent();
