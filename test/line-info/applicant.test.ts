// 申込者情報入力: each field rule in a real browser, with its message next to the field and the
// input kept; nothing is applied for while any rule refuses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openBrowser, type TestBrowser, type ViewportName } from '../support/browser.ts';
import { applications, h1, line, logInLine, startLineInfoHarness, type LineInfoHarness } from './harness.ts';

let h: LineInfoHarness;
beforeAll(async () => {
  h = await startLineInfoHarness([line(21, ['W0099']), line(22, ['W0099'])]);
});
afterAll(async () => {
  await h?.stop();
});

/** The message the field's aria-describedby points at ('' when the field is not refused). */
async function fieldError(page: Page, label: string): Promise<string> {
  return page.getByLabel(label, { exact: true }).evaluate((el) => {
    const id = el.getAttribute('aria-describedby');
    return (id && el.getAttribute('aria-invalid') === 'true' && document.getElementById(id)?.textContent) || '';
  });
}
async function completionError(page: Page): Promise<string> {
  return page.getByRole('group', { name: '工事完了通知を希望されますか？' }).evaluate((el) => {
    const id = el.getAttribute('aria-describedby');
    return (id && document.getElementById(id)?.textContent) || '';
  });
}

async function fill(page: Page, v: { name?: string; phone?: string; mail?: string; want?: boolean }) {
  await page.getByLabel('お名前').fill(v.name ?? '');
  await page.getByLabel('ご連絡先電話番号').fill(v.phone ?? '');
  await page.getByLabel('ご連絡先メールアドレス').fill(v.mail ?? '');
  await page.getByRole('radio', { name: v.want ? '希望する' : '希望しない' }).check();
  await page.getByRole('button', { name: '次へ' }).click();
}

describe.each<[ViewportName, number]>([['desktop', 21], ['phone', 22]])('申込者情報入力 on a %s screen', (viewport, n) => {
  let b: TestBrowser;
  beforeAll(async () => {
    b = await openBrowser(viewport);
    const l = line(n);
    await logInLine(b.page, h, l.customerId, l.accessKey);
    await b.page.goto(`${h.url}${h.base}/detail`);
    await b.page.getByRole('checkbox', { name: '試験用 NTT西日本（試験用）' }).check();
    await b.page.getByRole('button', { name: '「通知しない」に設定' }).click();
    await b.page.getByRole('button', { name: '同意する' }).click();
  });
  afterAll(async () => {
    await b?.close();
  });

  const cases: [string, { name?: string; phone?: string; mail?: string; want?: boolean }, string, string][] = [
    ['お名前 is required', { phone: '06-1234-5678' }, 'お名前', 'お名前を入力してください。'],
    ['お名前 at most 20 全角 characters', { name: '西'.repeat(21), phone: '06-1234-5678' }, 'お名前', 'お名前は全角20文字以内で入力してください。'],
    ['お名前 in 全角 only', { name: 'Taro Nishi', phone: '06-1234-5678' }, 'お名前', 'お名前は全角文字で入力してください（半角文字は使用できません）。'],
    ['お名前 no half-width katakana', { name: 'ﾆｼﾆﾎﾝ', phone: '06-1234-5678' }, 'お名前', 'お名前は全角文字で入力してください（半角文字は使用できません）。'],
    ['a forbidden character is named with its field (お名前)', { name: '西日本～太郎', phone: '06-1234-5678' }, 'お名前', 'お名前に使用できない文字「～」が含まれています。'],
    ['ご連絡先電話番号 is required', { name: '西日本　太郎' }, 'ご連絡先電話番号', 'ご連絡先電話番号を入力してください。'],
    ['ご連絡先電話番号 digits and hyphens', { name: '西日本　太郎', phone: '06(1234)5678' }, 'ご連絡先電話番号', 'ご連絡先電話番号は半角数字とハイフンで入力してください（例：090-1234-5678）。'],
    ['ご連絡先電話番号 10–11 digits', { name: '西日本　太郎', phone: '06-1234-567' }, 'ご連絡先電話番号', 'ご連絡先電話番号は半角数字とハイフンで入力してください（例：090-1234-5678）。'],
    ['a forbidden character is named with its field (電話番号)', { name: '西日本　太郎', phone: '06－1234－5678' }, 'ご連絡先電話番号', 'ご連絡先電話番号に使用できない文字「－」が含まれています。'],
    ['mobile-carrier mail domains are refused', { name: '西日本　太郎', phone: '06-1234-5678', mail: 'taro@docomo.ne.jp' }, 'ご連絡先メールアドレス', '携帯電話のメールアドレスはご利用になれません。ご連絡先メールアドレスには携帯電話以外のメールアドレスを入力してください。'],
    ['subdomains of mobile carriers too', { name: '西日本　太郎', phone: '06-1234-5678', mail: 'taro@t.vodafone.ne.jp' }, 'ご連絡先メールアドレス', '携帯電話のメールアドレスはご利用になれません。ご連絡先メールアドレスには携帯電話以外のメールアドレスを入力してください。'],
    ['the address rules of the settings site', { name: '西日本　太郎', phone: '06-1234-5678', mail: 'taro..x@example.jp' }, 'ご連絡先メールアドレス', 'ご連絡先メールアドレス：「.」を2つ続けて使用することはできません。'],
    ['a forbidden character is named with its field (メール)', { name: '西日本　太郎', phone: '06-1234-5678', mail: 'taro%x@example.jp' }, 'ご連絡先メールアドレス', 'ご連絡先メールアドレスに使用できない文字「%」が含まれています。'],
  ];
  it.each(cases)('%s', async (_what, values, label, message) => {
    const { page } = b;
    await fill(page, values);
    expect(await h1(page)).toBe('回線情報通知 申込者情報入力');
    expect(await fieldError(page, label)).toBe(message);
    // The summary names the field (a link to it); the message itself stands once, at the field.
    expect(await page.getByRole('alert').getByRole('link', { name: label, exact: true }).count()).toBe(1);
    expect(await page.getByText(message, { exact: true }).count()).toBe(1);
    // What was typed stays.
    expect(await page.getByLabel('お名前').inputValue()).toBe(values.name ?? '');
    expect(await page.getByLabel('ご連絡先電話番号').inputValue()).toBe(values.phone ?? '');
    expect(await page.getByLabel('ご連絡先メールアドレス').inputValue()).toBe(values.mail ?? '');
    // One refusal, one field.
    for (const other of ['お名前', 'ご連絡先電話番号', 'ご連絡先メールアドレス'].filter((l) => l !== label)) expect(await fieldError(page, other)).toBe('');
  });

  it('希望する needs the address', async () => {
    const { page } = b;
    await fill(page, { name: '西日本　太郎', phone: '06-1234-5678', want: true });
    expect(await completionError(page)).toBe('工事完了通知を希望する場合は、ご連絡先メールアドレスを入力してください。');
    expect(await page.getByRole('radio', { name: '希望する' }).isChecked()).toBe(true);
  });

  it('several refusals at once, each next to its field; nothing applied for', async () => {
    const { page } = b;
    await fill(page, { name: '', phone: '', mail: 'a@ezweb.ne.jp', want: true });
    expect(await fieldError(page, 'お名前')).toBe('お名前を入力してください。');
    expect(await fieldError(page, 'ご連絡先電話番号')).toBe('ご連絡先電話番号を入力してください。');
    expect(await fieldError(page, 'ご連絡先メールアドレス')).toContain('携帯電話のメールアドレスはご利用になれません。');
    expect(await applications(h, line(n).customerId)).toEqual([]);
  });

  it('accepted input goes on to 変更内容確認 (a half-width space in お名前 becomes full-width)', async () => {
    const { page } = b;
    await fill(page, { name: '西日本 太郎', phone: '0612345678', mail: 'taro@example.jp', want: true });
    expect(await h1(page)).toBe('回線情報通知 変更内容確認');
    expect(await page.getByRole('table', { name: '申込者情報' }).getByRole('cell').allTextContents()).toEqual(['西日本　太郎', '0612345678', 'taro@example.jp', '希望する']);
  });
});
