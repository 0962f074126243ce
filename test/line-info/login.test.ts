// ログイン of the サービス申込受付ページ: one message for every wrong pair, the per-ID throttle (one
// address gets a few tries at an ID; the owner's right key from another address still works) and
// the per-address limit over a window (on the test's clock), and the session scope both ways: a
// line-info login never reaches the settings site's pages, nor a settings login these.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTempPassword } from '../../src/store/temp-passwords.ts';
import { openBrowser, type TestBrowser } from '../support/browser.ts';
import { fromAddress, logIn } from '../support/site.ts';
import { h1, line, logInLine, startLineInfoHarness, type LineInfoHarness } from './harness.ts';

const CONTRACTS = {
  contracts: [{ id: 'S1', region: 'west', pattern: 'A', authUnit: 'line', numbers: [{ number: '0652220001', role: 'main', services: ['chakushin_mail'] }] }],
};
const WRONG = 'フレッツナンバーまたはアクセスキーが正しくありません。';
const LIMITED = 'ログインの試行が多すぎます。しばらくしてから、もう一度お試しください。';

let h: LineInfoHarness;
let b: TestBrowser;
beforeAll(async () => {
  h = await startLineInfoHarness([31, 32, 33, 34, 35].map((n) => line(n, ['W0099'])), {
    contracts: CONTRACTS,
    overrides: { lineInfo: { loginRateLimit: { perAddress: { max: 8, windowSec: 600 } } } },
  });
  b = await openBrowser('desktop');
});
afterAll(async () => {
  await b?.close();
  await h?.stop();
});

const failures = async () => (await h.db.pool.query('select count(*)::int as n from line_info_login_failure')).rows[0].n as number;

describe('ログイン', () => {
  it('a wrong access key and an unknown ID get the same message; the typed ID stays, the key does not', async () => {
    const { page } = b;
    const l = line(31);
    await logInLine(page, h, l.customerId, 'WrongKey1');
    expect(await page.getByRole('alert').textContent()).toContain(WRONG);
    expect(await page.getByLabel('フレッツナンバー').inputValue()).toBe(l.customerId);
    expect(await page.getByLabel('アクセスキー').inputValue()).toBe('');
    await logInLine(page, h, 'CAF9999999999', l.accessKey);
    expect(await page.getByRole('alert').textContent()).toContain(WRONG);
    await logInLine(page, h, 'not an id', l.accessKey);
    expect(await page.getByRole('alert').textContent()).toContain(WRONG);
    // Typed as a person might: lower case, full-width digits.
    await logInLine(page, h, 'caf００００００００３１', l.accessKey);
    expect(await h1(page)).toBe('サービス申込受付ページ');
    expect(await page.getByRole('banner').getByText(l.customerId).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'ログアウト' }).click();
    const { rows } = await h.db.pool.query("select action, subject from audit_log where action like 'line_info.login%' order by id");
    expect(rows).toEqual([
      { action: 'line_info.login.failed', subject: l.customerId },
      { action: 'line_info.login.failed', subject: 'CAF9999999999' },
      { action: 'line_info.login.failed', subject: null },
      { action: 'line_info.login', subject: l.customerId },
    ]);
    // No access key in any audit detail.
    const { rows: all } = await h.db.pool.query('select detail::text from audit_log');
    expect(all.some((r) => r.detail.includes('WrongKey1') || r.detail.includes(l.accessKey))).toBe(false);
  });

  it('per ID: a stranger\'s address gets 3 tries at an ID and is then refused unchecked; the owner\'s right key from another address still works', async () => {
    const { page } = b;
    const l = line(32);
    const { perSourceFailures, delayBaseSec } = h.config.site.loginThrottle;
    await fromAddress(page, '203.0.113.66');
    for (let i = 0; i < perSourceFailures; i++) {
      await logInLine(page, h, l.customerId, `Wrong${i}xx`);
      expect(await page.getByRole('alert').textContent()).toContain(WRONG);
    }
    // Even the right key is not checked from that address now: it cannot use the ID's tries up.
    h.clock.advance(delayBaseSec * 1000 + 1000);
    await logInLine(page, h, l.customerId, l.accessKey);
    expect(await page.getByRole('alert').textContent()).toContain('お使いの接続元からのログインを制限しています');
    // Other IDs are not affected.
    const other = line(33);
    await logInLine(page, h, other.customerId, other.accessKey);
    expect(await h1(page)).toBe('サービス申込受付ページ');
    await page.getByRole('button', { name: 'ログアウト' }).click();
    // The owner, from home: the right key works (before the fix: 429 from anywhere, for as long as the stranger kept trying).
    await fromAddress(page, '198.51.100.5');
    await logInLine(page, h, l.customerId, l.accessKey);
    expect(await h1(page)).toBe('サービス申込受付ページ');
    await page.getByRole('button', { name: 'ログアウト' }).click();
    await fromAddress(page, undefined);
  });

  it('per address: 8 failures from one address, whatever the IDs, stop that address', async () => {
    const { page } = b;
    h.clock.advance(3_600_000);
    for (let i = 0; i < 8; i++) {
      await logInLine(page, h, `CAF00000001${String(i).padStart(2, '0')}`, 'Wrongxx1');
      expect(await page.getByRole('alert').textContent()).toContain(WRONG);
    }
    const l = line(34);
    await logInLine(page, h, l.customerId, l.accessKey);
    expect(await page.getByRole('alert').textContent()).toContain(LIMITED);
    expect(await failures()).toBe(8);
    h.clock.advance(601_000);
    await logInLine(page, h, l.customerId, l.accessKey);
    expect(await h1(page)).toBe('サービス申込受付ページ');
    await page.getByRole('button', { name: 'ログアウト' }).click();
  });

  it('two wrong keys for one ID at the same moment both count', async () => {
    h.clock.advance(3_600_000);
    const l = line(35);
    const { page } = b;
    await page.goto(`${h.url}${h.base}/`);
    const csrf = await page.locator('input[name=_csrf]').inputValue();
    const post = () => page.request.post(`${h.url}${h.base}/login`, { form: { _csrf: csrf, customerId: l.customerId, accessKey: 'Wrongzz1' }, maxRedirects: 0 });
    expect((await Promise.all([post(), post(), post()])).map((r) => r.status())).toEqual([401, 401, 401]);
    expect((await post()).status()).toBe(429);
  });
});

describe('session scope', () => {
  it('a line-info login does not reach the settings site, and a settings login does not reach line-info pages', async () => {
    h.clock.advance(3_600_000);
    const { page } = b;
    const l = line(33);
    await logInLine(page, h, l.customerId, l.accessKey);
    expect(await h1(page)).toBe('サービス申込受付ページ');
    for (const p of ['/services', '/password', '/chakushin-mail']) {
      await page.goto(`${h.url}${p}`);
      expect(await h1(page)).toBe('ログイン');
      expect(await page.getByLabel('電話番号').isVisible()).toBe(true);
    }
    // Still logged in to line-info: the settings site's pages only declined.
    await page.goto(`${h.url}${h.base}/detail`);
    expect(await h1(page)).toBe('回線情報通知 ご利用状況詳細');

    // A settings login in the same browser replaces the session: line-info pages ask for their own login.
    await setTempPassword(h.db.pool, { loginNumber: '0652220001', realm: 'site', authUnit: 'line', password: '58204719', ttlHours: 24 });
    await logIn(page, h.url, '0652220001', '58204719');
    expect(await h1(page)).toBe('パスワード変更');
    for (const p of ['/', '/detail', '/add', '/consent', '/done']) {
      await page.goto(`${h.url}${h.base}${p}`);
      expect(await h1(page)).toBe('サービス申込受付ページ ログイン');
    }
    // And the settings site's own page still knows its login.
    await page.goto(`${h.url}/password`);
    expect(await h1(page)).toBe('パスワード変更');
    const { rows } = await h.db.pool.query('select realm, login_number, customer_id from session order by created_at');
    expect(rows.map((r) => r.realm)).toContain('site');
    expect(rows.every((r) => (r.realm === 'site') === (r.login_number !== null) && (r.realm === 'line_info') === (r.customer_id !== null))).toBe(true);
  });

  it('a POST without the CSRF token is refused', async () => {
    const { page } = b;
    const res = await page.request.post(`${h.url}${h.base}/login`, { form: { customerId: line(33).customerId, accessKey: line(33).accessKey }, maxRedirects: 0 });
    expect(res.status()).toBe(403);
    const html = await res.text();
    expect(html).toContain('操作を受け付けられませんでした');
    // Drawn in this page's own frame.
    expect(html).toContain(`<a class="brand" href="${h.base}/">サービス申込受付ページ</a>`);
  });
});
