// Temp password and password rules, lockouts, expiry and session limits, through the browser
// (and, where a person could not do it from the screen, through plain HTTP).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openBrowser, type TestBrowser } from '../support/browser.ts';
import { changePassword, fieldError, fromAddress, heading, logIn, startSiteHarness, waitOutLoginDelay, wrongLoginsFromMany, type SiteHarness } from '../support/site.ts';

const n = (i: number) => `0652${i + 10}7391`;
const CONTRACTS = {
  contracts: Array.from({ length: 14 }, (_, i) => ({
    id: `P${i}`, region: 'west', pattern: 'A', authUnit: 'line',
    numbers: [{
      number: n(i), role: 'main', services: ['chakushin_mail'],
      notify: { started: false, destinations: [{ address: `owner${i}@example.jp`, send: true }, { address: `quiet${i}@example.jp`, send: false }] },
    }],
  })),
};
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let h: SiteHarness;
let b: TestBrowser;
beforeAll(async () => {
  h = await startSiteHarness(CONTRACTS, { site: { loginRateLimit: { max: 1000, windowSec: 60 } } });
  b = await openBrowser('desktop');
});
beforeEach(() => h.clock.reset());
afterAll(async () => {
  await b?.close();
  await h?.stop();
});

const LOGIN_FAILED = '電話番号またはパスワードが正しくありません。';
const loginFailedShown = async () => (await b.page.getByRole('alert').textContent())?.includes(LOGIN_FAILED);
async function logOut() {
  await b.page.getByRole('button', { name: 'ログアウト' }).click();
}

describe('temp password (仮パスワード)', () => {
  it('is invalid 24 hours after it was set', async () => {
    await h.setTemp(n(0), '58204719', 'line');
    h.clock.advance(24 * HOUR + 60_000);
    await logIn(b.page, h.url, n(0), '58204719');
    expect(await loginFailedShown()).toBe(true);
    expect(await heading(b.page)).toBe('ログイン');
  });

  it('is invalid after 3 wrong entries in a row, even when the 4th is right', async () => {
    await h.setTemp(n(1), '58204719', 'line');
    for (let i = 0; i < 3; i++) {
      await logIn(b.page, h.url, n(1), '58204710');
      expect(await loginFailedShown()).toBe(true);
    }
    // The 4th from another address (this one has had its share), once the number's delay has passed.
    await fromAddress(b.page, '198.51.100.77');
    waitOutLoginDelay(h);
    await logIn(b.page, h.url, n(1), '58204719');
    await fromAddress(b.page, undefined);
    expect(await loginFailedShown()).toBe(true);
    expect((await h.account(n(1)))!.temp!.failedAttempts).toBe(3);
    expect(await h.auditActions(n(1))).toContain('lock.temp_password');
  });
});

describe('password (パスワード)', () => {
  it('after 10 wrong in a row is invalid; the send-enabled destinations are told by mail', async () => {
    await h.setPassword(n(2), 'k7q2m9x4');
    // Strangers spread over enough addresses, each waiting out the number's delay, can still use up
    // the guide's 10 strikes (one address alone cannot: login-throttle.test.ts).
    await wrongLoginsFromMany(b.page, h, n(2), 10);
    await logIn(b.page, h.url, n(2), 'k7q2m9x4');
    expect(await loginFailedShown()).toBe(true);
    const acc = (await h.account(n(2)))!;
    expect(acc.password!.lockedAt).not.toBeNull();
    expect(acc.password!.failedAttempts).toBe(10);
    const { rows } = await h.db.pool.query("select to_address, subject from mail_outbox where kind = 'notice' and subject like 'パスワード無効%'");
    expect(rows).toEqual([{ to_address: 'owner2@example.jp', subject: `パスワード無効のお知らせ（${n(2)}）` }]);
    expect(await h.auditActions(n(2))).toContain('lock.password');
    // A new temp password (by phone) is the way back in.
    await h.setTemp(n(2), '58204719', 'line');
    await logIn(b.page, h.url, n(2), '58204719');
    await changePassword(b.page, '58204719', 'm3x8q2w7');
    expect(await b.page.getByRole('status').textContent()).toBe('パスワードを変更しました。');
    await logOut();
  });

  it('counts wrong entries across browser sessions and resets them on a successful login', async () => {
    await h.setPassword(n(3), 'k7q2m9x4');
    await wrongLoginsFromMany(b.page, h, n(3), 9);
    // Closing the browser does not reset the count.
    await b.context.clearCookies();
    expect((await h.account(n(3)))!.password!.failedAttempts).toBe(9);
    await logIn(b.page, h.url, n(3), 'k7q2m9x4');
    expect(await heading(b.page)).toBe('ひかり電話設定サイト トップ');
    expect((await h.account(n(3)))!.password!.failedAttempts).toBe(0);
    await logOut();
    await wrongLoginsFromMany(b.page, h, n(3), 9);
    await logIn(b.page, h.url, n(3), 'k7q2m9x4');
    expect(await heading(b.page)).toBe('ひかり電話設定サイト トップ');
    await logOut();
  });

  it('two wrong logins at the same moment count twice', async () => {
    await h.setPassword(n(4), 'k7q2m9x4');
    // The ログイン form sent twice at once with the browser's cookies and the page's CSRF token, as a
    // double submit or two tabs would. (Two tabs opened and closed around their POSTs hung the test
    // under load, in the browser and not the server; the page's CSP rightly forbids fetch().)
    await b.page.goto(`${h.url}/`);
    const csrf = (await b.page.locator('form[action="/login"] input[name="_csrf"]').getAttribute('value'))!;
    const post = () => b.context.request.post(`${h.url}/login`, { form: { _csrf: csrf, number: n(4), password: 'wrong9x4q' }, maxRedirects: 0 }).then((r) => r.status());
    const statuses = await Promise.all([post(), post()]);
    expect(statuses).toEqual([401, 401]);
    expect((await h.account(n(4)))!.password!.failedAttempts).toBe(2);
  });

  it('older than 60 days leads to パスワード変更 with the current password', async () => {
    await h.setPassword(n(5), 'k7q2m9x4');
    h.clock.advance(60 * DAY + HOUR);
    await logIn(b.page, h.url, n(5), 'k7q2m9x4');
    expect(await heading(b.page)).toBe('パスワード変更');
    expect(await b.page.getByText('パスワードの有効期限（60日間）が切れています。').isVisible()).toBe(true);
    await b.page.goto(`${h.url}/chakushin-mail`);
    expect(await heading(b.page)).toBe('パスワード変更');
    await changePassword(b.page, 'k7q2m9x4', 'k7q2m9x4');
    expect(await fieldError(b.page, '新しいパスワード')).toBe('現在のパスワードと同一のパスワードは設定できません。');
    await changePassword(b.page, 'k7q2m9x4', 'p4w8z2r6');
    expect(await heading(b.page)).toBe('ひかり電話設定サイト トップ');
    await logOut();
  });

  it.each([
    ['k7q2m9x', 'パスワードは8桁～12桁で入力してください。'],
    ['k7q2m9x4p3w8z', 'パスワードは8桁～12桁で入力してください。'],
    ['k7q2m9x_', 'パスワードは半角英数字で入力してください。'],
    ['73920461', '数字のみのパスワードは設定できません。'],
    ['58204719', '数字のみのパスワードは設定できません。'],
    ['k7q0000x', '0000、aaaa等の4文字以上の同一文字列を含むパスワードは設定できません。'],
    ['kaaaa7q2', '0000、aaaa等の4文字以上の同一文字列を含むパスワードは設定できません。'],
    ['k1234q7x', '1234、abcd等の昇降順の4文字以上の文字列を含むパスワードは設定できません。'],
    ['k7abcdq2', '1234、abcd等の昇降順の4文字以上の文字列を含むパスワードは設定できません。'],
    ['k7dcbaq2', '1234、abcd等の昇降順の4文字以上の文字列を含むパスワードは設定できません。'],
    [`x${n(6)}`, 'お客さまの電話番号を含むパスワードは設定できません。'],
  ])('refuses %s: %s', async (next, message) => {
    await h.setTemp(n(6), '58204719', 'line');
    await logIn(b.page, h.url, n(6), '58204719');
    await changePassword(b.page, '58204719', next);
    expect(await fieldError(b.page, '新しいパスワード')).toBe(message);
    // Typed passwords are never put back into the form.
    expect(await b.page.getByLabel('新しいパスワード', { exact: true }).inputValue()).toBe('');
    await logOut();
  });

  it('refuses a confirmation that differs, and a wrong current password', async () => {
    await h.setTemp(n(7), '58204719', 'line');
    await logIn(b.page, h.url, n(7), '58204719');
    await changePassword(b.page, '58204719', 'k7q2m9x4', 'k7q2m9x5');
    expect(await fieldError(b.page, '新しいパスワード（確認）')).toBe('新しいパスワード（確認）が新しいパスワードと一致しません。');
    await changePassword(b.page, '58204710', 'k7q2m9x4');
    expect(await fieldError(b.page, '現在のパスワード')).toBe('現在のパスワードが正しくありません。');
    await logOut();
  });
});

describe('login answers', () => {
  it('an unknown number and a wrong password get the same answer and status', async () => {
    await h.setPassword(n(8), 'k7q2m9x4');
    const attempt = async (number: string) => {
      await b.page.goto(`${h.url}/`);
      await b.page.getByLabel('電話番号').fill(number);
      await b.page.getByLabel('パスワード', { exact: true }).fill('wrong9x4q');
      const [res] = await Promise.all([b.page.waitForResponse((r) => r.url().endsWith('/login')), b.page.getByRole('button', { name: 'ログイン' }).click()]);
      return { status: res.status(), alert: await b.page.getByRole('alert').textContent() };
    };
    const known = await attempt(n(8));
    const unknown = await attempt('0659999999');
    const malformed = await attempt('06-5999-9999');
    expect(unknown).toEqual(known);
    expect(malformed).toEqual(known);
    expect(known.status).toBe(401);
    // The number typed stays in its field.
    expect(await b.page.getByLabel('電話番号').inputValue()).toBe('06-5999-9999');
  });

  it('a per-address rate limit answers 429 before the per-number counter is touched', async () => {
    const limited = await startSiteHarness({ contracts: [CONTRACTS.contracts[9]] }, { site: { loginRateLimit: { max: 3, windowSec: 60 } } });
    try {
      await limited.setPassword(n(9), 'k7q2m9x4');
      const page = await b.newPage();
      for (let i = 0; i < 3; i++) await logIn(page, limited.url, n(9), 'wrong9x4q');
      await logIn(page, limited.url, n(9), 'k7q2m9x4');
      expect(await heading(page)).toBe('しばらくお待ちください');
      expect((await limited.account(n(9)))!.password!.failedAttempts).toBe(3);
      await page.close();
    } finally {
      await limited.stop();
    }
  });
});

describe('session', () => {
  it('logs out after 30 idle minutes', async () => {
    await h.setPassword(n(10), 'k7q2m9x4');
    await logIn(b.page, h.url, n(10), 'k7q2m9x4');
    expect(await heading(b.page)).toBe('ひかり電話設定サイト トップ');
    h.clock.advance(29 * 60_000);
    await b.page.getByRole('link', { name: 'サービス選択' }).click();
    expect(await heading(b.page)).toBe('サービス選択');
    h.clock.advance(29 * 60_000);
    await b.page.goto(`${h.url}/`);
    expect(await heading(b.page)).toBe('ひかり電話設定サイト トップ');
    h.clock.advance(31 * 60_000);
    await b.page.goto(`${h.url}/services`);
    expect(await heading(b.page)).toBe('ログイン');
    expect(await b.page.getByRole('status').textContent()).toContain('一定時間操作がなかったため');
  });

  it('ends at the absolute limit however active it is', async () => {
    await h.setPassword(n(11), 'k7q2m9x4');
    await logIn(b.page, h.url, n(11), 'k7q2m9x4');
    for (let i = 0; i < 26; i++) {
      h.clock.advance(29 * 60_000);
      await b.page.goto(`${h.url}/services`);
    }
    expect(await heading(b.page)).toBe('ログイン');
  });

  it('a new session id at login', async () => {
    await h.setPassword(n(12), 'k7q2m9x4');
    await b.page.goto(`${h.url}/`);
    await b.context.addCookies([{ name: 'sid', value: 'planted-by-someone-else', url: h.url }]);
    await logIn(b.page, h.url, n(12), 'k7q2m9x4');
    const sid = (await b.context.cookies(h.url)).find((c) => c.name === 'sid')!;
    expect(sid.value).not.toContain('planted');
    expect(sid.httpOnly).toBe(true);
    expect(sid.sameSite).toBe('Lax');
    await logOut();
  });

  it('refuses a POST without its CSRF token', async () => {
    await h.setPassword(n(13), 'k7q2m9x4');
    await logIn(b.page, h.url, n(13), 'k7q2m9x4');
    const res = await b.page.request.post(`${h.url}/chakushin-mail/${n(13)}/start`, { form: { started: 'off', version: '1' } });
    expect(res.status()).toBe(403);
    expect(await res.text()).toContain('操作を受け付けられませんでした');
    const login = await b.page.request.post(`${h.url}/login`, { form: { number: n(13), password: 'k7q2m9x4' } });
    expect(login.status()).toBe(403);
    await logOut();
  });
});
