// The legacy site (サービス設定ホームページ, pattern B) in a real browser on a feature-phone-sized
// screen: temp-password login and the 4–8 password rule, メインメニュー, 開始 refused without a
// destination, the legacy address rule, 10 strikes, the 30-minute idle logout, and the refusal of a
// contract moved to pattern A by 設備変更工事.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNotifySettings } from '../../src/store/notify-settings.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { openBrowser, type TestBrowser } from '../support/browser.ts';
import { fromManyAddresses, refusals, startSiteHarness, type SiteHarness } from '../support/site.ts';
import { heading, LEGACY, legacyLogIn, setFirstPassword, setLegacyTemp, setOldPassword } from './support.ts';

const contract = (id: string, number: string, pattern = 'B') => ({
  id, region: 'west', pattern, authUnit: 'number',
  numbers: [{ number, role: 'main', services: ['chakushin_mail'] }],
});
const CONTRACTS = {
  contracts: [
    contract('B1', '0722310001'),
    contract('B2', '0722310002'),
    contract('B3', '0722310003'),
    contract('B4', '0722310004'),
    contract('B5', '0722310005'),
    contract('B6', '0722310006'),
    contract('B7', '0722310007'),
  ],
};

let h: SiteHarness;
let b: TestBrowser;
beforeAll(async () => {
  // The per-address login rate limit is the new site's (tested there); here one browser tries many times.
  h = await startSiteHarness(CONTRACTS, { site: { loginRateLimit: { max: 1000 } } });
  // A feature phone's screen is narrower than a smartphone's.
  b = await openBrowser('phone');
  await b.page.setViewportSize({ width: 240, height: 320 });
});
afterAll(async () => {
  await b?.close();
  await h?.stop();
});

describe('legacy site', () => {
  it('temp password → パスワード (4–8, not digits only) → メインメニュー; small pages without scripts', async () => {
    const { page } = b;
    await setLegacyTemp(h.db.pool, '0722310001', 'chakushin_mail', '58205719');
    await legacyLogIn(page, h.url, '0722310001', '58205719');
    expect(await heading(page)).toBe('パスワード設定');
    // Nothing else before the password is set.
    await page.goto(`${h.url}${LEGACY}/chakushin-mail/menu`);
    expect(await heading(page)).toBe('パスワード設定');

    const refused = async (next: string, message: string, confirm = next) => {
      await setFirstPassword(page, '58205719', next, confirm);
      expect(await refusals(page)).toContain(message);
    };
    await refused('ab1', 'パスワードは4桁～8桁の半角英数字で設定してください。');
    await refused('abcd12345', 'パスワードは4桁～8桁の半角英数字で設定してください。');
    await refused('1234', '数字のみのパスワードは設定できません。');
    await refused('ab-12', 'パスワードは半角英数字で設定してください。');
    await refused('ab12', '新しいパスワード（確認）が新しいパスワードと一致しません。', 'ab13');
    await setFirstPassword(page, '00000000', 'ab12');
    expect(await refusals(page)).toContain('電話で設定したパスワードが正しくありません。');
    await setFirstPassword(page, '58205719', 'ab12');
    expect(await heading(page)).toBe('メインメニュー');
    expect(await page.getByRole('status').textContent()).toBe('パスワードを設定しました。');
    for (const name of ['開始／停止設定', '送信先メールアドレス登録／確認', 'メール送信条件設定', '発信電話番号指定通知設定', 'パスワード変更']) {
      expect(await page.getByRole('link', { name }).isVisible()).toBe(true);
    }
    // Feature-phone sized: no script, a few kilobytes.
    const html = await page.content();
    expect(html).not.toContain('<script');
    expect(Buffer.byteLength(html)).toBeLessThan(6_000);

    // パスワード変更: not the current one; then the new one works and the temp password is spent.
    await page.getByRole('link', { name: 'パスワード変更' }).click();
    const change = async (current: string, next: string) => {
      await page.getByLabel('現在のパスワード').fill(current);
      await page.getByLabel('新しいパスワード', { exact: true }).fill(next);
      await page.getByLabel('新しいパスワード（確認）').fill(next);
      await page.getByRole('button', { name: 'パスワードの変更' }).click();
    };
    await change('ab12', 'ab12');
    expect(await refusals(page)).toContain('現在のパスワードと同一のパスワードは設定できません。');
    await change('ab12', 'x9y8z7w6');
    expect(await page.getByRole('status').textContent()).toBe('パスワードを変更しました。');
    await page.getByRole('button', { name: '終了' }).click();
    expect(await heading(page)).toBe('設定の終了');
    await legacyLogIn(page, h.url, '0722310001', '58205719');
    expect(await refusals(page)).toContain('電話番号またはパスワードが正しくありません。');
    await legacyLogIn(page, h.url, '0722310001', 'x9y8z7w6');
    expect(await heading(page)).toBe('メインメニュー');
    await page.getByRole('button', { name: '終了' }).click();
  });

  it('開始 is refused without a destination; the left of @ may not use ! $ % \' * + / ? ^ #', async () => {
    const { page } = b;
    await setOldPassword(h.db.pool, '0722310002', 'chakushin_mail', 'pw22');
    await legacyLogIn(page, h.url, '0722310002', 'pw22');
    await page.getByRole('link', { name: '開始／停止設定' }).click();
    await page.getByLabel('開始').check();
    await page.getByRole('button', { name: '設定' }).click();
    expect(await refusals(page)).toContain('送信先メールアドレスが登録されていないため、開始できません。');
    expect((await readNotifySettings(h.db.pool, '0722310002')).started).toBe(false);

    await page.goto(`${h.url}${LEGACY}/chakushin-mail/destinations`);
    for (const bad of ['a!b@example.jp', 'a$b@example.jp', 'a%b@example.jp', "a'b@example.jp", 'a*b@example.jp', 'a+b@example.jp', 'a/b@example.jp', 'a?b@example.jp', 'a^b@example.jp', 'a#b@example.jp']) {
      await page.getByLabel('送信先メールアドレス1').fill(bad);
      await page.getByRole('button', { name: '設定', exact: true }).click();
      expect(await refusals(page), bad).toContain('メールアドレスの＠の左側では、「! $ % \' * + / ? ^ #」が使用できません');
      // What was typed stays; nothing was saved.
      expect(await page.getByLabel('送信先メールアドレス1').inputValue()).toBe(bad);
    }
    expect((await readNotifySettings(h.db.pool, '0722310002')).destinations).toEqual([]);
    // The shared rules still apply (one rule, a legacy variant).
    await page.getByLabel('送信先メールアドレス1').fill('a..b@example.jp');
    await page.getByRole('button', { name: '設定', exact: true }).click();
    expect(await refusals(page)).toContain('「.」を2つ続けて使用することはできません。');
    await page.getByLabel('送信先メールアドレス1').fill('a.b_c-d@example.jp');
    await page.getByLabel('送信する1').check();
    await page.getByRole('button', { name: '設定', exact: true }).click();
    expect(await page.getByRole('status').textContent()).toBe('設定しました。');
    expect((await readNotifySettings(h.db.pool, '0722310002')).destinations).toEqual([{ position: 1, address: 'a.b_c-d@example.jp', send: true }]);

    await page.goto(`${h.url}${LEGACY}/chakushin-mail/start`);
    await page.getByLabel('開始').check();
    await page.getByRole('button', { name: '設定' }).click();
    expect(await page.getByRole('status').textContent()).toBe('設定しました。');
    expect((await readNotifySettings(h.db.pool, '0722310002')).started).toBe(true);

    await page.goto(`${h.url}${LEGACY}/chakushin-mail/conditions`);
    await page.getByLabel('電話を受けられなかった場合に着信お知らせメールを送信する').check();
    await page.getByRole('button', { name: '設定' }).click();
    expect(await page.getByRole('status').textContent()).toBe('設定しました。');
    await page.goto(`${h.url}${LEGACY}/chakushin-mail/designated`);
    await page.getByLabel('発信電話番号1', { exact: true }).fill('06-1234');
    await page.getByRole('button', { name: '設定' }).click();
    expect(await refusals(page)).toContain('電話番号はハイフンなし');
    await page.getByLabel('発信電話番号1', { exact: true }).fill('0612345678');
    await page.getByLabel('指定する1', { exact: true }).check();
    await page.getByRole('button', { name: '設定' }).click();
    expect(await page.getByRole('status').textContent()).toBe('設定しました。');
    const s = await readNotifySettings(h.db.pool, '0722310002');
    expect(s).toMatchObject({ started: true, unansweredOnly: true, designatedOnly: false, designated: [{ position: 1, callerNumber: '0612345678', designated: true }] });
    await page.goto(`${h.url}${LEGACY}/chakushin-mail/menu`);
    await page.getByRole('button', { name: '終了' }).click();
  });

  it('10 wrong passwords in a row make the password invalid', async () => {
    const { page } = b;
    await setOldPassword(h.db.pool, '0722310003', 'chakushin_mail', 'pw33');
    // A right one resets the count: 9 wrong, right, then 10 wrong.
    // Strangers spread over enough addresses, each waiting out the number's delay (one address alone
    // cannot use the strikes up: test/site/login-throttle.test.ts).
    await fromManyAddresses(page, h, 9, (i) => legacyLogIn(page, h.url, '0722310003', `wrong${i}`, { fromTop: false }));
    await legacyLogIn(page, h.url, '0722310003', 'pw33');
    expect(await heading(page)).toBe('メインメニュー');
    await page.getByRole('button', { name: '終了' }).click();
    await fromManyAddresses(page, h, 10, async (i) => {
      await legacyLogIn(page, h.url, '0722310003', `wrong${i}`, { fromTop: false });
      expect(await refusals(page)).toContain('電話番号またはパスワードが正しくありません。');
    });
    await legacyLogIn(page, h.url, '0722310003', 'pw33');
    expect(await refusals(page)).toContain('電話番号またはパスワードが正しくありません。');
    const { rows } = await h.db.pool.query(`select failed_attempts, locked_at from password where login_number = '0722310003' and realm = 'chakushin_mail'`);
    expect(rows[0].failed_attempts).toBe(10);
    expect(rows[0].locked_at).not.toBeNull();
    // A new temp password from the IVR gets the subscriber back in, and the new password unlocks.
    await setLegacyTemp(h.db.pool, '0722310003', 'chakushin_mail', '15935728', h.clock.now());
    await legacyLogIn(page, h.url, '0722310003', '15935728');
    await setFirstPassword(page, '15935728', 'pw34');
    expect(await heading(page)).toBe('メインメニュー');
    await page.getByRole('button', { name: '終了' }).click();
  }, 180_000);

  it('the temp password is valid for 24 hours', async () => {
    const { page } = b;
    h.clock.reset();
    await setLegacyTemp(h.db.pool, '0722310004', 'chakushin_mail', '25836915');
    // Set 24 h ago (the row's time is the database's): expired now.
    await h.db.pool.query(`update temp_password set created_at = now() - interval '24 hours', expires_at = now() - interval '1 second' where login_number = '0722310004'`);
    await legacyLogIn(page, h.url, '0722310004', '25836915');
    expect(await refusals(page)).toContain('電話番号またはパスワードが正しくありません。');
    await setLegacyTemp(h.db.pool, '0722310004', 'chakushin_mail', '25836915');
    // By the site's clock: 24 h and a minute later it no longer works; 23 h later it does.
    h.clock.advance(24 * 3_600_000 + 60_000);
    try {
      await legacyLogIn(page, h.url, '0722310004', '25836915');
      expect(await refusals(page)).toContain('電話番号またはパスワードが正しくありません。');
    } finally {
      h.clock.advance(-(24 * 3_600_000 + 60_000));
    }
    h.clock.advance(23 * 3_600_000);
    try {
      await legacyLogIn(page, h.url, '0722310004', '25836915');
      expect(await heading(page)).toBe('パスワード設定');
    } finally {
      h.clock.advance(-23 * 3_600_000);
    }
    await b.context.clearCookies();
  });

  it('30 minutes without a request end the session; the next request says so on the login', async () => {
    const { page } = b;
    await setOldPassword(h.db.pool, '0722310005', 'chakushin_mail', 'pw55');
    await legacyLogIn(page, h.url, '0722310005', 'pw55');
    await page.getByRole('link', { name: 'メール送信条件設定' }).click();
    h.clock.advance(29 * 60_000);
    await page.getByRole('button', { name: '設定' }).click();
    expect(await page.getByRole('status').textContent()).toBe('設定しました。');
    h.clock.advance(30 * 60_000 + 1_000);
    await page.getByLabel('発信電話番号指定通知機能を利用する').check();
    await page.getByRole('button', { name: '設定' }).click();
    expect(await heading(page)).toBe('ログイン（着信お知らせメール）');
    expect(await page.getByRole('status').textContent()).toBe('ログイン状態で30分間何も操作しなかったため、自動的にログアウトしました。設定作業を続ける場合は、再度ログインしてください。');
    // The form posted after the limit saved nothing.
    expect((await readNotifySettings(h.db.pool, '0722310005')).designatedOnly).toBe(false);
  });

  it('設備変更工事 while logged in: the next request ends the session and says where to go', async () => {
    const { page } = b;
    await setOldPassword(h.db.pool, '0722310006', 'chakushin_mail', 'pw66');
    await legacyLogIn(page, h.url, '0722310006', 'pw66');
    expect(await heading(page)).toBe('メインメニュー');
    await applyProvisioning(h.db.pool, { contracts: [contract('B6', '0722310006', 'A')] });
    await page.getByRole('link', { name: '開始／停止設定' }).click();
    expect(await heading(page)).toBe('ログイン（着信お知らせメール）');
    expect(await page.getByRole('status').textContent()).toContain('設備変更工事により、このお電話番号の設定は「ひかり電話設定サイト」で行っていただくこととなりました。');
    expect(await page.getByRole('link', { name: '旧設定サイトからパスワード引継ぎ（ひかり電話設定サイト）' }).isVisible()).toBe(true);
  });

  it('a POST without the CSRF token is refused and changes nothing', async () => {
    const { page } = b;
    await setOldPassword(h.db.pool, '0722310007', 'chakushin_mail', 'pw77');
    await legacyLogIn(page, h.url, '0722310007', 'pw77');
    await page.getByRole('link', { name: 'メール送信条件設定' }).click();
    const version = await page.locator('input[name=version]').inputValue();
    const r = await page.request.post(`${h.url}${LEGACY}/chakushin-mail/conditions`, { form: { version, unansweredOnly: 'on' }, maxRedirects: 0 });
    expect(r.status()).toBe(403);
    expect(await r.text()).toContain('操作を受け付けられませんでした');
    expect((await readNotifySettings(h.db.pool, '0722310007')).unansweredOnly).toBe(false);
    // The same form through the page (with its token) is taken.
    await page.getByLabel('電話を受けられなかった場合に着信お知らせメールを送信する').check();
    await page.getByRole('button', { name: '設定' }).click();
    expect(await page.getByRole('status').textContent()).toBe('設定しました。');
    expect((await readNotifySettings(h.db.pool, '0722310007')).unansweredOnly).toBe(true);
  });
});
