// FAXお知らせメール on the 設定サイト in a real browser (phone-sized): サービス選択 and サービスメニュー
// with the guide's descriptions, サービス開始／停止, 送信先メールアドレス設定 with 送信テスト (the mail
// reaches the SMTP catcher), and 受信FAX内容確認 after a real FAX call (spandsp over SIP): the row,
// the PDF download, the delete after its confirmation, paging, and the 認証単位 scope on the list,
// the file and the delete — each with its audit row.
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sendFax } from '../../src/cli/fax-sender.ts';
import { FAX_PER_PAGE } from '../../src/site/fax-receptions.ts';
import { listFaxReceptions, readFaxSettings } from '../../src/store/fax.ts';
import { mailsTo } from '../mail/mailbox.ts';
import { makeFaxTiff } from '../fax/stack.ts';
import { openBrowser, type TestBrowser } from '../support/browser.ts';
import { insertReceptions, pdfPageCount, startFaxSite, tinyPdf, type FaxSite } from '../support/fax-site.ts';
import { fieldError, groupError, heading, logIn, type SiteHarness } from '../support/site.ts';

const LINE_MAIN = '0654107391';
const LINE_EXTRA = '0654107392';
const NUM_MAIN = '0654207391';
const NUM_EXTRA = '0654207392';
const CALLER = '0612345678';
const PW = 'k7q2m9x4';

const faxNumber = (number: string, role: string, fax?: object) => ({ number, role, services: ['fax_mail'], ...(fax ? { fax } : {}) });
const CONTRACTS = {
  contracts: [
    { id: 'F-line', region: 'west', pattern: 'A', authUnit: 'line', numbers: [
      faxNumber(LINE_MAIN, 'main', { started: true, destinations: [{ address: `fax.${LINE_MAIN}@example.jp`, send: true }] }),
      faxNumber(LINE_EXTRA, 'additional'),
    ] },
    { id: 'F-number', region: 'west', pattern: 'A', authUnit: 'number', numbers: [faxNumber(NUM_MAIN, 'main'), faxNumber(NUM_EXTRA, 'additional')] },
  ],
};

let fs: FaxSite;
let h: SiteHarness;
let b: TestBrowser;
beforeAll(async () => {
  fs = await startFaxSite(CONTRACTS, { site: { loginRateLimit: { max: 1000, windowSec: 60 } } });
  h = fs.h;
  for (const n of [LINE_MAIN, NUM_MAIN]) await h.setPassword(n, PW);
  b = await openBrowser('phone');
});
beforeEach(async () => {
  await b.context.clearCookies();
});
afterAll(async () => {
  await b?.close();
  await fs?.stop();
});

/** ログイン → サービス選択 → FAXお知らせメール (→ 電話番号選択) → the number's サービスメニュー. */
async function openMenu(login: string, number: string) {
  await logIn(b.page, h.url, login, PW);
  await b.page.getByRole('link', { name: 'サービス選択' }).click();
  await b.page.getByRole('link', { name: 'FAXお知らせメール' }).click();
  if ((await heading(b.page)) === '電話番号選択') await b.page.getByRole('link', { name: number, exact: true }).click();
  expect(await heading(b.page)).toBe('サービスメニュー（FAXお知らせメール）');
}
const notice = () => b.page.getByRole('status').textContent();
const receptionRows = () => b.page.getByRole('table', { name: '受信したFAX' }).getByRole('row').filter({ has: b.page.getByRole('cell') });
const noSidewaysScroll = () => b.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

describe('FAXお知らせメール settings', () => {
  it('サービスメニュー with the guide\'s entries; 開始 needs a 送信先; 送信テスト mails the typed address; each change audited', async () => {
    await openMenu(NUM_MAIN, NUM_MAIN);
    const menu = b.page.getByRole('navigation', { name: 'サービスメニュー' });
    for (const [label, description] of [
      ['サービス開始／停止', 'サービスの開始または停止の設定を行います。'],
      ['送信先メールアドレス設定', 'FAXお知らせメールを送信するメールアドレスを登録、確認します。'],
      ['受信FAX内容確認', '受信したFAXのダウンロード、および受信日時などを確認します。'],
    ]) {
      const id = await menu.getByRole('link', { name: label }).getAttribute('aria-describedby');
      expect(await b.page.locator(`[id="${id}"]`).textContent(), label).toBe(description);
    }
    expect(await b.page.getByText('現在の状態：停止').isVisible()).toBe(true);

    await b.page.getByRole('link', { name: 'サービス開始／停止' }).click();
    await b.page.getByRole('radio', { name: '開始' }).check();
    await b.page.getByRole('button', { name: '設定' }).click();
    expect(await groupError(b.page, 'サービス開始／停止')).toBe('送信先メールアドレスが設定されていないため、開始できません。先に「送信先メールアドレス設定」を行ってください。');
    expect((await readFaxSettings(h.db.pool, NUM_MAIN)).started).toBe(false);

    await b.page.getByRole('link', { name: '戻る' }).click();
    await b.page.getByRole('link', { name: '送信先メールアドレス設定' }).click();
    // The site's address rule, next to the field; nothing saved.
    await b.page.getByLabel('送信先メールアドレス1').fill('fax..me@example.jp');
    await b.page.getByRole('button', { name: '設定', exact: true }).click();
    expect(await fieldError(b.page, '送信先メールアドレス1')).toBe('「.」を2つ続けて使用することはできません。');
    expect((await readFaxSettings(h.db.pool, NUM_MAIN)).destinations).toEqual([]);

    const address = `fax.me.${NUM_MAIN}@example.jp`;
    await b.page.getByLabel('送信先メールアドレス1').fill(address);
    await b.page.getByRole('checkbox', { name: '送信1' }).check();
    await b.page.getByRole('button', { name: '送信テスト1' }).click();
    expect(await notice()).toBe(`送信先メールアドレス1（${address}）へ送信テストメールを送信しました。届いたことをご確認ください。`);
    const [test] = await mailsTo(fs.stack.catcher, address, 1);
    expect(test!.subject).toBe(`送信テスト（${NUM_MAIN}）`);
    expect(test!.text).toContain('このメールは「FAXお知らせメール」の送信テストです。');
    expect(test!.text).toContain('「FAXお知らせメール」\n');

    await b.page.getByRole('button', { name: '設定', exact: true }).click();
    expect(await notice()).toBe('設定しました。');
    await b.page.getByRole('link', { name: '戻る' }).click();
    await b.page.getByRole('link', { name: 'サービス開始／停止' }).click();
    await b.page.getByRole('radio', { name: '開始' }).check();
    await b.page.getByRole('button', { name: '設定' }).click();
    expect(await notice()).toBe('設定しました。');
    expect(await readFaxSettings(h.db.pool, NUM_MAIN)).toMatchObject({ started: true, destinations: [{ position: 1, address, send: true }] });
    await b.page.getByRole('link', { name: '戻る' }).click();
    expect(await b.page.getByText('現在の状態：開始').isVisible()).toBe(true);
    expect(await h.auditActions(NUM_MAIN)).toEqual(expect.arrayContaining(['fax_mail.test_mail', 'fax_mail.destinations', 'fax_mail.start']));
  });

  it('a form drawn before another window saved is refused and redrawn from what is saved', async () => {
    await openMenu(NUM_MAIN, NUM_MAIN);
    await b.page.getByRole('link', { name: 'サービス開始／停止' }).click();
    const other = await b.newPage();
    await other.goto(b.page.url());
    await other.getByRole('radio', { name: '停止' }).check();
    await other.getByRole('button', { name: '設定' }).click();
    expect(await other.getByRole('status').textContent()).toBe('設定しました。');
    await other.close();
    await b.page.getByRole('radio', { name: '開始' }).check();
    await b.page.getByRole('button', { name: '設定' }).click();
    expect(await b.page.getByRole('alert').textContent()).toContain('別の画面などで設定が変更されています。');
    expect(await b.page.getByRole('radio', { name: '停止' }).isChecked()).toBe(true);
    expect((await readFaxSettings(h.db.pool, NUM_MAIN)).started).toBe(false);
  });
});

describe('受信FAX内容確認', () => {
  it('a real FAX: listed with 受信日時, 発信者, ページ数, 結果; the mail\'s link opens it; downloaded as a 1-page PDF; deleted after confirming', async () => {
    const tiff = await makeFaxTiff(fs.stack.dir, 1, 600);
    const sent = await sendFax({ to: LINE_MAIN, via: fs.stack.sip, from: CALLER, file: tiff });
    expect(sent).toMatchObject({ sipStatus: 200, pagesSent: 1, t30Code: 0 });
    const [mail] = await mailsTo(fs.stack.catcher, `fax.${LINE_MAIN}@example.jp`, 1, 20_000);
    const link = /^https:\/\/settings\.example\.jp(\/\S+)$/m.exec(mail!.text)![1]!;
    const [stored] = (await listFaxReceptions(h.db.pool, LINE_MAIN, { offset: 0, limit: 5 })).rows;

    // The mail's link, once logged in, is the list.
    await logIn(b.page, h.url, LINE_MAIN, PW);
    await b.page.goto(`${h.url}${link}`);
    expect(await heading(b.page)).toBe('受信FAX内容確認');
    expect(await b.page.getByText(`設定する電話番号：${LINE_MAIN}`).isVisible()).toBe(true);
    const rows = receptionRows();
    expect(await rows.count()).toBe(1);
    const cells = await rows.first().getByRole('cell').allTextContents();
    expect(cells.slice(0, 4)).toEqual([expect.stringMatching(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d$/), CALLER, '1', '正常に受信しました']);
    expect(await noSidewaysScroll()).toBe(true);

    // ダウンロード: a PDF file of one page, named for the number and the time.
    const [download] = await Promise.all([b.page.waitForEvent('download'), rows.first().getByRole('link', { name: 'ダウンロード' }).click()]);
    const stamp = cells[0]!.replace(/\//g, '').replace(' ', '-').replace(/:/g, '');
    expect(download.suggestedFilename()).toBe(`fax-${LINE_MAIN}-${stamp}.pdf`);
    const file = path.join(fs.stack.dir, 'downloaded.pdf');
    await download.saveAs(file);
    expect(await pdfPageCount(file)).toBe(1);
    const res = await b.page.request.get(`${h.url}${link}/${stored!.id}/pdf`);
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toBe('application/pdf');
    expect(res.headers()['content-disposition']).toBe(`attachment; filename="fax-${LINE_MAIN}-${stamp}.pdf"`);
    expect(res.headers()['cache-control']).toBe('no-store');
    // A HEAD sends no file, so it is no download (and not audited as one).
    expect((await b.page.request.head(`${h.url}${link}/${stored!.id}/pdf`)).status()).toBe(404);
    const { rows: audits } = await h.db.pool.query("select actor, detail, source from audit_log where action = 'fax.download' and subject = $1 order by id", [LINE_MAIN]);
    expect(audits).toHaveLength(2);
    expect(audits[0]).toMatchObject({ actor: LINE_MAIN, detail: { reception: stored!.id }, source: '127.0.0.1' });

    // 削除: a confirmation page first; going back keeps it; 削除する deletes record and document.
    await rows.first().getByRole('link', { name: '削除' }).click();
    expect(await heading(b.page)).toBe('受信FAXの削除');
    expect(await b.page.getByRole('definition').allTextContents()).toEqual([cells[0], CALLER, '1', '正常に受信しました']);
    await b.page.getByRole('link', { name: '戻る' }).click();
    expect(await receptionRows().count()).toBe(1);
    await rows.first().getByRole('link', { name: '削除' }).click();
    await b.page.getByRole('button', { name: '削除する' }).click();
    expect(await heading(b.page)).toBe('受信FAX内容確認');
    expect(await notice()).toBe('受信FAXを削除しました。');
    expect(await b.page.getByText('受信したFAXはありません。').isVisible()).toBe(true);
    expect((await h.db.pool.query('select count(*)::int as n from fax_reception where called_number = $1', [LINE_MAIN])).rows[0].n).toBe(0);
    expect(await h.auditActions(LINE_MAIN)).toEqual(expect.arrayContaining(['fax.download', 'fax.delete']));
    // The file is gone with it.
    expect((await b.page.request.get(`${h.url}${link}/${stored!.id}/pdf`)).status()).toBe(404);
  });

  it('pages of 10, newest first, with 前へ／次へ; a page past the end shows the last', async () => {
    const count = 2 * FAX_PER_PAGE + 3;
    await insertReceptions(h, LINE_EXTRA, count, { absentReason: '公衆', callerNumber: null, result: 'partial', pages: 2 });
    await logIn(b.page, h.url, LINE_MAIN, PW);
    await b.page.getByRole('link', { name: 'サービス選択' }).click();
    await b.page.getByRole('link', { name: 'FAXお知らせメール' }).click();
    await b.page.getByRole('link', { name: LINE_EXTRA, exact: true }).click();
    await b.page.getByRole('link', { name: '受信FAX内容確認' }).click();
    const pager = b.page.getByRole('navigation', { name: 'ページ' });
    expect(await pager.getByText(`${count}件中 1～${FAX_PER_PAGE}件目（1／3ページ）`).isVisible()).toBe(true);
    const times = async () => (await receptionRows().all()).map((r) => r.getByRole('cell').first().textContent());
    const first = await Promise.all(await times());
    expect(first).toHaveLength(FAX_PER_PAGE);
    expect([...first].sort().reverse()).toEqual(first);
    expect(await receptionRows().first().getByRole('cell').nth(1).textContent()).toBe('非通知理由：公衆');
    expect(await receptionRows().first().getByRole('cell').nth(3).textContent()).toBe('途中で切断されました（2ページ受信）');
    // No document kept: no download, delete still offered.
    expect(await receptionRows().first().getByRole('link', { name: 'ダウンロード' }).count()).toBe(0);
    expect(await noSidewaysScroll()).toBe(true);

    await pager.getByRole('link', { name: '次へ' }).click();
    const second = await Promise.all(await times());
    expect(second[0]! < first.at(-1)!).toBe(true);
    await pager.getByRole('link', { name: '次へ' }).click();
    expect(await receptionRows().count()).toBe(3);
    expect(await pager.getByRole('link', { name: '次へ' }).count()).toBe(0);
    await pager.getByRole('link', { name: '前へ' }).click();
    expect(await pager.getByText(`（2／3ページ）`).isVisible()).toBe(true);
    await b.page.goto(`${h.url}/fax-mail/${LINE_EXTRA}/received?page=99`);
    expect(await pager.getByText(`${count}件中 ${2 * FAX_PER_PAGE + 1}～${count}件目（3／3ページ）`).isVisible()).toBe(true);
  });

  it('電話番号単位: another number\'s list, file and delete are refused (403) on the server, and audited; an id of another number under one\'s own is not found', async () => {
    const [theirs] = await insertReceptions(h, NUM_EXTRA, 1, { pdf: await tinyPdf() });
    await openMenu(NUM_MAIN, NUM_MAIN);
    await b.page.getByRole('link', { name: '受信FAX内容確認' }).click();
    const csrf = await b.page.evaluate(() => (document.querySelector('input[name=_csrf]') as HTMLInputElement | null)?.value ?? '');
    expect(csrf).not.toBe('');
    const other = `${h.url}/fax-mail/${NUM_EXTRA}/received`;

    const list = await b.page.goto(other);
    expect(list!.status()).toBe(403);
    expect(await heading(b.page)).toBe('設定できません');
    expect((await b.page.request.get(`${other}/${theirs}/pdf`)).status()).toBe(403);
    expect((await b.page.request.get(`${other}/${theirs}/delete`)).status()).toBe(403);
    expect((await b.page.request.post(`${other}/${theirs}/delete`, { form: { _csrf: csrf } })).status()).toBe(403);
    // Under one's own number, another number's reception does not exist.
    const mine = `${h.url}/fax-mail/${NUM_MAIN}/received`;
    expect((await b.page.request.get(`${mine}/${theirs}/pdf`)).status()).toBe(404);
    expect((await b.page.request.post(`${mine}/${theirs}/delete`, { form: { _csrf: csrf } })).status()).toBe(404);
    // Without the CSRF token, no delete either.
    expect((await b.page.request.post(`${mine}/${theirs}/delete`, { form: {} })).status()).toBe(403);

    expect((await h.db.pool.query('select count(*)::int as n from fax_reception where id = $1', [theirs])).rows[0].n).toBe(1);
    const { rows } = await h.db.pool.query("select action, actor from audit_log where subject = $1 and action like 'fax.%' or subject = $1 and action = 'scope.refused'", [NUM_EXTRA]);
    expect(rows.filter((r) => r.action === 'scope.refused')).toHaveLength(4);
    expect(rows.filter((r) => r.action.startsWith('fax.'))).toEqual([]);
  });

  it('answers a junk reception id with the not-found page', async () => {
    await openMenu(NUM_MAIN, NUM_MAIN);
    for (const id of ['abc', '0', '1e3', '99999999999999999999']) {
      const res = await b.page.goto(`${h.url}/fax-mail/${NUM_MAIN}/received/${id}/pdf`);
      expect(res!.status(), id).toBe(404);
      expect(await heading(b.page)).toBe('受信FAXが見つかりません');
    }
  });
});
