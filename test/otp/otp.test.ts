// ワンタイムパスワード in a real browser, with the mails read from the SMTP catcher: the choice at
// the first login, provisional registration and its 本登録 URL, the code at each login, a new
// session id after it, expired URL, expired and wrong codes, every 確認用ID/パスワード rule,
// the address change with 確認用ID/パスワード, the change pages, and the region switch.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSmtpCatcher, type SmtpCatcher } from '../../src/mail/catcher.ts';
import { catcherTransport } from '../../src/mail/transport.ts';
import { startMailWorker, type MailWorker } from '../../src/mail/worker.ts';
import { quietLogger, readMails } from '../mail/mailbox.ts';
import { openBrowser, type TestBrowser } from '../support/browser.ts';
import { fieldError, heading, logIn, startSiteHarness, type SiteHarness } from '../support/site.ts';

const PW = 'k7q2m9x4';
const TOP = 'ひかり電話設定サイト トップ';
const n = (i: number) => `0354020${String(i).padStart(3, '0')}`;
const WEST = '0654020001';

let h: SiteHarness;
let b: TestBrowser;
let catcher: SmtpCatcher;
let worker: MailWorker;
let mailDir: string;
beforeAll(async () => {
  h = await startSiteHarness(
    {
      contracts: [
        ...Array.from({ length: 8 }, (_, i) => ({ id: `O${i + 1}`, region: 'east', pattern: 'A', authUnit: 'line', numbers: [{ number: n(i + 1), role: 'main', services: ['chakushin_mail'] }] })),
        { id: 'OW', region: 'west', pattern: 'A', authUnit: 'line', numbers: [{ number: WEST, role: 'main', services: ['chakushin_mail'] }] },
      ],
    },
    { otp: { regions: { east: true, west: false } }, site: { loginRateLimit: { max: 1000, windowSec: 60 } } },
  );
  for (let i = 1; i <= 8; i++) await h.setPassword(n(i), PW);
  await h.setPassword(WEST, PW);
  mailDir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-otp-mail-'));
  catcher = await startSmtpCatcher({ host: '127.0.0.1', port: 0, dir: mailDir, logger: quietLogger });
  worker = startMailWorker({ pool: h.db.pool, listenUrl: h.db.url, transport: catcherTransport({ host: '127.0.0.1', port: catcher.port }), logger: quietLogger, concurrency: 2, pollMs: 100 });
  b = await openBrowser('desktop');
});
beforeEach(async () => {
  h.clock.reset();
  await b.context.clearCookies();
});
afterAll(async () => {
  await b?.close();
  await worker?.stop();
  await catcher?.close();
  await h?.stop();
  if (mailDir) await rm(mailDir, { recursive: true, force: true });
});

/** The newest mail to `to` whose subject starts with `subject`, after `seen` such mails. */
async function mailTo(to: string, subject: string, seen = 0): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const got = (await readMails(catcher)).filter((m) => m.deliveredTo === to && m.subject.startsWith(subject));
    if (got.length > seen) return got[got.length - 1]!.text;
    if (Date.now() > deadline) throw new Error(`no mail "${subject}" to ${to}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const linkIn = (text: string) => /https?:\/\/\S+\/otp\/confirm\?t=[A-Za-z0-9_-]+/.exec(text)![0];
const codeIn = (text: string) => /ワンタイムパスワード：(\d{6})/.exec(text)![1]!;
const sid = async () => (await b.context.cookies()).find((c) => c.name === 'sid')?.value;

async function chooseUse(number: string) {
  await logIn(b.page, h.url, number, PW);
  expect(await heading(b.page)).toBe('ワンタイムパスワード利用選択');
  await b.page.getByLabel('ワンタイムパスワードを利用する').check();
  await b.page.getByRole('button', { name: '次へ' }).click();
  expect(await heading(b.page)).toBe('ワンタイムパスワード利用情報仮登録');
}
async function fillRegistration(address: string, id: string, password: string) {
  await b.page.getByLabel('ワンタイムパスワード受信用メールアドレス').fill(address);
  await b.page.getByLabel('確認用ID').fill(id);
  await b.page.getByLabel('確認用パスワード').fill(password);
  await b.page.getByRole('button', { name: '次へ' }).click();
}
async function register(number: string, address: string) {
  await chooseUse(number);
  await fillRegistration(address, 'Kakunin01', 'kakunin99');
  expect(await heading(b.page)).toBe('ワンタイムパスワード利用情報仮登録（確認）');
  await b.page.getByRole('button', { name: '登録' }).click();
  expect(await heading(b.page)).toBe('ワンタイムパスワード利用情報仮登録完了');
}
async function followLink(url: string) {
  await b.page.goto(url);
  await b.page.getByRole('button', { name: '本登録' }).click();
}
/** Logs in with the password and asks for a code; returns how many code mails `to` had before. */
async function loginToCode(number: string, to: string): Promise<number> {
  const before = (await readMails(catcher)).filter((m) => m.deliveredTo === to && m.subject.startsWith('ワンタイムパスワードのお知らせ')).length;
  await logIn(b.page, h.url, number, PW);
  expect(await heading(b.page)).toBe('ワンタイムパスワード送信確認');
  await b.page.getByRole('button', { name: 'ワンタイムパスワードを送信' }).click();
  expect(await heading(b.page)).toBe('ワンタイムパスワード入力');
  return before;
}
async function enterCode(code: string) {
  await b.page.getByLabel('ワンタイムパスワード', { exact: true }).fill(code);
  await b.page.getByRole('button', { name: '次へ' }).click();
}

describe('the whole journey', () => {
  it('choice → 仮登録 → 本登録 URL by mail → code by mail → トップ with a new session id; the next login asks for a new code, and an old one is refused', async () => {
    const addr = 'otp1@example.jp';
    await chooseUse(n(1));
    // Nothing else before the step is done.
    await b.page.goto(`${h.url}/services`);
    expect(await heading(b.page)).toBe('ワンタイムパスワード利用選択');
    await b.page.getByLabel('ワンタイムパスワードを利用する').check();
    await b.page.getByRole('button', { name: '次へ' }).click();
    await fillRegistration(addr, 'Kakunin01', 'kakunin99');
    expect(await b.page.getByText(addr).isVisible()).toBe(true);
    await b.page.getByRole('button', { name: '登録' }).click();
    expect(await heading(b.page)).toBe('ワンタイムパスワード利用情報仮登録完了');
    const regMail = await mailTo(addr, 'メールアドレスの本登録お手続きURL');
    expect(regMail).toContain('有効期限は24時間です');
    await followLink(linkIn(regMail));
    expect(await heading(b.page)).toBe('ワンタイムパスワード利用情報本登録完了');
    const before = await sid();
    await b.page.getByRole('button', { name: 'ワンタイムパスワードを送信' }).click();
    const code1 = codeIn(await mailTo(addr, 'ワンタイムパスワードのお知らせ'));
    await enterCode(code1);
    expect(await heading(b.page)).toBe(TOP);
    expect(await sid()).not.toBe(before);
    for (const link of ['ワンタイムパスワード利用選択変更', 'ワンタイムパスワード受信用メールアドレス変更', '確認用ID変更', '確認用パスワード変更']) {
      expect(await b.page.getByRole('link', { name: link }).isVisible()).toBe(true);
    }
    // The URL was single use.
    await followLink(linkIn(regMail));
    expect(await b.page.getByText('既に使用されたか').isVisible()).toBe(true);

    await b.context.clearCookies();
    const seen = await loginToCode(n(1), addr);
    await enterCode(code1);
    expect(await fieldError(b.page, 'ワンタイムパスワード')).toBe('ワンタイムパスワードが正しくありません。（あと4回入力できます）');
    await enterCode(codeIn(await mailTo(addr, 'ワンタイムパスワードのお知らせ', seen)));
    expect(await heading(b.page)).toBe(TOP);
    const { rows } = await h.db.pool.query('select secret_hash from otp_token where number = $1', [n(1)]);
    expect(rows.every((r) => !r.secret_hash.includes(code1))).toBe(true);
    expect(await h.auditActions(n(1))).toEqual(expect.arrayContaining(['otp.register_pending', 'otp.registered', 'otp.code_sent', 'otp.login', 'otp.code_wrong']));
  });

  it('利用しない needs 同意する, and later logins go straight to the トップ', async () => {
    await logIn(b.page, h.url, n(2), PW);
    await b.page.getByLabel('ワンタイムパスワードを利用しない').check();
    await b.page.getByRole('button', { name: '次へ' }).click();
    expect(await heading(b.page)).toBe('ワンタイムパスワードを利用しないことの確認');
    await b.page.getByRole('button', { name: '同意する' }).click();
    expect(await heading(b.page)).toBe(TOP);
    await b.context.clearCookies();
    await logIn(b.page, h.url, n(2), PW);
    expect(await heading(b.page)).toBe(TOP);
  });

  it('a region without it (west by default) logs in as before, with no OTP links', async () => {
    await logIn(b.page, h.url, WEST, PW);
    expect(await heading(b.page)).toBe(TOP);
    expect(await b.page.getByRole('link', { name: 'ワンタイムパスワード利用選択変更' }).count()).toBe(0);
    expect((await b.page.goto(`${h.url}/otp/send`))!.url()).toBe(`${h.url}/`);
  });
});

describe('limits', () => {
  it('a 本登録 URL older than 24 hours is refused', async () => {
    await register(n(3), 'otp3@example.jp');
    const url = linkIn(await mailTo('otp3@example.jp', 'メールアドレスの本登録お手続きURL'));
    h.clock.advance(24 * 3_600_000 + 60_000);
    await b.context.clearCookies();
    await followLink(url);
    expect(await b.page.getByText('有効期限（24時間）が切れています').isVisible()).toBe(true);
    expect((await h.db.pool.query('select address from otp_setting where number = $1', [n(3)])).rows[0].address).toBeNull();
  });

  it('a code entered after 300 seconds is refused and the login starts over', async () => {
    await register(n(4), 'otp4@example.jp');
    await followLink(linkIn(await mailTo('otp4@example.jp', 'メールアドレスの本登録お手続きURL')));
    await b.page.getByRole('button', { name: 'ワンタイムパスワードを送信' }).click();
    const code = codeIn(await mailTo('otp4@example.jp', 'ワンタイムパスワードのお知らせ'));
    h.clock.advance(301_000);
    await enterCode(code);
    expect(await b.page.getByText('有効時間（300秒）を過ぎました').isVisible()).toBe(true);
    await b.page.goto(`${h.url}/`);
    expect(await heading(b.page)).toBe('ログイン');
  });

  it('at most 10 codes are sent per number per hour', async () => {
    // n(4) had one code in the test above.
    await logIn(b.page, h.url, n(4), PW);
    for (let i = 0; i < 9; i++) {
      await b.page.goto(`${h.url}/otp/send`);
      await b.page.getByRole('button', { name: 'ワンタイムパスワードを送信' }).click();
      expect(await heading(b.page)).toBe('ワンタイムパスワード入力');
    }
    await b.page.goto(`${h.url}/otp/send`);
    await b.page.getByRole('button', { name: 'ワンタイムパスワードを送信' }).click();
    expect(await b.page.getByText('ワンタイムパスワードの送信は1時間に10回までです。').isVisible()).toBe(true);
    const { rows } = await h.db.pool.query("select count(*)::int as n from otp_token where number = $1 and kind = 'code'", [n(4)]);
    expect(rows[0].n).toBe(10);
  });

  it('5 wrong codes kill the code: even the right one is refused after that', async () => {
    await register(n(5), 'otp5@example.jp');
    await followLink(linkIn(await mailTo('otp5@example.jp', 'メールアドレスの本登録お手続きURL')));
    await b.page.getByRole('button', { name: 'ワンタイムパスワードを送信' }).click();
    const code = codeIn(await mailTo('otp5@example.jp', 'ワンタイムパスワードのお知らせ'));
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 1; i <= 4; i++) {
      await enterCode(wrong);
      expect(await fieldError(b.page, 'ワンタイムパスワード')).toBe(`ワンタイムパスワードが正しくありません。（あと${5 - i}回入力できます）`);
    }
    await enterCode(wrong);
    expect(await b.page.getByText('規定の回数以上誤ったため').isVisible()).toBe(true);
    // The session is over; a hand-made retry with the right code gets nowhere.
    await b.page.goto(`${h.url}/`);
    expect(await heading(b.page)).toBe('ログイン');
    const { rows } = await h.db.pool.query("select failed_attempts, used_at from otp_token where number = $1 and kind = 'code'", [n(5)]);
    expect(rows).toEqual([{ failed_attempts: 5, used_at: expect.any(Date) }]);
  });
});

describe('確認用ID and 確認用パスワード', () => {
  it.each([
    ['確認用ID', 'Abc1234', '確認用IDは8～12桁の半角英数字で入力してください。'],
    ['確認用ID', 'Abcd-1234', '確認用IDは半角英数字で入力してください。'],
    ['確認用ID', 'ABCDEFGH', '英字大文字のみの確認用IDは利用できません。'],
    ['確認用ID', 'abcdefgh', '英字小文字のみの確認用IDは利用できません。'],
    ['確認用ID', '12345678', '数字のみの確認用IDは利用できません。'],
    ['確認用パスワード', 'abc1234', '確認用パスワードは8～12桁の半角英数字で入力してください。'],
    ['確認用パスワード', 'abcd_1234', '確認用パスワードは半角英数字で入力してください。'],
    ['確認用パスワード', 'abcdEFGH', '確認用パスワードは英字と数字の両方を組み合わせてください。'],
    ['確認用パスワード', '12345678', '確認用パスワードは英字と数字の両方を組み合わせてください。'],
  ])('%s %s is refused next to its field; the typed address and ID are kept', async (label, value, message) => {
    await chooseUse(n(6));
    const id = label === '確認用ID' ? value : 'Kakunin01';
    await fillRegistration('otp6@example.jp', id, label === '確認用パスワード' ? value : 'kakunin99');
    expect(await fieldError(b.page, label)).toBe(message);
    expect(await b.page.getByLabel('ワンタイムパスワード受信用メールアドレス').inputValue()).toBe('otp6@example.jp');
    expect(await b.page.getByLabel('確認用ID').inputValue()).toBe(id);
    expect(await b.page.getByLabel('確認用パスワード').inputValue()).toBe('');
  });

  it('an address breaking the site\'s rules is refused next to its field', async () => {
    await chooseUse(n(6));
    await fillRegistration('otp6..x@example.jp', 'Kakunin01', 'kakunin99');
    expect(await fieldError(b.page, 'ワンタイムパスワード受信用メールアドレス')).toBe('「.」を2つ続けて使用することはできません。');
  });

  it('メールアドレスの変更 from the send screen: wrong 確認用ID/パスワード refused, right ones lead to a new address with its own URL and the code there', async () => {
    await register(n(7), 'old7@example.jp');
    await followLink(linkIn(await mailTo('old7@example.jp', 'メールアドレスの本登録お手続きURL')));
    await b.context.clearCookies();
    await logIn(b.page, h.url, n(7), PW);
    expect(await heading(b.page)).toBe('ワンタイムパスワード送信確認');
    // The password alone opens no way around the code: not パスワード変更, not the choice, not a new registration.
    for (const path of ['/password', '/services', '/otp/choice', '/otp/decline', '/otp/register', '/otp/address', '/bulk/otp', '/auth-unit']) {
      await b.page.goto(`${h.url}${path}`);
      expect(await heading(b.page), path).not.toBe('パスワード変更');
      expect([ 'ワンタイムパスワード送信確認', 'ワンタイムパスワード受信用メールアドレス変更（確認用ID・パスワード）' ], path).toContain(await heading(b.page));
    }
    const token = await b.page.evaluate(() => document.querySelector<HTMLInputElement>('input[name=_csrf]')!.value);
    const declined = await b.page.request.post(`${h.url}/otp/decline`, { form: { _csrf: token }, maxRedirects: 0 });
    expect(declined.headers().location).toBe('/otp/send');
    expect((await h.db.pool.query('select use_otp from otp_setting where number = $1', [n(7)])).rows[0].use_otp).toBe(true);
    await b.page.goto(`${h.url}/otp/send`);
    await b.page.getByRole('link', { name: 'メールアドレスの変更' }).click();
    await b.page.getByLabel('確認用ID').fill('Kakunin01');
    await b.page.getByLabel('確認用パスワード').fill('kakunin98');
    await b.page.getByRole('button', { name: '次へ' }).click();
    expect(await fieldError(b.page, '確認用パスワード')).toBe('確認用IDまたは確認用パスワードが正しくありません。');
    await b.page.getByLabel('確認用ID').fill('Kakunin01');
    await b.page.getByLabel('確認用パスワード').fill('kakunin99');
    await b.page.getByRole('button', { name: '次へ' }).click();
    expect(await heading(b.page)).toBe('ワンタイムパスワード受信用メールアドレス変更');
    await b.page.getByLabel('ワンタイムパスワード受信用メールアドレス').fill('new7@example.jp');
    await b.page.getByRole('button', { name: '次へ' }).click();
    await b.page.getByRole('button', { name: '登録' }).click();
    expect(await heading(b.page)).toBe('ワンタイムパスワード利用情報仮登録完了');
    await followLink(linkIn(await mailTo('new7@example.jp', 'メールアドレスの本登録お手続きURL')));
    await b.page.getByRole('button', { name: 'ワンタイムパスワードを送信' }).click();
    await enterCode(codeIn(await mailTo('new7@example.jp', 'ワンタイムパスワードのお知らせ')));
    expect(await heading(b.page)).toBe(TOP);
    expect(await h.auditActions(n(7))).toEqual(expect.arrayContaining(['otp.check_wrong', 'otp.check_ok']));
  });

  it('確認用ID変更 and 確認用パスワード変更 from the トップ, and 利用選択変更 to 利用しない with 同意する', async () => {
    await register(n(8), 'otp8@example.jp');
    await followLink(linkIn(await mailTo('otp8@example.jp', 'メールアドレスの本登録お手続きURL')));
    await b.page.getByRole('button', { name: 'ワンタイムパスワードを送信' }).click();
    await enterCode(codeIn(await mailTo('otp8@example.jp', 'ワンタイムパスワードのお知らせ')));
    await b.page.getByRole('link', { name: '確認用ID変更' }).click();
    await b.page.getByLabel('変更前の確認用ID').fill('Kakunin02');
    await b.page.getByLabel('新しい確認用ID', { exact: true }).fill('Shinki001');
    await b.page.getByLabel('新しい確認用ID（確認）').fill('Shinki001');
    await b.page.getByRole('button', { name: '登録' }).click();
    expect(await fieldError(b.page, '変更前の確認用ID')).toBe('変更前の確認用IDが正しくありません。');
    await b.page.getByLabel('変更前の確認用ID').fill('Kakunin01');
    await b.page.getByLabel('新しい確認用ID', { exact: true }).fill('Shinki001');
    await b.page.getByLabel('新しい確認用ID（確認）').fill('Shinki001');
    await b.page.getByRole('button', { name: '登録' }).click();
    expect(await b.page.getByRole('status').textContent()).toBe('設定しました。');
    await b.page.goto(`${h.url}/otp/change-password`);
    await b.page.getByLabel('変更前の確認用パスワード').fill('kakunin99');
    await b.page.getByLabel('新しい確認用パスワード', { exact: true }).fill('shinki123');
    await b.page.getByLabel('新しい確認用パスワード（確認）').fill('shinki124');
    await b.page.getByRole('button', { name: '登録' }).click();
    expect(await fieldError(b.page, '新しい確認用パスワード（確認）')).toBe('新しい確認用パスワード（確認）が一致しません。');
    // ワンタイムパスワード受信用メールアドレス変更 after login: pending until its own URL is followed.
    await b.page.goto(`${h.url}/`);
    await b.page.getByRole('link', { name: 'ワンタイムパスワード受信用メールアドレス変更' }).click();
    await b.page.getByLabel('ワンタイムパスワード受信用メールアドレス').fill('new8@example.jp');
    await b.page.getByRole('button', { name: '次へ' }).click();
    await b.page.getByRole('button', { name: '登録' }).click();
    expect(await heading(b.page)).toBe('ワンタイムパスワード利用情報仮登録完了');
    expect((await h.db.pool.query('select address, pending_address from otp_setting where number = $1', [n(8)])).rows[0]).toEqual({ address: 'otp8@example.jp', pending_address: 'new8@example.jp' });
    await followLink(linkIn(await mailTo('new8@example.jp', 'メールアドレスの本登録お手続きURL')));
    expect(await b.page.getByRole('link', { name: 'トップへ' }).isVisible()).toBe(true);
    expect((await h.db.pool.query('select address, pending_address from otp_setting where number = $1', [n(8)])).rows[0]).toEqual({ address: 'new8@example.jp', pending_address: null });
    await b.page.goto(`${h.url}/`);
    await b.page.getByRole('link', { name: 'ワンタイムパスワード利用選択変更' }).click();
    await b.page.getByLabel('ワンタイムパスワードを利用しない').check();
    await b.page.getByRole('button', { name: '次へ' }).click();
    await b.page.getByRole('button', { name: '同意する' }).click();
    expect(await b.page.getByRole('status').textContent()).toBe('ワンタイムパスワードを利用しない設定にしました。');
    await b.context.clearCookies();
    await logIn(b.page, h.url, n(8), PW);
    expect(await heading(b.page)).toBe(TOP);
  });
});
