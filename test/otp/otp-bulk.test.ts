// ワンタイムパスワード各種一括設定 in a real browser: download without secrets, a file with bad rows
// (all reported, nothing applied), a good file (new addresses get their 本登録 URL mail), and the
// round trip of the result changing nothing.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTP_CSV_HEADER } from '../../src/site/settings/bulk/otp-csv.ts';
import { openBrowser, type TestBrowser } from '../support/browser.ts';
import { heading, logIn, startSiteHarness, type SiteHarness } from '../support/site.ts';
import { verifyPassword } from '../../src/store/password-hash.ts';

const PW = 'k7q2m9x4';
const num = (i: number) => `035403000${i}`;

let h: SiteHarness;
let b: TestBrowser;
beforeAll(async () => {
  h = await startSiteHarness(
    { contracts: [{ id: 'OB', region: 'east', pattern: 'A', authUnit: 'admin_user', numbers: [0, 1, 2, 3].map((i) => ({ number: num(i), role: i ? 'additional' : 'main', services: ['chakushin_mail'] })) }] },
    { otp: { regions: { east: true, west: false } }, site: { loginRateLimit: { max: 1000, windowSec: 60 } } },
  );
  await h.setPassword(num(0), PW);
  b = await openBrowser('desktop');
  await logIn(b.page, h.url, num(0), PW);
  await b.page.getByLabel('ワンタイムパスワードを利用しない').check();
  await b.page.getByRole('button', { name: '次へ' }).click();
  await b.page.getByRole('button', { name: '同意する' }).click();
  expect(await heading(b.page)).toBe('ひかり電話設定サイト トップ');
});
afterAll(async () => {
  await b?.close();
  await h?.stop();
});

const record = (cells: string[]) => cells.map((c) => `"${c}"`).join(',') + '\r\n';
async function openBulk() {
  await b.page.goto(`${h.url}/`);
  await b.page.getByRole('link', { name: 'ワンタイムパスワード各種一括設定' }).click();
  expect(await heading(b.page)).toBe('ワンタイムパスワード各種一括設定');
}
async function download(): Promise<string> {
  const [dl] = await Promise.all([b.page.waitForEvent('download'), b.page.getByRole('link', { name: '一括ダウンロード' }).click()]);
  return (await readFile((await dl.path())!)).subarray(3).toString('utf8');
}
async function upload(bytes: Buffer) {
  await b.page.getByLabel('CSVファイル').setInputFiles({ name: 'otp.csv', mimeType: 'text/csv', buffer: bytes });
  await b.page.getByRole('button', { name: '一括設定' }).click();
}
const settings = async () => (await h.db.pool.query('select number, use_otp, address, pending_address, check_id_hash, check_password_hash, updated_at from otp_setting order by number')).rows;

describe('ワンタイムパスワード各種一括設定', () => {
  it('bad rows are all reported and nothing is applied; a good file applies, mails the new addresses, and round-trips unchanged', async () => {
    await openBulk();
    expect(await download()).toBe(record(OTP_CSV_HEADER) + record([num(0), '0', '', '', '']) + [1, 2, 3].map((i) => record([num(i), '', '', '', ''])).join(''));
    const before = await settings();

    const bad =
      record(OTP_CSV_HEADER) +
      record([num(1), '1', 'user1@example.jp', 'ABCDEFGH', 'pass1234']) +
      record([num(2), '2', '', '', '']) +
      record([num(3), '1', 'user3@@example.jp', 'User3abc', 'pass3abc9']);
    await upload(Buffer.from(bad, 'utf8'));
    const rows = await b.page.getByRole('table', { name: 'CSVファイルの誤り' }).getByRole('row').all();
    expect(await Promise.all(rows.slice(1).map((r) => r.getByRole('cell').allTextContents()))).toEqual([
      ['2', '確認用ID', '英字大文字のみの確認用IDは利用できません。'],
      ['3', 'ワンタイムパスワード利用設定', '0（利用なし）または1（利用あり）を入力してください。'],
      ['4', 'ワンタイムパスワード受信用メールアドレス', '「@」は必ず1つだけ入力してください。'],
    ]);
    expect(await settings()).toEqual(before);

    const good =
      record(OTP_CSV_HEADER) +
      record([num(1), '1', 'user1@example.jp', 'User1abc', 'pass1234x']) +
      record([num(2), '0', '', '', '']);
    await upload(Buffer.from(good, 'utf8'));
    expect(await b.page.getByRole('status').textContent()).toBe('2件の電話番号を確認し、2件の設定を変更しました。1件のメールアドレスに「メールアドレスの本登録お手続きURL」を送信しました。');
    const after = await settings();
    expect(after.map((r) => [r.number, r.use_otp, r.pending_address])).toEqual([[num(0), false, null], [num(1), true, 'user1@example.jp'], [num(2), false, null]]);
    const n1 = after.find((r) => r.number === num(1))!;
    expect(n1.check_id_hash).not.toContain('User1abc');
    expect(n1.check_password_hash).not.toContain('pass1234x');
    // Each hash is of its own column's value (they are hashed side by side).
    expect([await verifyPassword('User1abc', n1.check_id_hash), await verifyPassword('pass1234x', n1.check_password_hash)]).toEqual([true, true]);
    const { rows: mails } = await h.db.pool.query("select to_address, subject from mail_outbox where kind = 'notice'");
    expect(mails).toEqual([{ to_address: 'user1@example.jp', subject: `メールアドレスの本登録お手続きURL（${num(1)}）` }]);

    // The 確認用ID/パスワード never leave the server; the file goes back unchanged.
    const file = await download();
    expect(file).toContain(record([num(1), '1', 'user1@example.jp', '', '']));
    await upload(Buffer.from(file, 'utf8'));
    expect(await b.page.getByRole('status').textContent()).toBe('4件の電話番号を確認し、0件の設定を変更しました。');
    expect(await settings()).toEqual(after);
  });
});
