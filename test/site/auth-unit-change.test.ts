// 認証単位変更 in a real browser: each of the six transitions from the トップ, what every number can
// log in with afterwards, the audit row, and the sessions that end.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openBrowser, type TestBrowser } from '../support/browser.ts';
import { fieldError, heading, logIn, startSiteHarness, type SiteHarness } from '../support/site.ts';

const M = 'k7q2m9x4';
const A = 'h3w8p2z6';
const TOP = 'ひかり電話設定サイト トップ';

/** Contract i: main, an additional number with a site service, one without, one with a site service and no password. */
const nums = (i: number) => ({ main: `035401${i}001`, extra: `035401${i}002`, bare: `035401${i}003`, unset: `035401${i}004` });
const contract = (i: number, authUnit: string) => {
  const n = nums(i);
  return {
    id: `U${i}`, region: 'east', pattern: 'A', authUnit,
    numbers: [
      { number: n.main, role: 'main', services: ['chakushin_mail'] },
      { number: n.extra, role: 'additional', services: ['chakushin_mail'] },
      { number: n.bare, role: 'additional', services: ['number_request'] },
      { number: n.unset, role: 'additional', services: ['chakushin_mail'] },
    ],
  };
};
const UNITS = ['number', 'number', 'line', 'line', 'admin_user', 'admin_user'] as const;

let h: SiteHarness;
let b: TestBrowser;
let other: TestBrowser;
beforeAll(async () => {
  h = await startSiteHarness({ contracts: UNITS.map((u, i) => contract(i + 1, u)) }, { site: { loginRateLimit: { max: 1000, windowSec: 60 } } });
  for (let i = 1; i <= UNITS.length; i++) {
    await h.setPassword(nums(i).main, M);
    if (UNITS[i - 1] !== 'line') await h.setPassword(nums(i).extra, A);
  }
  [b, other] = await Promise.all([openBrowser('desktop'), openBrowser('phone')]);
});
beforeEach(async () => {
  await b.context.clearCookies();
  await other.context.clearCookies();
});
afterAll(async () => {
  await b?.close();
  await other?.close();
  await h?.stop();
});

/** Whether `number` gets to the トップ with `password` (logging out again if so). */
async function canLogIn(number: string, password: string): Promise<boolean> {
  await b.context.clearCookies();
  await logIn(b.page, h.url, number, password);
  const ok = (await heading(b.page)) === TOP;
  if (ok) await b.page.getByRole('button', { name: 'ログアウト' }).click();
  return ok;
}

async function changeUnit(login: string, password: string, to: string, passwords: Record<string, string>) {
  await logIn(b.page, h.url, login, password);
  expect(await heading(b.page)).toBe(TOP);
  await b.page.getByRole('link', { name: '認証単位変更' }).click();
  expect(await heading(b.page)).toBe('認証単位変更');
  await b.page.getByRole('link', { name: to, exact: true }).click();
  expect(await heading(b.page)).toBe(`認証単位変更（${to}）`);
  for (const [label, value] of Object.entries(passwords)) await b.page.getByLabel(label, { exact: true }).fill(value);
  await b.page.getByRole('button', { name: '認証単位変更' }).click();
}

const unitOf = async (id: string) => (await h.db.pool.query('select auth_unit from contract where id = $1', [id])).rows[0].auth_unit;
async function auditOf(number: string) {
  const { rows } = await h.db.pool.query("select detail from audit_log where subject = $1 and action = 'contract.auth_unit_change'", [number]);
  return rows.map((r) => r.detail);
}
/** Whether the other browser's session (logged in before the change) is still logged in. */
const otherStillIn = async () => {
  await other.page.goto(`${h.url}/`);
  return (await heading(other.page)) === TOP;
};

describe('from 電話番号単位 (every number with a site service gives its password)', () => {
  it('→ 回線単位 from an additional number: a wrong password is named and changes nothing; then the main number logs in with the changer\'s password', async () => {
    const n = nums(1);
    await logIn(other.page, h.url, n.main, M);
    expect(await heading(other.page)).toBe(TOP);
    await h.setPassword(n.unset, 'p4v8c2x6');
    await changeUnit(n.extra, A, '回線単位', { [`パスワード（${n.main}）`]: 'wrong9x4q', [`パスワード（${n.extra}）`]: A, [`パスワード（${n.unset}）`]: 'p4v8c2x6' });
    expect(await fieldError(b.page, `パスワード（${n.main}）`)).toBe('パスワードが正しくありません。');
    expect(await fieldError(b.page, `パスワード（${n.extra}）`)).toBeNull();
    // The number without a site service is not asked.
    expect(await b.page.getByLabel(`パスワード（${n.bare}）`).count()).toBe(0);
    expect(await unitOf('U1')).toBe('number');
    expect((await h.account(n.main))!.password!.failedAttempts).toBe(1);

    await b.page.getByLabel(`パスワード（${n.main}）`, { exact: true }).fill(M);
    await b.page.getByLabel(`パスワード（${n.extra}）`, { exact: true }).fill(A);
    await b.page.getByLabel(`パスワード（${n.unset}）`, { exact: true }).fill('p4v8c2x6');
    await b.page.getByRole('button', { name: '認証単位変更' }).click();
    expect(await heading(b.page)).toBe('設定完了');
    expect(await b.page.getByText('認証単位を回線単位に変更しました。').isVisible()).toBe(true);
    expect(await unitOf('U1')).toBe('line');

    expect(await otherStillIn()).toBe(false);
    expect(await canLogIn(n.main, A)).toBe(true);
    expect(await canLogIn(n.main, M)).toBe(false);
    expect(await canLogIn(n.extra, A)).toBe(false);
    expect(await canLogIn(n.unset, 'p4v8c2x6')).toBe(false);
    expect((await h.account(n.extra))!.password).toBeUndefined();
    expect(await auditOf(n.extra)).toEqual([expect.objectContaining({ contract: 'U1', from: 'number', to: 'line', passwordCopiedTo: [n.main] })]);
  });

  it('→ 管理者／ユーザ単位: each number keeps its own password; a number with a site service and no password blocks the change', async () => {
    const n = nums(2);
    await changeUnit(n.main, M, '管理者／ユーザ単位', { [`パスワード（${n.main}）`]: M, [`パスワード（${n.extra}）`]: A });
    expect(await fieldError(b.page, `パスワード（${n.unset}）`)).toContain('パスワードが設定されていません');
    expect(await unitOf('U2')).toBe('number');
    await h.setPassword(n.unset, 'p4v8c2x6');
    await b.page.getByLabel(`パスワード（${n.main}）`, { exact: true }).fill(M);
    await b.page.getByLabel(`パスワード（${n.extra}）`, { exact: true }).fill(A);
    await b.page.getByLabel(`パスワード（${n.unset}）`, { exact: true }).fill('p4v8c2x6');
    await b.page.getByRole('button', { name: '認証単位変更' }).click();
    expect(await heading(b.page)).toBe('設定完了');
    expect(await unitOf('U2')).toBe('admin_user');

    await logIn(b.page, h.url, n.main, M);
    expect(await b.page.getByText(`ログイン中：${n.main}（管理者）`).isVisible()).toBe(true);
    await b.context.clearCookies();
    await logIn(b.page, h.url, n.extra, A);
    expect(await b.page.getByText(`ログイン中：${n.extra}（ユーザ）`).isVisible()).toBe(true);
    expect(await canLogIn(n.unset, 'p4v8c2x6')).toBe(true);
    expect(await auditOf(n.main)).toEqual([expect.objectContaining({ from: 'number', to: 'admin_user', passwordCopiedTo: [], passwordDropped: [] })]);
  });
});

describe('from 回線単位 (the 回線単位 password)', () => {
  it('→ 電話番号単位: the main number and the additional numbers with a site service log in with the 回線単位 password; the others need a temp password', async () => {
    const n = nums(3);
    await changeUnit(n.main, M, '電話番号単位', { パスワード: M });
    expect(await heading(b.page)).toBe('設定完了');
    expect(await unitOf('U3')).toBe('number');
    expect(await canLogIn(n.main, M)).toBe(true);
    expect(await canLogIn(n.extra, M)).toBe(true);
    expect(await canLogIn(n.unset, M)).toBe(true);
    expect(await canLogIn(n.bare, M)).toBe(false);
    expect((await h.account(n.bare))!.password).toBeUndefined();
    expect(await auditOf(n.main)).toEqual([expect.objectContaining({ from: 'line', to: 'number', passwordCopiedTo: [n.extra, n.unset] })]);
  });

  it('→ 管理者／ユーザ単位: the 回線単位 password becomes every number\'s password; a wrong one changes nothing', async () => {
    const n = nums(4);
    await changeUnit(n.main, M, '管理者／ユーザ単位', { パスワード: 'wrong9x4q' });
    expect(await fieldError(b.page, 'パスワード')).toBe('パスワードが正しくありません。');
    expect(await unitOf('U4')).toBe('line');
    await b.page.getByLabel('パスワード', { exact: true }).fill(M);
    await b.page.getByRole('button', { name: '認証単位変更' }).click();
    expect(await heading(b.page)).toBe('設定完了');
    expect(await unitOf('U4')).toBe('admin_user');
    await logIn(b.page, h.url, n.extra, M);
    expect(await b.page.getByText(`ログイン中：${n.extra}（ユーザ）`).isVisible()).toBe(true);
    expect(await canLogIn(n.main, M)).toBe(true);
    expect(await canLogIn(n.unset, M)).toBe(true);
    // Set on every number, though one without a site service still cannot log in.
    expect((await h.account(n.bare))!.password).toBeDefined();
    expect(await canLogIn(n.bare, M)).toBe(false);
  });
});

describe('from 管理者／ユーザ単位 (only the 契約者回線番号)', () => {
  it('a ユーザ gets no link, and the URL is refused on the server', async () => {
    const n = nums(5);
    await logIn(b.page, h.url, n.extra, A);
    expect(await heading(b.page)).toBe(TOP);
    expect(await b.page.getByRole('link', { name: '認証単位変更' }).count()).toBe(0);
    const res = await b.page.goto(`${h.url}/auth-unit/number`);
    expect(res!.status()).toBe(403);
    expect(await b.page.getByText('契約者回線番号でログインした時のみ行えます').isVisible()).toBe(true);
    // A hand-made POST with the page's CSRF token is refused the same way.
    await b.page.goto(`${h.url}/auth-unit`);
    const token = await b.page.evaluate(() => document.querySelector<HTMLInputElement>('input[name=_csrf]')!.value);
    const post = await b.page.request.post(`${h.url}/auth-unit/line`, { form: { _csrf: token, from: 'admin_user', password: A } });
    expect(post.status()).toBe(403);
    expect(await unitOf('U5')).toBe('admin_user');
  });

  it('→ 電話番号単位: each number keeps its password; a number without one cannot log in', async () => {
    const n = nums(5);
    await logIn(other.page, h.url, n.extra, A);
    await changeUnit(n.main, M, '電話番号単位', { パスワード: M });
    expect(await heading(b.page)).toBe('設定完了');
    expect(await unitOf('U5')).toBe('number');
    // The ユーザ kept its login and password: its session goes on.
    expect(await otherStillIn()).toBe(true);
    expect(await canLogIn(n.main, M)).toBe(true);
    expect(await canLogIn(n.extra, A)).toBe(true);
    expect(await canLogIn(n.unset, M)).toBe(false);
    expect(await auditOf(n.main)).toEqual([expect.objectContaining({ from: 'admin_user', to: 'number' })]);
  });

  it('→ 回線単位: the main number\'s password is the one; the additional numbers\' passwords become invalid and their sessions end', async () => {
    const n = nums(6);
    await logIn(other.page, h.url, n.extra, A);
    expect(await otherStillIn()).toBe(true);
    await changeUnit(n.main, M, '回線単位', { パスワード: M });
    expect(await heading(b.page)).toBe('設定完了');
    expect(await unitOf('U6')).toBe('line');
    expect(await otherStillIn()).toBe(false);
    expect(await canLogIn(n.main, M)).toBe(true);
    expect(await canLogIn(n.extra, A)).toBe(false);
    expect((await h.account(n.extra))!.password).toBeUndefined();
    const { rows } = await h.db.pool.query('select count(*)::int as n from session where login_number = $1', [n.extra]);
    expect(rows[0].n).toBe(0);
    expect(await auditOf(n.main)).toEqual([expect.objectContaining({ from: 'admin_user', to: 'line', passwordDropped: [n.extra, n.bare, n.unset] })]);
  });
});
