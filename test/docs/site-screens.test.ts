// Every screen of the sites, walked in a real browser on a phone and a desktop as a subscriber meets
// them; each step checks its heading and what the look promises (ログイン中 when logged in, one
// primary button per form, menus with their descriptions, nothing wider than the screen). With
// UPDATE_SCREENSHOTS=1 (`npm run docs:site`) the walk also saves each screen as a PNG under
// docs/site/ and writes docs/site.md, so the pictures stay what the site draws; without it the
// walk checks that docs/site.md shows every screen of the walk.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyLineInfo } from '../../src/store/line-info-provisioning.ts';
import { hashPassword } from '../../src/store/password-hash.ts';
import { setLegacyPassword } from '../../src/store/legacy-accounts.ts';
import { openBrowser, VIEWPORTS, type TestBrowser, type ViewportName } from '../support/browser.ts';
import { changePassword, heading, logIn, startSiteHarness, type SiteHarness } from '../support/site.ts';

const UPDATE = process.env.UPDATE_SCREENSHOTS === '1';
const DOCS = path.resolve(import.meta.dirname, '../../docs');
const SHOTS = path.join(DOCS, 'site');
/** Long pages are cut here: the top of a page is what the picture is for. */
const MAX_HEIGHT = 1400;
/** The desktop pictures: the page's column and its margins, not a wide screen's empty sides. */
const DESKTOP_SHOT = { width: 1024, height: 768 };

const MAIN = '0611112222';
const num = (i: number) => (i === 0 ? MAIN : `06111130${String(i).padStart(2, '0')}`);
/** Enough numbers for 電話番号選択 to page and search (33 or more), as a business contract has. */
const CONTRACT_SIZE = 35;
const LEGACY_NUMBER = '0722312222';
const VOICE_WARP_DESTINATION = '09012345678';
/** More than a page of セレクト機能リスト. */
const SELECT_LIST = Array.from({ length: 23 }, (_, i) => `0612340${String(i + 100)}`);
const PW = 'k7q2m9x4';
const LINE = { customerId: 'CAF0123456789', prefix: '2001:db8:1234:5600::/56', accessKey: 'Ab12Cd34', notify: ['W0099'] };

interface Screen {
  /** File name stem and anchor. */
  name: string;
  /** The h1 the screen shows. */
  title: string;
  /** What the screen is for, in docs/site.md. */
  about: string;
  /** Gets the page there (each step starts where the previous one ended). */
  reach(page: Page, h: SiteHarness): Promise<void>;
}

const clickLink = (page: Page, name: string) => page.getByRole('link', { name, exact: true }).click();

/** The walk, in the order a subscriber meets the screens. */
const SCREENS: Screen[] = [
  { name: 'login', title: 'ログイン', about: 'ひかり電話設定サイトのログイン: 電話番号 and パスワード (or the 仮パスワード from the IVR).', reach: (page, h) => page.goto(`${h.url}/`).then(() => undefined) },
  {
    name: 'login-error', title: 'ログイン', about: 'A refused login: one message in the summary above the form, the typed number kept.',
    async reach(page, h) { await logIn(page, h.url, MAIN, 'wrong9x4q'); },
  },
  {
    name: 'password-forced', title: 'パスワード変更', about: 'After a 仮パスワード login the password is set first (ログイン中 already in the header).',
    async reach(page, h) { await h.setTemp(MAIN, '58204719', 'line'); await logIn(page, h.url, MAIN, '58204719'); },
  },
  {
    name: 'top', title: 'ひかり電話設定サイト トップ', about: 'トップ: the menu, each entry with the guide\'s one-line description.',
    async reach(page) { await changePassword(page, '58204719', PW); },
  },
  { name: 'services', title: 'サービス選択', about: 'サービス選択: the services the login may set.', reach: (page) => clickLink(page, 'サービス選択') },
  { name: 'numbers', title: '電話番号選択', about: '電話番号選択: 20 numbers a page (前へ／次へ), 電話番号検索 from 33 numbers, 一括設定.', reach: (page) => clickLink(page, '着信お知らせメール') },
  { name: 'menu', title: 'サービスメニュー（着信お知らせメール）', about: 'サービスメニュー: the service\'s settings with their descriptions and the current state.', reach: (page) => clickLink(page, MAIN) },
  {
    name: 'start-refused', title: 'サービス開始／停止', about: '開始 refused without a 送信先: the summary links to the group, whose own message stands next to it.',
    async reach(page) {
      await clickLink(page, 'サービス開始／停止');
      await page.getByRole('radio', { name: '開始' }).check();
      await page.getByRole('button', { name: '設定', exact: true }).click();
    },
  },
  {
    name: 'destinations', title: '送信先メールアドレス設定', about: '送信先メールアドレス設定: five rows with 送信 and 送信テスト (secondary); 設定 is the form\'s one primary button.',
    async reach(page) { await clickLink(page, '戻る'); await clickLink(page, '送信先メールアドレス設定'); },
  },
  { name: 'conditions', title: 'メール送信条件設定', about: 'メール送信条件設定.', reach: async (page) => { await clickLink(page, '戻る'); await clickLink(page, 'メール送信条件設定'); } },
  { name: 'designated', title: 'お知らせ対象電話番号設定', about: 'お知らせ対象電話番号設定: 30 numbers with 指定.', reach: async (page) => { await clickLink(page, '戻る'); await clickLink(page, 'お知らせ対象電話番号設定'); } },
  {
    name: 'voice-warp-menu', title: 'サービスメニュー（ボイスワープ）', about: 'ボイスワープ from サービス選択 (one number of the login has it, so no 電話番号選択): the guide\'s four settings and the state.',
    async reach(page, h) { await page.goto(`${h.url}/services`); await clickLink(page, 'ボイスワープ'); },
  },
  {
    name: 'voice-warp-start', title: '開始／停止設定', about: '開始／停止設定: 開始/停止, the four 転送条件 with what each does, 呼出秒数, 転送ガイダンス, and the 転送先 開始 needs.',
    reach: (page) => clickLink(page, '開始／停止設定'),
  },
  {
    name: 'voice-warp-destination-refused', title: '転送先電話番号設定', about: '転送先電話番号設定: a フリーダイヤル number refused with its rule\'s message at the field; the rules listed below.',
    async reach(page) {
      await clickLink(page, '戻る');
      await clickLink(page, '転送先電話番号設定');
      await page.getByLabel('転送先電話番号').fill('0120-123-456');
      await page.getByRole('button', { name: '設定', exact: true }).click();
    },
  },
  {
    name: 'voice-warp-select', title: 'セレクト機能開始／停止設定', about: 'セレクト機能開始／停止設定: 開始/停止 and 登録番号転送 / 登録番号着信.',
    reach: async (page) => { await clickLink(page, '戻る'); await clickLink(page, 'セレクト機能開始／停止設定'); },
  },
  {
    name: 'voice-warp-select-list', title: 'セレクト機能リスト設定', about: 'セレクト機能リスト設定: 追加 (the form\'s primary button), each number with its own 削除, 20 a page.',
    reach: async (page) => { await clickLink(page, '戻る'); await clickLink(page, 'セレクト機能リスト設定'); },
  },
  { name: 'bulk', title: '一括設定（着信お知らせメール）', about: '一括設定: download and upload of every number\'s settings as CSV.', reach: (page, h) => page.goto(`${h.url}/bulk/chakushin-mail`).then(() => undefined) },
  { name: 'auth-unit', title: '認証単位変更', about: '認証単位変更 from the トップ.', reach: (page, h) => page.goto(`${h.url}/auth-unit`).then(() => undefined) },
  { name: 'not-found', title: 'ページが見つかりません', about: 'Every 4xx/5xx is a page of the site in the realm\'s frame (here an unknown address).', reach: (page, h) => page.goto(`${h.url}/no-such-page`).then(() => undefined) },
  {
    name: 'legacy-menu', title: 'メインメニュー', about: 'The legacy site (サービス設定ホームページ, pattern B) after its login: メインメニュー and 終了.',
    async reach(page, h) {
      await page.getByRole('button', { name: 'ログアウト' }).click();
      await page.goto(`${h.url}/legacy/`);
      await clickLink(page, '着信お知らせメール');
      await page.getByLabel('電話番号').fill(LEGACY_NUMBER);
      await page.getByLabel('パスワード', { exact: true }).fill('pw33');
      await page.getByRole('button', { name: '次へ' }).click();
    },
  },
  {
    name: 'handover', title: '旧設定サイトからパスワード引継ぎ', about: 'The 設備変更工事 hand-over, linked from the ログイン.',
    async reach(page, h) { await page.getByRole('button', { name: '終了' }).click(); await page.goto(`${h.url}/handover`); },
  },
  {
    name: 'line-info-detail', title: '回線情報通知 ご利用状況詳細', about: '回線情報通知機能: ご利用状況詳細 after its own login.',
    async reach(page, h) {
      await page.goto(`${h.url}/line-info/`);
      await page.getByLabel('フレッツナンバー').fill(LINE.customerId);
      await page.getByLabel('アクセスキー').fill(LINE.accessKey);
      await page.getByRole('button', { name: 'ログイン' }).click();
      await page.getByRole('button', { name: '詳細・変更' }).click();
    },
  },
];

let h: SiteHarness;
beforeAll(async () => {
  h = await startSiteHarness({
    contracts: [
      { id: 'DEMO', region: 'west', pattern: 'A', authUnit: 'line', numbers: Array.from({ length: CONTRACT_SIZE }, (_, i) => ({
        number: num(i), role: i === 0 ? 'main' : 'additional', services: i === 0 ? ['chakushin_mail', 'voice_warp'] : ['chakushin_mail'],
        ...(i === 0 ? { voiceWarp: { started: false, destination: VOICE_WARP_DESTINATION, select: { started: false, mode: 'forward_listed', list: SELECT_LIST } } } : {}),
      })) },
      { id: 'DEMO-B', region: 'west', pattern: 'B', authUnit: 'number', numbers: [{ number: LEGACY_NUMBER, role: 'main', services: ['chakushin_mail'] }] },
    ],
  });
  await setLegacyPassword(h.db.pool, LEGACY_NUMBER, 'chakushin_mail', await hashPassword('pw33'), h.clock.now());
  await applyLineInfo(h.db.pool, { lineInfo: { providers: [{ id: 'W0099', serviceName: '試験用', name: 'NTT西日本（試験用）' }], lines: [LINE] } });
  if (UPDATE) await mkdir(SHOTS, { recursive: true });
});
afterAll(async () => {
  await h?.stop();
});

const shotName = (s: Screen, viewport: ViewportName) => `${s.name}-${viewport}.png`;

describe.each<ViewportName>(['phone', 'desktop'])('every screen on a %s', (viewport) => {
  let b: TestBrowser;
  beforeAll(async () => {
    b = await openBrowser(viewport);
    if (viewport === 'desktop') await b.page.setViewportSize(DESKTOP_SHOT);
  });
  afterAll(async () => {
    await b?.close();
  });

  it('walks the screens: headings, ログイン中, one primary button per form, descriptions in menus, nothing wider than the screen', async () => {
    await h.db.pool.query("delete from password where login_number = $1 and realm = 'site'", [MAIN]);
    await h.db.pool.query('delete from login_throttle');
    for (const s of SCREENS) {
      await s.reach(b.page, h);
      expect(await heading(b.page), s.name).toBe(s.title);
      const page = b.page;
      const loggedIn = !['login', 'login-error', 'handover'].includes(s.name);
      expect(await page.getByRole('banner').getByText('ログイン中').count(), `${s.name}: ログイン中`).toBe(loggedIn ? 1 : 0);
      for (const form of await page.locator('main form[method="post"]').all()) {
        expect(await form.locator('button.primary').count(), `${s.name}: one primary button per form`).toBeLessThanOrEqual(1);
      }
      for (const link of await page.locator('.menu-link').all()) expect(await link.getAttribute('aria-describedby'), `${s.name}: menu entry described`).toBeTruthy();
      // Each element measured: a mobile viewport widens itself to fit a wide element, so the page's own
      // scroll width would pass a page that overflows.
      const wider = await page.evaluate(() => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5).map((e) => e.tagName + (e.className ? `.${e.className}` : '')));
      expect(wider, `${s.name}: nothing wider than the screen`).toEqual([]);
      if (s.name === 'destinations') {
        // 設定 looks like the form's action; 送信テスト like a side action.
        const look = (name: string) => page.getByRole('button', { name, exact: true }).evaluate((el) => getComputedStyle(el).backgroundColor);
        expect(await look('設定')).not.toBe(await look('送信テスト1'));
      }
      if (UPDATE) {
        const height = Math.min(MAX_HEIGHT, await page.evaluate(() => document.documentElement.scrollHeight));
        await page.screenshot({ path: path.join(SHOTS, shotName(s, viewport)), clip: { x: 0, y: 0, width: viewport === 'desktop' ? DESKTOP_SHOT.width : VIEWPORTS.phone.width, height }, fullPage: true, animations: 'disabled', caret: 'hide' });
      }
    }
  });
});

describe('docs/site.md', () => {
  it(UPDATE ? 'is written from the walk' : 'shows every screen of the walk, on a phone and a desktop', async () => {
    const file = path.join(DOCS, 'site.md');
    if (UPDATE) await writeFile(file, siteDoc());
    const doc = await readFile(file, 'utf8');
    for (const s of SCREENS) {
      for (const v of ['phone', 'desktop'] as const) {
        expect(doc, `${s.name} ${v}`).toContain(`(site/${shotName(s, v)})`);
        expect(existsSync(path.join(SHOTS, shotName(s, v))), `${shotName(s, v)} exists`).toBe(true);
      }
    }
  });
});

function siteDoc(): string {
  const rows = SCREENS.map((s) => `### ${s.title}\n\n${s.about}\n\n| phone | desktop |\n| --- | --- |\n| ![${s.title} (phone)](site/${shotName(s, 'phone')}) | ![${s.title} (desktop)](site/${shotName(s, 'desktop')}) |\n`);
  return `# The sites, screen by screen

Made by \`npm run docs:site\` from the browser walk in \`test/docs/site-screens.test.ts\` (Chromium,
phone ${VIEWPORTS.phone.width}×${VIEWPORTS.phone.height} and desktop ${DESKTOP_SHOT.width}×${DESKTOP_SHOT.height}; long pages cut at ${MAX_HEIGHT} px). The same walk runs in \`npm test\`
without saving pictures, and fails if this page misses a screen: re-run \`npm run docs:site\` after
changing a screen and commit the pictures with it.

How the sites are built (one plugin per login realm, the foundation, the look, how a service adds its
pages): see the README, section The settings site.

${rows.join('\n')}`;
}
