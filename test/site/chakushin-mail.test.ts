// 着信お知らせメール settings pages in a real browser: start/stop, destinations with 送信テスト,
// conditions, designated numbers, limits, stale forms, and the 認証単位 scope on every request.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NUMBERS_PER_PAGE } from '../../src/site/paging.ts';
import { SEARCH_FROM } from '../../src/site/settings/services/common-pages.ts';
import { readNotifySettings } from '../../src/store/notify-settings.ts';
import { openBrowser, type TestBrowser } from '../support/browser.ts';
import { fieldError, groupError, heading, logIn, startSiteHarness, type SiteHarness } from '../support/site.ts';

const LINE_MAIN = '0653107391';
const LINE_EXTRA = '0653107392';
const NUM_MAIN = '0653207391';
const NUM_EXTRA = '0653207392';
const ADMIN_MAIN = '0653307391';
const ADMIN_USER = '0653307392';
const ADMIN_OTHER = '0653307393';
const MANY_MAIN = '0653400100';
/** One more number than 電話番号検索 needs. */
const MANY_SIZE = SEARCH_FROM + 1;
const PW = 'k7q2m9x4';

const CONTRACTS = {
  contracts: [
    { id: 'C-line', region: 'west', pattern: 'A', authUnit: 'line', numbers: [
      { number: LINE_MAIN, role: 'main', services: ['chakushin_mail'] },
      { number: LINE_EXTRA, role: 'additional', services: ['chakushin_mail'] },
    ] },
    { id: 'C-number', region: 'west', pattern: 'A', authUnit: 'number', numbers: [
      { number: NUM_MAIN, role: 'main', services: ['chakushin_mail'] },
      { number: NUM_EXTRA, role: 'additional', services: ['chakushin_mail'] },
    ] },
    { id: 'C-admin', region: 'east', pattern: 'A', authUnit: 'admin_user', numbers: [
      { number: ADMIN_MAIN, role: 'main', services: ['chakushin_mail'] },
      { number: ADMIN_USER, role: 'additional', services: ['chakushin_mail'] },
      { number: ADMIN_OTHER, role: 'additional', services: ['chakushin_mail'] },
    ] },
    { id: 'C-many', region: 'west', pattern: 'A', authUnit: 'line', numbers: Array.from({ length: MANY_SIZE }, (_, i) => ({
      number: `06534${String(100 + i).padStart(5, '0')}`, role: i === 0 ? 'main' : 'additional', services: ['chakushin_mail'],
    })) },
  ],
};

let h: SiteHarness;
let b: TestBrowser;
beforeAll(async () => {
  h = await startSiteHarness(CONTRACTS, { site: { testMailsPerHour: 2, loginRateLimit: { max: 1000, windowSec: 60 } } });
  for (const n of [LINE_MAIN, NUM_MAIN, NUM_EXTRA, ADMIN_MAIN, ADMIN_USER, MANY_MAIN]) await h.setPassword(n, PW);
  b = await openBrowser('phone');
});
beforeEach(async () => {
  h.clock.reset();
  await b.context.clearCookies();
});
afterAll(async () => {
  await b?.close();
  await h?.stop();
});

async function openMenu(login: string, number: string) {
  await logIn(b.page, h.url, login, PW);
  await b.page.getByRole('link', { name: 'サービス選択' }).click();
  await b.page.getByRole('link', { name: '着信お知らせメール' }).click();
  if ((await heading(b.page)) === '電話番号選択') await b.page.getByRole('link', { name: number, exact: true }).click();
  expect(await heading(b.page)).toBe('サービスメニュー（着信お知らせメール）');
  expect(await b.page.getByText(`設定する電話番号：${number}`).isVisible()).toBe(true);
}
const saved = async () => b.page.getByRole('status').textContent();

describe('サービス開始／停止 and 送信先メールアドレス設定', () => {
  it('開始 is refused until a destination is set; then starts', async () => {
    await openMenu(LINE_MAIN, LINE_MAIN);
    await b.page.getByRole('link', { name: 'サービス開始／停止' }).click();
    await b.page.getByRole('radio', { name: '開始' }).check();
    await b.page.getByRole('button', { name: '設定' }).click();
    expect(await groupError(b.page, 'サービス開始／停止')).toBe('送信先メールアドレスが設定されていないため、開始できません。先に「送信先メールアドレス設定」を行ってください。');
    expect(await b.page.getByRole('alert').getByRole('link', { name: 'サービス開始／停止' }).isVisible()).toBe(true);
    expect((await readNotifySettings(h.db.pool, LINE_MAIN)).started).toBe(false);

    await b.page.getByRole('link', { name: '戻る' }).click();
    await b.page.getByRole('link', { name: '送信先メールアドレス設定' }).click();
    await b.page.getByLabel('送信先メールアドレス1').fill('me@example.jp');
    await b.page.getByRole('checkbox', { name: '送信1' }).check();
    await b.page.getByRole('button', { name: '設定', exact: true }).click();
    expect(await saved()).toBe('設定しました。');
    await b.page.getByRole('link', { name: '戻る' }).click();
    await b.page.getByRole('link', { name: 'サービス開始／停止' }).click();
    await b.page.getByRole('radio', { name: '開始' }).check();
    await b.page.getByRole('button', { name: '設定' }).click();
    expect(await saved()).toBe('設定しました。');
    const s = await readNotifySettings(h.db.pool, LINE_MAIN);
    expect(s.started).toBe(true);
    expect(s.destinations).toEqual([{ position: 1, address: 'me@example.jp', send: true }]);
    expect(await h.auditActions(LINE_MAIN)).toEqual(expect.arrayContaining(['chakushin_mail.destinations', 'chakushin_mail.start']));
  });

  it.each([
    ['abc..def@ntt-east.jp', '「.」を2つ続けて使用することはできません。'],
    ['abcdef.@ntt-east.jp', '「.」を先頭および「@」の直前に使用することはできません。'],
    ['.abcdef@ntt-east.jp', '「.」を先頭および「@」の直前に使用することはできません。'],
    [`${'a'.repeat(64)}@ntt-east.jp`, '「@」の前は63文字以内で入力してください。'],
    [`a@${'b'.repeat(255)}`, 'メールアドレスは半角256文字以内で入力してください。'],
    ['a@b@ntt-east.jp', '「@」は必ず1つだけ入力してください。'],
    ['abc.ntt-east.jp', '「@」は必ず1つだけ入力してください。'],
    ['@ntt-east.jp', '「@」をメールアドレスの先頭および末尾に入力することはできません。'],
    ['abc@', '「@」をメールアドレスの先頭および末尾に入力することはできません。'],
    ['a(b)@ntt-east.jp', '「@」の前に使用できない文字が含まれています（使用できる文字：半角英数字と _ . - ! $ % \' * + / ? ^ #）。'],
    ['abc@ntt_east.jp', '「@」の後に使用できない文字が含まれています（使用できる文字：半角英数字と - .）。'],
    ['abc@ntt-east.jp.', 'メールアドレスの末尾に「.」を入力することはできません。'],
  ])('refuses %s next to the field, keeps what was typed, saves nothing', async (address, message) => {
    await openMenu(LINE_MAIN, LINE_EXTRA);
    await b.page.getByRole('link', { name: '送信先メールアドレス設定' }).click();
    await b.page.getByLabel('送信先メールアドレス1').fill('ok@example.jp');
    await b.page.getByLabel('送信先メールアドレス2').fill(address);
    await b.page.getByRole('button', { name: '設定', exact: true }).click();
    expect(await fieldError(b.page, '送信先メールアドレス2')).toBe(message);
    expect(await b.page.getByLabel('送信先メールアドレス2').inputValue()).toBe(address);
    expect(await b.page.getByLabel('送信先メールアドレス1').inputValue()).toBe('ok@example.jp');
    expect((await readNotifySettings(h.db.pool, LINE_EXTRA)).destinations).toEqual([]);
  });

  it('offers 5 destinations and refuses a 6th posted by hand', async () => {
    await openMenu(LINE_MAIN, LINE_EXTRA);
    await b.page.getByRole('link', { name: '送信先メールアドレス設定' }).click();
    for (let i = 1; i <= 5; i++) await b.page.getByLabel(`送信先メールアドレス${i}`).fill(`d${i}@example.jp`);
    expect(await b.page.getByLabel('送信先メールアドレス6').count()).toBe(0);
    await b.page.getByRole('button', { name: '設定', exact: true }).click();
    expect(await saved()).toBe('設定しました。');
    expect((await readNotifySettings(h.db.pool, LINE_EXTRA)).destinations).toHaveLength(5);
    const form = await hiddenFields();
    const res = await b.page.request.post(`${h.url}/chakushin-mail/${LINE_EXTRA}/destinations`, { form: { ...form, address1: 'x@example.jp', address6: 'six@example.jp' } });
    expect(res.status()).toBe(400);
    expect(await res.text()).toContain('送信先メールアドレスは5件まで設定できます。');
    expect((await readNotifySettings(h.db.pool, LINE_EXTRA)).destinations.map((d) => d.address)).toEqual(['d1@example.jp', 'd2@example.jp', 'd3@example.jp', 'd4@example.jp', 'd5@example.jp']);
  });

  it('送信テストn queues a test mail to the typed address, saved or not, up to the hourly limit', async () => {
    await openMenu(NUM_EXTRA, NUM_EXTRA);
    await b.page.getByRole('link', { name: '送信先メールアドレス設定' }).click();
    await b.page.getByLabel('送信先メールアドレス3').fill('typed@example.jp');
    await b.page.getByRole('button', { name: '送信テスト3' }).click();
    expect(await saved()).toBe('送信先メールアドレス3（typed@example.jp）へ送信テストメールを送信しました。届いたことをご確認ください。');
    // Not saved by the test, but still in the field.
    expect(await b.page.getByLabel('送信先メールアドレス3').inputValue()).toBe('typed@example.jp');
    expect((await readNotifySettings(h.db.pool, NUM_EXTRA)).destinations).toEqual([]);
    await b.page.getByRole('button', { name: '送信テスト3' }).click();
    await b.page.getByRole('button', { name: '送信テスト3' }).click();
    expect(await fieldError(b.page, '送信先メールアドレス3')).toBe('送信テストは1時間に2回までです。しばらくしてから、もう一度お試しください。');
    const { rows } = await h.db.pool.query("select to_address, subject from mail_outbox where kind = 'test' and to_address = 'typed@example.jp'");
    expect(rows).toEqual([
      { to_address: 'typed@example.jp', subject: `送信テスト（${NUM_EXTRA}）` },
      { to_address: 'typed@example.jp', subject: `送信テスト（${NUM_EXTRA}）` },
    ]);
    // An hour later (staying active, so the session lives on) the button works again.
    for (let i = 0; i < 3; i++) {
      h.clock.advance(20 * 60_000 + 1_000);
      await b.page.goto(b.page.url());
    }
    await b.page.getByLabel('送信先メールアドレス3').fill('typed@example.jp');
    await b.page.getByRole('button', { name: '送信テスト3' }).click();
    expect(await saved()).toContain('送信テストメールを送信しました');
    await b.page.getByLabel('送信先メールアドレス4').fill('bad..address@example.jp');
    await b.page.getByRole('button', { name: '送信テスト4' }).click();
    expect(await fieldError(b.page, '送信先メールアドレス4')).toBe('「.」を2つ続けて使用することはできません。');
  });

  it('a form drawn before another window saved is refused with a message to reload', async () => {
    await openMenu(NUM_MAIN, NUM_MAIN);
    await b.page.getByRole('link', { name: 'メール送信条件設定' }).click();
    const other = await b.newPage();
    await other.goto(b.page.url());
    await other.getByRole('checkbox', { name: '応答できなかった着信のみお知らせする' }).check();
    await other.getByRole('button', { name: '設定' }).click();
    expect(await other.getByRole('status').textContent()).toBe('設定しました。');
    await other.close();
    await b.page.getByRole('checkbox', { name: 'お知らせ対象電話番号からの着信のみお知らせする' }).check();
    await b.page.getByRole('button', { name: '設定' }).click();
    expect(await b.page.getByRole('alert').textContent()).toContain('別の画面などで設定が変更されています。画面を読み込み直してから、もう一度設定してください。');
    let s = await readNotifySettings(h.db.pool, NUM_MAIN);
    expect([s.designatedOnly, s.unansweredOnly]).toEqual([false, true]);
    // The refused page shows what is saved now; submitting it again works.
    await b.page.getByRole('checkbox', { name: 'お知らせ対象電話番号からの着信のみお知らせする' }).check();
    await b.page.getByRole('button', { name: '設定' }).click();
    expect(await saved()).toBe('設定しました。');
    s = await readNotifySettings(h.db.pool, NUM_MAIN);
    expect([s.designatedOnly, s.unansweredOnly]).toEqual([true, true]);
  });
});

describe('お知らせ対象電話番号設定', () => {
  it('saves up to 30 numbers with their 指定 flags; a bad number saves nothing', async () => {
    await openMenu(ADMIN_MAIN, ADMIN_OTHER);
    await b.page.getByRole('link', { name: 'お知らせ対象電話番号設定' }).click();
    expect(await b.page.getByLabel('電話番号30', { exact: true }).count()).toBe(1);
    expect(await b.page.getByLabel('電話番号31', { exact: true }).count()).toBe(0);
    await b.page.getByLabel('電話番号1', { exact: true }).fill('0312345678');
    await b.page.getByRole('checkbox', { name: '指定1', exact: true }).check();
    await b.page.getByLabel('電話番号30', { exact: true }).fill('09012345678');
    await b.page.getByLabel('電話番号2', { exact: true }).fill('03-1234-5679');
    await b.page.getByRole('button', { name: '設定' }).click();
    expect(await fieldError(b.page, '電話番号2')).toBe('電話番号はハイフンなしの半角数字（0から始まる10桁または11桁）で入力してください。');
    expect((await readNotifySettings(h.db.pool, ADMIN_OTHER)).designated).toEqual([]);
    await b.page.getByLabel('電話番号2', { exact: true }).fill('');
    await b.page.getByRole('button', { name: '設定' }).click();
    expect(await saved()).toBe('設定しました。');
    expect((await readNotifySettings(h.db.pool, ADMIN_OTHER)).designated).toEqual([
      { position: 1, callerNumber: '0312345678', designated: true },
      { position: 30, callerNumber: '09012345678', designated: false },
    ]);
    const res = await b.page.request.post(`${h.url}/chakushin-mail/${ADMIN_OTHER}/designated`, { form: { ...(await hiddenFields()), number31: '0312345670' } });
    expect(res.status()).toBe(400);
    expect(await res.text()).toContain('お知らせ対象電話番号は30件まで設定できます。');
  });
});

describe('認証単位 scope', () => {
  it('回線単位: the main number chooses among all numbers; an additional number cannot log in', async () => {
    await logIn(b.page, h.url, LINE_MAIN, PW);
    await b.page.goto(`${h.url}/chakushin-mail`);
    expect(await heading(b.page)).toBe('電話番号選択');
    expect(await b.page.getByRole('link', { name: LINE_EXTRA }).isVisible()).toBe(true);
    await h.setPassword(LINE_EXTRA, PW);
    await b.context.clearCookies();
    await logIn(b.page, h.url, LINE_EXTRA, PW);
    expect(await b.page.getByRole('alert').textContent()).toContain('電話番号またはパスワードが正しくありません。');
  });

  it('電話番号単位: a number sets only itself; another number of the contract is refused by URL and by form', async () => {
    await openMenu(NUM_EXTRA, NUM_EXTRA);
    await b.page.goto(`${h.url}/chakushin-mail/${NUM_MAIN}/destinations`);
    expect(await heading(b.page)).toBe('設定できません');
    const res = await b.page.request.post(`${h.url}/chakushin-mail/${NUM_MAIN}/start`, { form: { ...(await csrfOnly(NUM_EXTRA)), started: 'off', version: '1' } });
    expect(res.status()).toBe(403);
    expect(await h.auditActions(NUM_MAIN)).toContain('scope.refused');
  });

  it('管理者／ユーザ単位: the ユーザ sets only itself and changes only its own password; the 管理者 any number', async () => {
    await openMenu(ADMIN_USER, ADMIN_USER);
    for (const path of [`/chakushin-mail/${ADMIN_MAIN}`, `/chakushin-mail/${ADMIN_OTHER}/designated`, `/password?number=${ADMIN_OTHER}`]) {
      const res = await b.page.goto(`${h.url}${path}`);
      expect(res!.status()).toBe(403);
    }
    await b.context.clearCookies();
    await logIn(b.page, h.url, ADMIN_MAIN, PW);
    expect(await b.page.getByText('（管理者）').isVisible()).toBe(true);
    await b.page.getByRole('link', { name: 'パスワード変更' }).click();
    await b.page.getByRole('link', { name: ADMIN_OTHER }).click();
    await b.page.getByLabel('現在のパスワード').fill(PW);
    await b.page.getByLabel('新しいパスワード', { exact: true }).fill('r5t8w2q9');
    await b.page.getByLabel('新しいパスワード（確認）').fill('r5t8w2q9');
    await b.page.getByRole('button', { name: 'パスワード変更' }).click();
    expect(await b.page.getByText(`電話番号 ${ADMIN_OTHER} のパスワードを変更しました。`).isVisible()).toBe(true);
    await b.page.getByRole('link', { name: '戻る' }).click();
    expect(await heading(b.page)).toBe('ひかり電話設定サイト トップ');
    // The main number's own password: ends with ログイン画面へ.
    await b.page.getByRole('link', { name: 'パスワード変更' }).click();
    await b.page.getByLabel('現在のパスワード').fill(PW);
    await b.page.getByLabel('新しいパスワード', { exact: true }).fill('r5t8w2q7');
    await b.page.getByLabel('新しいパスワード（確認）').fill('r5t8w2q7');
    await b.page.getByRole('button', { name: 'パスワード変更' }).click();
    await b.page.getByRole('link', { name: 'ログイン画面へ' }).click();
    expect(await heading(b.page)).toBe('ログイン');
    await h.setPassword(ADMIN_MAIN, PW);
  });

  it('33 or more numbers: 電話番号検索 with part of a number and * as wildcard', async () => {
    await logIn(b.page, h.url, MANY_MAIN, PW);
    await b.page.goto(`${h.url}/chakushin-mail`);
    await b.page.getByLabel('電話番号検索').fill('0653400*33');
    await b.page.getByRole('button', { name: '検索' }).click();
    const links = b.page.getByRole('link', { name: /^0653400\d{3}$/ });
    expect(await links.allTextContents()).toEqual(['0653400133']);
    // Every number has a 1: all of them, paged.
    await b.page.getByLabel('電話番号検索').fill('1');
    await b.page.getByRole('button', { name: '検索' }).click();
    expect(await links.count()).toBe(NUMBERS_PER_PAGE);
    expect(await b.page.getByRole('navigation', { name: 'ページ' }).getByText(`${MANY_SIZE}件中 1～${NUMBERS_PER_PAGE}件目`).isVisible()).toBe(true);
  });
});

/** The hidden fields of the form on the page (CSRF token, version), as a hand-made POST would copy them. */
async function hiddenFields(): Promise<Record<string, string>> {
  return b.page.evaluate(() => Object.fromEntries([...document.querySelectorAll('form:not([action="/logout"]) input[type=hidden]')].map((i) => [(i as HTMLInputElement).name, (i as HTMLInputElement).value])));
}
async function csrfOnly(_login: string): Promise<Record<string, string>> {
  await b.page.goto(`${h.url}/chakushin-mail/${NUM_EXTRA}/start`);
  const f = await hiddenFields();
  return { _csrf: f._csrf! };
}
