// The manual's two procedures in a real browser, on a desktop and a phone screen: 通知する →
// 通知しない and back through 通知先追加, with the receipt, the work delay on the test's clock,
// the 工事完了通知 mail from the SMTP catcher and the provider lookup before and after.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiptTime } from '../../src/domain/line-info.ts';
import { applyLineInfo } from '../../src/store/line-info-provisioning.ts';
import { openBrowser, type TestBrowser, type ViewportName } from '../support/browser.ts';
import { waitForMails } from '../mail/mailbox.ts';
import { applications, h1, line, logInLine, lookup, PROVIDERS, startLineInfoHarness, TOKENS, type LineInfoHarness } from './harness.ts';

const HOUR = 3_600_000;
// Each viewport has its own lines: desktop 1–4, phone 11–14.
const lines = [1, 2, 3, 4, 5, 11, 12, 13, 14].map((n) => line(n, ['W0099']));
const idOf = (n: number) => line(n).customerId;
const keyOf = (n: number) => line(n).accessKey;
/** An address inside line n's /56. */
const addressOf = (n: number) => `2001:db8:${(0x1000 + n).toString(16)}:5678::abcd`;

/** Waits for the catcher to hold a mail to `address`. */
async function mailsTo(address: string) {
  for (const deadline = Date.now() + 15_000; ; ) {
    const mails = (await waitForMails(h.catcher, 0)).filter((m) => m.deliveredTo === address);
    if (mails.length || Date.now() > deadline) return mails;
    await new Promise((r) => setTimeout(r, 100));
  }
}

let h: LineInfoHarness;
beforeAll(async () => {
  h = await startLineInfoHarness(lines);
});
afterAll(async () => {
  await h?.stop();
});

describe.each<[ViewportName, number]>([['desktop', 0], ['phone', 10]])('サービス申込受付ページ on a %s screen', (viewport, offset) => {
  let b: TestBrowser;
  beforeAll(async () => {
    b = await openBrowser(viewport);
  });
  afterAll(async () => {
    await b?.close();
  });

  it('「通知する」から「通知しない」: receipt, the change after the work delay, then the 工事完了通知 mail', async () => {
    const n = 1 + offset;
    const { page } = b;
    expect(await lookup(h, addressOf(n))).toEqual({ status: 200, body: { customerId: idOf(n) } });

    await logInLine(page, h, idOf(n), keyOf(n));
    expect(await h1(page)).toBe('サービス申込受付ページ');
    expect(await page.getByRole('row', { name: /回線情報通知機能/ }).getByRole('cell').first().textContent()).toBe('通知');
    await page.getByRole('button', { name: '詳細・変更' }).click();

    expect(await h1(page)).toBe('回線情報通知 ご利用状況詳細');
    const row = page.getByRole('row', { name: /試験用/ });
    expect(await row.getByRole('cell').allTextContents()).toEqual(['', '試験用', 'W0099 NTT西日本（試験用）', '通知する', expect.stringMatching(/^\d{4}\/\d{2}\/\d{2}$/), 'お申し込み時']);
    await page.getByRole('checkbox', { name: '試験用 NTT西日本（試験用）' }).check();
    await page.getByRole('button', { name: '「通知しない」に設定' }).click();

    expect(await h1(page)).toBe('「回線情報通知」の利用にあたっての同意書');
    expect(await page.getByRole('region', { name: '同意書' }).getByRole('heading').allTextContents()).toEqual([
      'A. 「回線情報通知」提供事業者', 'B. 契約に関する基本事項および料金', 'C. サービス概要', 'D. 料金', 'E. ご利用上の注意', 'F. 免責',
    ]);
    await page.getByRole('button', { name: '同意する' }).click();

    expect(await h1(page)).toBe('回線情報通知 申込者情報入力');
    await page.getByLabel('お名前').fill('西日本 太郎');
    await page.getByLabel('ご連絡先電話番号').fill('06-1234-5678');
    await page.getByLabel('ご連絡先メールアドレス').fill(`taro${n}@example.jp`);
    await page.getByRole('radio', { name: '希望する' }).check();
    await page.getByRole('button', { name: '次へ' }).click();

    expect(await h1(page)).toBe('回線情報通知 変更内容確認');
    expect(await page.getByRole('table', { name: '変更内容' }).getByRole('row').nth(1).getByRole('cell').allTextContents()).toEqual(['試験用', 'W0099 NTT西日本（試験用）', '通知しない']);
    const applicant = page.getByRole('table', { name: '申込者情報' });
    expect(await applicant.getByRole('row', { name: /お名前/ }).getByRole('cell').textContent()).toBe('西日本　太郎');
    expect(await applicant.getByRole('row', { name: /「工事完了通知メール」配信/ }).getByRole('cell').textContent()).toBe('希望する');
    await page.getByRole('button', { name: '変更' }).click();

    expect(await h1(page)).toBe('回線情報通知 変更受付完了');
    const [app] = await applications(h, idOf(n));
    expect(app).toMatchObject({ setting: 'stop', provider_ids: ['W0099'], state: 'pending' });
    const { rows } = await h.db.pool.query('select accepted_at from line_info_application where receipt_no = $1', [app!.receipt_no]);
    const receipt = page.locator('dl.receipt');
    expect(await receipt.getByRole('definition').allTextContents()).toEqual([app!.receipt_no, receiptTime(rows[0].accepted_at), idOf(n)]);
    expect(app!.receipt_no).toMatch(/^\d{16}$/);
    expect(receiptTime(new Date('2026-12-01T10:05:17Z'))).toBe('2026年12月01日 19時05分17秒');
    expect(await page.getByRole('table', { name: '変更内容' }).getByRole('row').nth(1).getByRole('cell').allTextContents()).toEqual(['試験用', 'W0099 NTT西日本（試験用）', '通知しない']);

    // 画面印刷（保存） opens the browser's print dialog.
    await page.evaluate(() => { (window as unknown as { printed: number }).printed = 0; window.print = () => void (window as unknown as { printed: number }).printed++; });
    await page.getByRole('button', { name: '画面印刷（保存）' }).click();
    expect(await page.evaluate(() => (window as unknown as { printed: number }).printed)).toBe(1);
    expect(await h1(page)).toBe('回線情報通知 変更受付完了');

    // The work is not done before the delay: the provider still learns the ID.
    h.clock.advance(59 * 60_000);
    await h.work.runDue();
    expect((await applications(h, idOf(n)))[0]!.state).toBe('pending');
    expect((await lookup(h, addressOf(n))).status).toBe(200);
    h.clock.advance(2 * 60_000);
    await h.work.runDue();
    expect((await applications(h, idOf(n)))[0]!.state).toBe('done');
    expect(await lookup(h, addressOf(n))).toEqual({ status: 404, body: { error: 'not_available' } });

    const mails = await mailsTo(`taro${n}@example.jp`);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe(`【回線情報通知機能】工事完了のお知らせ（受付番号:${app!.receipt_no}）`);
    expect(mails[0]!.text).toContain('西日本　太郎 様');
    expect(mails[0]!.text).toContain(`お客さまID:CAF******${idOf(n).slice(-4)}`);
    expect(mails[0]!.text).toContain('・試験用 / W0099 NTT西日本（試験用） / 通知しない');

    // An hour idle is past the session limit: the owner logs in again and sees the result.
    await page.goto(`${h.url}${h.base}/detail`);
    expect(await page.getByRole('status').textContent()).toBe('一定時間操作がなかったため、自動的にログアウトしました。もう一度ログインしてください。');
    await logInLine(page, h, idOf(n), keyOf(n));
    await page.goto(`${h.url}${h.base}/detail`);
    expect(await page.getByText('「通知する」に設定されているサービス提供者はありません。').isVisible()).toBe(true);
    await page.goto(`${h.url}${h.base}/`);
    expect(await page.getByRole('row', { name: /回線情報通知機能/ }).getByRole('cell').first().textContent()).toBe('---');
    await page.getByRole('button', { name: 'ログアウト' }).click();
    expect(await page.getByRole('status').textContent()).toBe('ログアウトしました。');
  });

  it('「通知しない」から「通知する」 through 通知先追加; no mail when 希望しない', async () => {
    const n = 2 + offset;
    const { page } = b;
    expect(await lookup(h, addressOf(n), TOKENS.W0100)).toEqual({ status: 404, body: { error: 'not_available' } });
    await logInLine(page, h, idOf(n), keyOf(n));
    await page.getByRole('button', { name: '詳細・変更' }).click();
    await page.getByRole('button', { name: '通知先追加' }).click();

    expect(await h1(page)).toBe('回線情報通知「通知」設定登録');
    expect(await page.getByText('件数：2件').isVisible()).toBe(true);
    await page.getByRole('radio', { name: 'IP電話 ひかりプロバイダ株式会社' }).check();
    await page.getByRole('button', { name: '「通知する」に設定' }).click();
    await page.getByRole('button', { name: '同意する' }).click();
    await page.getByLabel('お名前').fill('西日本　花子');
    await page.getByLabel('ご連絡先電話番号').fill('0612345678');
    expect(await page.getByRole('radio', { name: '希望しない' }).isChecked()).toBe(true);
    await page.getByRole('button', { name: '次へ' }).click();
    expect(await page.getByRole('table', { name: '変更内容' }).getByRole('row').nth(1).getByRole('cell').allTextContents()).toEqual(['IP電話', 'W0100 ひかりプロバイダ株式会社', '通知する']);
    await page.getByRole('button', { name: '変更' }).click();
    expect(await h1(page)).toBe('回線情報通知 変更受付完了');

    // While the work is pending the provider is shown as in progress and cannot be chosen again.
    await page.goto(`${h.url}${h.base}/add`);
    expect(await page.getByRole('radio', { name: 'IP電話 ひかりプロバイダ株式会社' }).isDisabled()).toBe(true);

    h.clock.advance(HOUR + 60_000);
    await h.work.runDue();
    expect((await applications(h, idOf(n)))[0]!.state).toBe('done');
    expect(await lookup(h, addressOf(n), TOKENS.W0100)).toEqual({ status: 200, body: { customerId: idOf(n) } });
    // The prefix itself names the line too; another provider still learns nothing new.
    expect(await lookup(h, `2001:db8:${(0x1000 + n).toString(16)}:5600::/56`, TOKENS.W0100)).toEqual({ status: 200, body: { customerId: idOf(n) } });

    await logInLine(page, h, idOf(n), keyOf(n));
    await page.goto(`${h.url}${h.base}/detail`);
    const row = page.getByRole('row', { name: /IP電話/ });
    expect((await row.getByRole('cell').allTextContents()).slice(1, 4)).toEqual(['IP電話', 'W0100 ひかりプロバイダ株式会社', '通知する']);
    expect(await row.getByRole('cell').last().textContent()).toBe('申込受付ページ');
    const { rows } = await h.db.pool.query("select count(*)::int as n from mail_outbox where body like '%受付番号%' and to_address like 'hanako%'");
    expect(rows[0].n).toBe(0);
    await page.getByRole('button', { name: 'ログアウト' }).click();
  });

  it('同意しない goes back to ご利用状況詳細 and changes nothing', async () => {
    const n = 3 + offset;
    const { page } = b;
    await logInLine(page, h, idOf(n), keyOf(n));
    await page.goto(`${h.url}${h.base}/detail`);
    await page.getByRole('checkbox', { name: '試験用 NTT西日本（試験用）' }).check();
    await page.getByRole('button', { name: '「通知しない」に設定' }).click();
    await page.getByRole('button', { name: '同意しない' }).click();
    expect(await h1(page)).toBe('回線情報通知 ご利用状況詳細');
    expect(await page.getByRole('status').textContent()).toBe('同意されなかったため、お申し込みは行われませんでした。');
    expect(await page.getByRole('checkbox', { name: '試験用 NTT西日本（試験用）' }).isChecked()).toBe(false);
    expect(await applications(h, idOf(n))).toEqual([]);
    // The refused flow is gone: its later steps are not reachable.
    await page.goto(`${h.url}${h.base}/applicant`);
    expect(await h1(page)).toBe('回線情報通知 ご利用状況詳細');
    expect((await lookup(h, addressOf(n))).status).toBe(200);
    await page.getByRole('button', { name: 'ログアウト' }).click();
  });

  it('steps run in order: 変更 and later pages cannot be reached by URL; 前画面へ戻る keeps the input; a double 変更 is one application', async () => {
    const n = 4 + offset;
    const { page } = b;
    await logInLine(page, h, idOf(n), keyOf(n));
    for (const step of ['/consent', '/applicant', '/confirm', '/done']) {
      await page.goto(`${h.url}${h.base}${step}`);
      expect(await h1(page)).toBe('回線情報通知 ご利用状況詳細');
    }
    await page.getByRole('checkbox', { name: '試験用 NTT西日本（試験用）' }).check();
    await page.getByRole('button', { name: '「通知しない」に設定' }).click();
    for (const step of ['/applicant', '/confirm', '/done']) {
      await page.goto(`${h.url}${h.base}${step}`);
      expect(await h1(page)).toBe('「回線情報通知」の利用にあたっての同意書');
    }
    await page.getByRole('button', { name: '同意する' }).click();
    await page.goto(`${h.url}${h.base}/confirm`);
    expect(await h1(page)).toBe('回線情報通知 申込者情報入力');

    await page.getByLabel('お名前').fill('西日本　次郎');
    await page.getByLabel('ご連絡先電話番号').fill('090-1234-5678');
    await page.getByLabel('ご連絡先メールアドレス').fill('jiro@example.co.jp');
    await page.getByRole('radio', { name: '希望する' }).check();
    await page.getByRole('button', { name: '次へ' }).click();
    await page.getByRole('button', { name: '前画面へ戻る' }).click();
    expect(await h1(page)).toBe('回線情報通知 申込者情報入力');
    expect(await page.getByLabel('お名前').inputValue()).toBe('西日本　次郎');
    expect(await page.getByLabel('ご連絡先電話番号').inputValue()).toBe('090-1234-5678');
    expect(await page.getByLabel('ご連絡先メールアドレス').inputValue()).toBe('jiro@example.co.jp');
    expect(await page.getByRole('radio', { name: '希望する' }).isChecked()).toBe(true);
    await page.getByRole('button', { name: '次へ' }).click();
    expect(await h1(page)).toBe('回線情報通知 変更内容確認');

    // Two 変更 at once from this page (as a double click sends them), then the button itself.
    const form = page.locator('form', { has: page.getByRole('button', { name: '変更' }) });
    const fields = { _csrf: await form.locator('input[name=_csrf]').inputValue(), token: await form.locator('input[name=token]').inputValue() };
    const posts = await Promise.all([0, 1].map(() => page.request.post(`${h.url}${h.base}/confirm`, { form: fields, maxRedirects: 0 })));
    expect(posts.map((r) => [r.status(), r.headers().location])).toEqual([[303, `${h.base}/done`], [303, `${h.base}/done`]]);
    await page.getByRole('button', { name: '変更' }).click();
    expect(await h1(page)).toBe('回線情報通知 変更受付完了');
    const apps = await applications(h, idOf(n));
    expect(apps).toHaveLength(1);
    expect(await page.locator('dl.receipt').getByRole('definition').first().textContent()).toBe(apps[0]!.receipt_no);
    // After 受付完了 the confirm page is gone; a fresh choice starts over.
    await page.goto(`${h.url}${h.base}/confirm`);
    expect(await h1(page)).toBe('回線情報通知 ご利用状況詳細');
    await page.getByRole('button', { name: 'ログアウト' }).click();
  });
});

describe('画面印刷（保存） without JavaScript', () => {
  it('leads to the print view of the receipt', async () => {
    const b = await openBrowser('desktop');
    try {
      const { page } = b;
      // The script never arrives, as in a browser with JavaScript off.
      await page.route('**/print.js', (r) => r.abort());
      const n = 1;
      await logInLine(page, h, idOf(n), keyOf(n));
      await page.goto(`${h.url}${h.base}/add`);
      await page.getByRole('radio', { name: '動画配信 西日本ビデオ株式会社' }).check();
      await page.getByRole('button', { name: '「通知する」に設定' }).click();
      await page.getByRole('button', { name: '同意する' }).click();
      await page.getByLabel('お名前').fill('西日本　太郎');
      await page.getByLabel('ご連絡先電話番号').fill('06-1234-5678');
      await page.getByRole('button', { name: '次へ' }).click();
      await page.getByRole('button', { name: '変更' }).click();
      await page.getByRole('button', { name: '画面印刷（保存）' }).click();
      expect(await h1(page)).toBe('回線情報通知 変更受付完了（印刷用）');
      expect(await page.getByRole('status').textContent()).toBe('ブラウザの印刷機能で、この画面を印刷または保存してください。');
      expect(await page.getByRole('table', { name: '変更内容' }).getByRole('row').nth(1).getByRole('cell').allTextContents()).toEqual(['動画配信', 'W0101 西日本ビデオ株式会社', '通知する']);
    } finally {
      await b.close();
    }
  });
});

describe('a setting changed elsewhere before 変更', () => {
  it('is not applied for: ご利用状況詳細 says so and nothing is accepted', async () => {
    const b = await openBrowser('desktop');
    try {
      const { page } = b;
      const n = 5;
      await logInLine(page, h, idOf(n), keyOf(n));
      await page.goto(`${h.url}${h.base}/detail`);
      await page.getByRole('checkbox', { name: '試験用 NTT西日本（試験用）' }).check();
      await page.getByRole('button', { name: '「通知しない」に設定' }).click();
      await page.getByRole('button', { name: '同意する' }).click();
      await page.getByLabel('お名前').fill('西日本　太郎');
      await page.getByLabel('ご連絡先電話番号').fill('06-1234-5678');
      await page.getByRole('button', { name: '次へ' }).click();
      // Meanwhile the order system sets the line to 通知しない for W0099.
      await applyLineInfo(h.db.pool, { lineInfo: { providers: PROVIDERS, lines: [{ ...line(n), notify: [] }] } });
      await page.getByRole('button', { name: '変更' }).click();
      expect(await h1(page)).toBe('回線情報通知 ご利用状況詳細');
      expect((await page.getByRole('alert').textContent())?.trim()).toBe('通知設定が変更されているか、変更手続き中のサービス提供者が含まれています。もう一度選択してください。');
      expect(await applications(h, idOf(n))).toEqual([]);
    } finally {
      await b.close();
    }
  });
});

describe('the log', () => {
  it('stays free of warnings and errors over the whole journey of both screens (no double reply on 通知先追加 or 「通知しない」に設定)', () => {
    expect(h.warnings()).toEqual([]);
  });
});
