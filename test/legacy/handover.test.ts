// 設備変更工事 (pattern B → A) in a real browser: the operator re-provisions the contract with
// pattern A; the legacy site then refuses it; on the new site's login page 旧設定サイトからパスワード引継ぎ
// leads through the guide's cases 1–4 (000 p.124), each ending in a working login on the new site.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { openBrowser, type TestBrowser } from '../support/browser.ts';
import { changePassword, fromAddress, fromManyAddresses, logIn, refusals, startSiteHarness, type SiteHarness } from '../support/site.ts';
import { heading, legacyLogIn, lockOldPassword, setLegacyTemp, setOldPassword } from './support.ts';

type Num = { number: string; role: 'main' | 'additional'; services: string[] };
const both = ['chakushin_mail', 'fax_mail'];
const C: Record<string, Num[]> = {
  // case 1
  one8: [{ number: '0723010001', role: 'main', services: ['chakushin_mail'] }],
  faxOnly8: [{ number: '0723020001', role: 'main', services: ['fax_mail'] }],
  same8: [{ number: '0723030001', role: 'main', services: both }],
  lineSame8: [
    { number: '0723040001', role: 'main', services: ['chakushin_mail'] },
    { number: '0723040002', role: 'additional', services: ['fax_mail'] },
  ],
  // case 2
  short: [{ number: '0723050001', role: 'main', services: ['chakushin_mail'] }],
  rules8: [{ number: '0723060001', role: 'main', services: ['chakushin_mail'] }],
  temp: [{ number: '0723070001', role: 'main', services: ['chakushin_mail'] }],
  lockedOther: [{ number: '0723080001', role: 'main', services: both }],
  lockedOnly: [{ number: '0723090001', role: 'main', services: ['chakushin_mail'] }],
  // case 3
  diff8: [{ number: '0723100001', role: 'main', services: both }],
  lineDiff8: [
    { number: '0723110001', role: 'main', services: ['chakushin_mail'] },
    { number: '0723110002', role: 'additional', services: ['chakushin_mail'] },
  ],
  // case 4
  diffShort: [{ number: '0723120001', role: 'main', services: both }],
  diffTemp: [{ number: '0723130001', role: 'main', services: both }],
  // 10 wrong entries during the hand-over lock that old password
  strikes: [{ number: '0723150001', role: 'main', services: both }],
  // the legacy site refusing a migrated contract
  refused: [{ number: '0723140001', role: 'main', services: ['chakushin_mail'] }],
};
const provisioning = (pattern: 'A' | 'B') => ({
  contracts: Object.entries(C).map(([id, numbers]) => ({ id: `H-${id}`, region: 'west', pattern, authUnit: 'number', numbers })),
});

let h: SiteHarness;
let b: TestBrowser;
beforeAll(async () => {
  h = await startSiteHarness(provisioning('B'), { site: { loginRateLimit: { max: 1000 } } });
  const old = (n: string, realm: 'chakushin_mail' | 'fax_mail', pw: string) => setOldPassword(h.db.pool, n, realm, pw);
  // Passwords as the subscribers had set them on the old sites (4–8 characters).
  await old('0723010001', 'chakushin_mail', 'k7q2m9x4');
  await old('0723020001', 'fax_mail', 'f8g3h7j2');
  await old('0723030001', 'chakushin_mail', 'h3j8n2p6');
  await old('0723030001', 'fax_mail', 'h3j8n2p6');
  await old('0723040001', 'chakushin_mail', 'r5t9w2e7');
  await old('0723040002', 'fax_mail', 'r5t9w2e7');
  await old('0723050001', 'chakushin_mail', 'ab12');
  await old('0723060001', 'chakushin_mail', 'abcd1234');
  await setLegacyTemp(h.db.pool, '0723070001', 'chakushin_mail', '58205719');
  await old('0723080001', 'chakushin_mail', 'c3x7z9q1');
  await old('0723080001', 'fax_mail', 'c3x7z9q1');
  await lockOldPassword(h.db.pool, '0723080001', 'fax_mail');
  await old('0723090001', 'chakushin_mail', 'l0ck3d99');
  await lockOldPassword(h.db.pool, '0723090001', 'chakushin_mail');
  await old('0723100001', 'chakushin_mail', 'k7q2m9x4');
  await old('0723100001', 'fax_mail', 'p2w6e9r3');
  await old('0723110001', 'chakushin_mail', 'y4u8i2o6');
  await old('0723110002', 'chakushin_mail', 's9d3f7g1');
  await old('0723120001', 'chakushin_mail', 'ab12');
  await old('0723120001', 'fax_mail', 'cd34');
  await old('0723130001', 'chakushin_mail', 'v5b9n3m7');
  await setLegacyTemp(h.db.pool, '0723130001', 'fax_mail', '52584136');
  await old('0723140001', 'chakushin_mail', 'zz9x');
  await old('0723150001', 'chakushin_mail', 'm3n7b1v5');
  await old('0723150001', 'fax_mail', 'j4k8l2h6');
  b = await openBrowser('desktop');
  // 設備変更工事: the operator loads the same contracts with pattern A.
  await applyProvisioning(h.db.pool, provisioning('A'));
});
afterAll(async () => {
  await b?.close();
  await h?.stop();
});

const UNIT = { line: '回線単位', number: '電話番号単位', admin_user: '管理者／ユーザ単位' } as const;

/** ログイン → 旧設定サイトからパスワード引継ぎ → 認証単位, 電話番号, one old password → 次へ. */
async function start(page: Page, unit: keyof typeof UNIT, number: string, password: string) {
  await page.goto(`${h.url}/`);
  await page.getByRole('link', { name: '旧設定サイトからパスワード引継ぎ' }).click();
  await page.getByRole('radio', { name: UNIT[unit] }).check();
  await page.getByRole('textbox', { name: '電話番号' }).fill(number);
  await page.getByLabel('旧設定サイトのパスワード').fill(password);
  await page.getByRole('button', { name: '次へ' }).click();
}

async function others(page: Page, passwords: Record<string, string>) {
  for (const [name, pw] of Object.entries(passwords)) await page.getByLabel(name).fill(pw);
  await page.getByRole('button', { name: '次へ' }).click();
}

const caseShown = (page: Page) => page.locator('.case strong').textContent();

async function finish(page: Page) {
  expect(await page.getByRole('status').textContent()).toBe('パスワードの引継ぎが完了しました。ひかり電話設定サイトのログイン画面からログインしてください。');
}

/** The new site's login works with `password` (and the トップ shows), then logs out. */
async function worksOnNewSite(page: Page, number: string, password: string) {
  await logIn(page, h.url, number, password);
  expect(await heading(page)).toBe('ひかり電話設定サイト トップ');
  await page.getByRole('button', { name: 'ログアウト' }).click();
}

async function newPassword(page: Page, next: string, confirm = next) {
  await page.getByLabel('新しいパスワード', { exact: true }).fill(next);
  await page.getByLabel('新しいパスワード（確認）').fill(confirm);
  await page.getByRole('button', { name: '設定' }).click();
}

describe('設備変更工事 hand-over', () => {
  it('the legacy site refuses a migrated contract, pointing to the hand-over', async () => {
    const { page } = b;
    await legacyLogIn(page, h.url, '0723140001', 'wrong1');
    expect(await refusals(page)).toContain('電話番号またはパスワードが正しくありません。');
    await legacyLogIn(page, h.url, '0723140001', 'zz9x');
    expect(await refusals(page)).toContain('設備変更工事により、このお電話番号の設定は「ひかり電話設定サイト」で行っていただくこととなりました。');
    await page.getByRole('link', { name: '旧設定サイトからパスワード引継ぎ（ひかり電話設定サイト）' }).click();
    expect(await heading(page)).toBe('旧設定サイトからパスワード引継ぎ');
  });

  it('case 1 不要, 着信お知らせメールのみ, 8 characters: the old password is the new one', async () => {
    const { page } = b;
    await start(page, 'number', '0723010001', 'k7q2m9x4');
    expect(await caseShown(page)).toBe('不要');
    await page.getByRole('button', { name: '設定' }).click();
    await finish(page);
    await worksOnNewSite(page, '0723010001', 'k7q2m9x4');
    // Done once: the old password cannot run the hand-over again.
    await start(page, 'number', '0723010001', 'k7q2m9x4');
    expect(await refusals(page)).toContain('電話番号、認証単位、またはパスワードが正しくありません。');
  });

  it('case 1 不要, FAXお知らせメールのみ', async () => {
    const { page } = b;
    await start(page, 'number', '0723020001', 'f8g3h7j2');
    expect(await caseShown(page)).toBe('不要');
    await page.getByRole('button', { name: '設定' }).click();
    await finish(page);
    await worksOnNewSite(page, '0723020001', 'f8g3h7j2');
  });

  it('case 1 不要, 着信 and FAX the same (同)', async () => {
    const { page } = b;
    await start(page, 'number', '0723030001', 'h3j8n2p6');
    await others(page, { '0723030001のFAXお知らせメールのパスワード': 'h3j8n2p6' });
    expect(await caseShown(page)).toBe('不要');
    await page.getByRole('button', { name: '設定' }).click();
    await finish(page);
    await worksOnNewSite(page, '0723030001', 'h3j8n2p6');
  });

  it('case 1 不要, several numbers under 回線単位, the same password', async () => {
    const { page } = b;
    // Only the 契約者回線番号 logs in under 回線単位.
    await start(page, 'line', '0723040002', 'r5t9w2e7');
    expect(await refusals(page)).toContain('電話番号、認証単位、またはパスワードが正しくありません。');
    await start(page, 'line', '0723040001', 'r5t9w2e7');
    await others(page, { '0723040002のFAXお知らせメールのパスワード': 'r5t9w2e7' });
    expect(await caseShown(page)).toBe('不要');
    await page.getByRole('button', { name: '設定' }).click();
    await finish(page);
    await worksOnNewSite(page, '0723040001', 'r5t9w2e7');
    const { rows } = await h.db.pool.query(`select auth_unit from contract where id = 'H-lineSame8'`);
    expect(rows[0].auth_unit).toBe('line');
  });

  it('case 2 新規パスワード登録: shorter than 8; the new one follows the new site rules', async () => {
    const { page } = b;
    await start(page, 'number', '0723050001', 'ab12');
    expect(await caseShown(page)).toBe('新規パスワード登録');
    await newPassword(page, 'abc12345');
    expect(await refusals(page)).toContain('1234、abcd等の昇降順の4文字以上の文字列を含むパスワードは設定できません。');
    await newPassword(page, 'q8w3e7r2t6');
    await finish(page);
    await worksOnNewSite(page, '0723050001', 'q8w3e7r2t6');
  });

  it('case 2 新規パスワード登録: 8 characters that the new rules refuse', async () => {
    const { page } = b;
    await start(page, 'number', '0723060001', 'abcd1234');
    expect(await caseShown(page)).toBe('新規パスワード登録');
    await newPassword(page, 'n4m8k2j6');
    await finish(page);
    await worksOnNewSite(page, '0723060001', 'n4m8k2j6');
  });

  it('case 2 新規パスワード登録: a temp password from the legacy IVR', async () => {
    const { page } = b;
    await start(page, 'number', '0723070001', '58205719');
    expect(await caseShown(page)).toBe('新規パスワード登録');
    await newPassword(page, 't5y9u3i7');
    await finish(page);
    await worksOnNewSite(page, '0723070001', 't5y9u3i7');
  });

  it('case 2 新規パスワード登録: one of the two is locked', async () => {
    const { page } = b;
    await start(page, 'number', '0723080001', 'c3x7z9q1');
    expect(await caseShown(page)).toBe('新規パスワード登録');
    expect(await page.getByText('ロック状態のため引き継げないパスワード：0723080001のFAXお知らせメールのパスワード').isVisible()).toBe(true);
    await newPassword(page, 'g6h2j8k4');
    await finish(page);
    await worksOnNewSite(page, '0723080001', 'g6h2j8k4');
  });

  it('case 2 新規パスワード登録: the only password is locked → temp password from the pattern A IVR and the normal login', async () => {
    const { page } = b;
    await start(page, 'number', '0723090001', 'l0ck3d99');
    expect(await refusals(page)).toContain('電話番号、認証単位、またはパスワードが正しくありません。');
    await h.setTemp('0723090001', '46802135', 'number');
    await logIn(page, h.url, '0723090001', '46802135');
    await changePassword(page, '46802135', 'w7e3r9t5');
    expect(await page.getByRole('status').textContent()).toBe('パスワードを変更しました。');
    await page.getByRole('button', { name: 'ログアウト' }).click();
    await worksOnNewSite(page, '0723090001', 'w7e3r9t5');
  });

  it('case 3 パスワード統合: 着信 and FAX differ; the subscriber keeps one', async () => {
    const { page } = b;
    await start(page, 'number', '0723100001', 'k7q2m9x4');
    await others(page, { '0723100001のFAXお知らせメールのパスワード': 'wrong999' });
    expect(await refusals(page)).toContain('0723100001のFAXお知らせメールのパスワード：パスワードが正しくありません。');
    await others(page, { '0723100001のFAXお知らせメールのパスワード': 'p2w6e9r3' });
    expect(await caseShown(page)).toBe('パスワード統合');
    await page.getByRole('button', { name: '設定' }).click();
    expect(await refusals(page)).toContain('引き継ぐパスワードを選択してください。');
    await page.getByLabel('0723100001のFAXお知らせメールのパスワード').check();
    await page.getByRole('button', { name: '設定' }).click();
    await finish(page);
    await worksOnNewSite(page, '0723100001', 'p2w6e9r3');
    await logIn(page, h.url, '0723100001', 'k7q2m9x4');
    expect(await refusals(page)).toContain('電話番号またはパスワードが正しくありません。');
  });

  it('case 3 パスワード統合: several numbers under 回線単位 with different passwords', async () => {
    const { page } = b;
    await start(page, 'line', '0723110001', 'y4u8i2o6');
    await others(page, { '0723110002の着信お知らせメールのパスワード': 's9d3f7g1' });
    expect(await caseShown(page)).toBe('パスワード統合');
    await page.getByLabel('0723110001の着信お知らせメールのパスワード').check();
    await page.getByRole('button', { name: '設定' }).click();
    await finish(page);
    await worksOnNewSite(page, '0723110001', 'y4u8i2o6');
  });

  it('case 4 パスワード統合、新規パスワード登録: different and shorter than 8', async () => {
    const { page } = b;
    await start(page, 'number', '0723120001', 'cd34');
    await others(page, { '0723120001の着信お知らせメールのパスワード': 'ab12' });
    expect(await caseShown(page)).toBe('パスワード統合、新規パスワード登録');
    await newPassword(page, 'x2c6v8b4', 'x2c6v8b5');
    expect(await refusals(page)).toContain('新しいパスワード（確認）が新しいパスワードと一致しません。');
    await newPassword(page, 'x2c6v8b4');
    await finish(page);
    await worksOnNewSite(page, '0723120001', 'x2c6v8b4');
  });

  it('case 4 パスワード統合、新規パスワード登録: different, one a temp password', async () => {
    const { page } = b;
    await start(page, 'admin_user', '0723130001', 'v5b9n3m7');
    await others(page, { '0723130001のFAXお知らせメールのパスワード': '52584136' });
    expect(await caseShown(page)).toBe('パスワード統合、新規パスワード登録');
    await newPassword(page, 'v5b9n3m7');
    // 新規パスワード登録 means new: an old password, even one that would meet the rules, is refused.
    expect(await refusals(page)).toContain('現在のパスワードと同一のパスワードは設定できません。');
    await newPassword(page, 'a9s3d7f1');
    await finish(page);
    await worksOnNewSite(page, '0723130001', 'a9s3d7f1');
  });

  it('10 wrong entries of an old password during the hand-over lock it: then 新規パスワード登録', async () => {
    const { page } = b;
    await start(page, 'number', '0723150001', 'm3n7b1v5');
    const fax = '0723150001のFAXお知らせメールのパスワード';
    // Wrong entries spread over addresses, each after the number's delay (the throttle's own tests show one address cannot).
    await fromManyAddresses(page, h, 9, async (i) => {
      await others(page, { [fax]: `wrong${i}` });
      expect(await refusals(page)).toContain(`${fax}：パスワードが正しくありません。`);
    });
    await fromAddress(page, '198.51.100.99');
    await others(page, { [fax]: 'wrong9' });
    await fromAddress(page, undefined);
    expect(await caseShown(page)).toBe('新規パスワード登録');
    expect(await page.getByText(`ロック状態のため引き継げないパスワード：${fax}`).isVisible()).toBe(true);
    const { rows } = await h.db.pool.query(`select locked_at from password where login_number = '0723150001' and realm = 'fax_mail'`);
    expect(rows[0].locked_at).not.toBeNull();
    await newPassword(page, 'e5r1t7y3');
    await finish(page);
    await worksOnNewSite(page, '0723150001', 'e5r1t7y3');
  }, 120_000);
});
