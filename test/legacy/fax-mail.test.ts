// FAXお知らせメール on the legacy site (サービス設定ホームページ, pattern B) in a real browser on a
// feature-phone-sized screen: its own login with the FAX realm's password (the 着信 one does not
// open it), メインメニュー, 開始／停止設定, 送信先メールアドレス登録／確認 with テストメール送信 (the
// mail reaches the SMTP catcher), and 受信FAX内容確認 after a real FAX call: the pattern B mail's
// link, the PDF download, the delete after its confirmation, paging, and another number refused.
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sendFax } from '../../src/cli/fax-sender.ts';
import { FAX_PER_PAGE } from '../../src/site/fax-receptions.ts';
import { listFaxReceptions, readFaxSettings } from '../../src/store/fax.ts';
import { makeFaxTiff } from '../fax/stack.ts';
import { mailsTo } from '../mail/mailbox.ts';
import { openBrowser, type TestBrowser } from '../support/browser.ts';
import { insertReceptions, pdfPageCount, startFaxSite, tinyPdf, type FaxSite } from '../support/fax-site.ts';
import { fromManyAddresses, refusals, type SiteHarness } from '../support/site.ts';
import { heading, LEGACY, legacyLogIn, setFirstPassword, setLegacyTemp, setOldPassword } from './support.ts';

const WITH_FAX = '0722320001';
const NEW_FAX = '0722320002';
const OTHER = '0722320003';
const CALLER = '0612345678';

const contract = (id: string, number: string, services: string[], fax?: object) => ({
  id, region: 'west', pattern: 'B', authUnit: 'number', numbers: [{ number, role: 'main', services, ...(fax ? { fax } : {}) }],
});
const CONTRACTS = {
  contracts: [
    contract('BF1', WITH_FAX, ['chakushin_mail', 'fax_mail'], { started: true, destinations: [{ address: `fax.${WITH_FAX}@example.jp`, send: true }] }),
    contract('BF2', NEW_FAX, ['fax_mail']),
    contract('BF3', OTHER, ['fax_mail']),
  ],
};

let fs: FaxSite;
let h: SiteHarness;
let b: TestBrowser;
beforeAll(async () => {
  fs = await startFaxSite(CONTRACTS, { site: { loginRateLimit: { max: 1000 } } });
  h = fs.h;
  await setOldPassword(h.db.pool, WITH_FAX, 'chakushin_mail', 'ck11');
  await setOldPassword(h.db.pool, WITH_FAX, 'fax_mail', 'fx11');
  b = await openBrowser('phone');
  await b.page.setViewportSize({ width: 240, height: 320 });
});
beforeEach(async () => {
  await b.context.clearCookies();
});
afterAll(async () => {
  await b?.close();
  await fs?.stop();
});

const logInFax = (number: string, password: string) => legacyLogIn(b.page, h.url, number, password, { service: 'fax_mail' });
const notice = () => b.page.getByRole('status').textContent();
const receptionRows = () => b.page.getByRole('table', { name: '受信したFAX' }).getByRole('row').filter({ has: b.page.getByRole('cell') });

describe('legacy FAXお知らせメール', () => {
  it('temp password → パスワード設定 → メインメニュー; 開始 needs a destination; テストメール送信 mails it; the legacy address rule', async () => {
    const { page } = b;
    await setLegacyTemp(h.db.pool, NEW_FAX, 'fax_mail', '73914682');
    await logInFax(NEW_FAX, '73914682');
    expect(await heading(page)).toBe('パスワード設定');
    await setFirstPassword(page, '73914682', 'fx22');
    expect(await heading(page)).toBe('メインメニュー');
    expect(await page.getByText('現在：停止').isVisible()).toBe(true);
    for (const name of ['開始／停止設定', '送信先メールアドレス登録／確認', '受信FAX内容確認', 'パスワード変更']) {
      expect(await page.getByRole('link', { name }).isVisible(), name).toBe(true);
    }
    expect(await page.content()).not.toContain('<script');

    await page.getByRole('link', { name: '開始／停止設定' }).click();
    await page.getByLabel('開始').check();
    await page.getByRole('button', { name: '設定' }).click();
    expect(await refusals(page)).toContain('送信先メールアドレスが登録されていないため、開始できません。先に「送信先メールアドレス登録／確認」を行ってください。');

    await page.getByRole('link', { name: 'メインメニューへ' }).click();
    await page.getByRole('link', { name: '送信先メールアドレス登録／確認' }).click();
    await page.getByLabel('送信先メールアドレス1').fill('a+b@example.jp');
    await page.getByRole('button', { name: '設定', exact: true }).click();
    expect(await refusals(page)).toContain('メールアドレスの＠の左側では、「! $ % \' * + / ? ^ #」が使用できません');
    expect((await readFaxSettings(h.db.pool, NEW_FAX)).destinations).toEqual([]);
    const address = `fax.b.${NEW_FAX}@example.jp`;
    await page.getByLabel('送信先メールアドレス1').fill(address);
    await page.getByLabel('送信する1').check();
    await page.getByRole('button', { name: 'テストメール送信1' }).click();
    expect(await notice()).toBe(`送信先メールアドレス1（${address}）へテストメールを送信しました。正しくメールが届くことをご確認ください。`);
    const [test] = await mailsTo(fs.stack.catcher, address, 1);
    expect(test!.text).toContain('このメールは「FAXお知らせメール」の送信テストです。');
    expect(test!.text).toContain('から実施してください。');
    await page.getByRole('button', { name: '設定', exact: true }).click();
    expect(await notice()).toBe('設定しました。');

    await page.goto(`${h.url}${LEGACY}/fax-mail/start`);
    await page.getByLabel('開始').check();
    await page.getByRole('button', { name: '設定' }).click();
    expect(await notice()).toBe('設定しました。');
    expect(await readFaxSettings(h.db.pool, NEW_FAX)).toMatchObject({ started: true, destinations: [{ position: 1, address, send: true }] });
    expect(await h.auditActions(NEW_FAX)).toEqual(expect.arrayContaining(['legacy.login', 'fax_mail.test_mail', 'legacy.fax_mail.destinations', 'legacy.fax_mail.start']));
    await page.goto(`${h.url}${LEGACY}/fax-mail/menu`);
    await page.getByRole('button', { name: '終了' }).click();
    expect(await heading(page)).toBe('設定の終了');
  });

  it('each service has its own password: the 着信 one does not open FAXお知らせメール', async () => {
    await logInFax(WITH_FAX, 'ck11');
    expect(await refusals(b.page)).toContain('電話番号またはパスワードが正しくありません。');
    await legacyLogIn(b.page, h.url, WITH_FAX, 'ck11');
    expect(await heading(b.page)).toBe('メインメニュー');
    // That session is the 着信 one: FAXお知らせメール's pages still ask for their own login.
    await b.page.goto(`${h.url}${LEGACY}/fax-mail/${WITH_FAX}/received`);
    expect(await heading(b.page)).toBe('ログイン（FAXお知らせメール）');
  });

  it('a real FAX: the pattern B mail\'s link opens 受信FAX内容確認; downloaded as a 1-page PDF; deleted after confirming', async () => {
    const tiff = await makeFaxTiff(fs.stack.dir, 1, 600);
    const sent = await sendFax({ to: WITH_FAX, via: fs.stack.sip, from: CALLER, file: tiff });
    expect(sent).toMatchObject({ sipStatus: 200, pagesSent: 1, t30Code: 0 });
    const [mail] = await mailsTo(fs.stack.catcher, `fax.${WITH_FAX}@example.jp`, 1, 20_000);
    expect(mail!.text).toContain(`発信者通知番号:${CALLER}`);
    const link = /^https:\/\/settings\.example\.jp(\/\S+)$/m.exec(mail!.text)![1]!;
    expect(link).toBe(`${LEGACY}/fax-mail/${WITH_FAX}/received`);
    const [stored] = (await listFaxReceptions(h.db.pool, WITH_FAX, { offset: 0, limit: 5 })).rows;

    const { page } = b;
    // Not logged in: the link leads to the service's login, never to the list.
    await page.goto(`${h.url}${link}`);
    expect(await heading(page)).toBe('ログイン（FAXお知らせメール）');
    await logInFax(WITH_FAX, 'fx11');
    await page.getByRole('link', { name: '受信FAX内容確認' }).click();
    expect(new URL(page.url()).pathname).toBe(link);
    expect(await heading(page)).toBe('受信FAX内容確認');
    expect(await page.getByRole('columnheader', { name: '発信者通知番号' }).count()).toBe(1);
    const row = receptionRows().first();
    const cells = await row.getByRole('cell').allTextContents();
    expect(cells.slice(0, 4)).toEqual([expect.stringMatching(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d$/), CALLER, '1', '正常に受信しました']);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    const html = await page.content();
    expect(html).not.toContain('<script');
    expect(Buffer.byteLength(html)).toBeLessThan(6_000);

    const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('link', { name: 'ダウンロード' }).click()]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^fax-${WITH_FAX}-\\d{8}-\\d{6}\\.pdf$`));
    const file = path.join(fs.stack.dir, 'legacy-downloaded.pdf');
    await download.saveAs(file);
    expect(await pdfPageCount(file)).toBe(1);
    const res = await page.request.get(`${h.url}${link}/${stored!.id}/pdf`);
    expect(res.headers()['content-type']).toBe('application/pdf');
    expect(res.headers()['content-disposition']).toMatch(/^attachment; filename="fax-\d+-\d{8}-\d{6}\.pdf"$/);
    const { rows: audits } = await h.db.pool.query("select actor, detail from audit_log where action = 'fax.download' and subject = $1", [WITH_FAX]);
    expect(audits).toEqual([{ actor: WITH_FAX, detail: expect.objectContaining({ reception: stored!.id }) }, { actor: WITH_FAX, detail: expect.objectContaining({ reception: stored!.id }) }]);

    await row.getByRole('link', { name: '削除' }).click();
    expect(await heading(page)).toBe('受信FAXの削除');
    await page.getByRole('button', { name: '削除する' }).click();
    expect(await notice()).toBe('受信FAXを削除しました。');
    expect(await page.getByText('受信したFAXはありません。').isVisible()).toBe(true);
    expect((await listFaxReceptions(h.db.pool, WITH_FAX, { offset: 0, limit: 5 })).total).toBe(0);
    expect(await h.auditActions(WITH_FAX)).toContain('fax.delete');
    await page.getByRole('link', { name: 'メインメニューへ' }).click();
    expect(await heading(page)).toBe('メインメニュー');
  });

  it('pages of 10 with 前へ／次へ', async () => {
    await setOldPassword(h.db.pool, NEW_FAX, 'fax_mail', 'fx23');
    const count = FAX_PER_PAGE + 4;
    await insertReceptions(h, NEW_FAX, count, { callerNumber: null, absentReason: '非通知' });
    await logInFax(NEW_FAX, 'fx23');
    await b.page.getByRole('link', { name: '受信FAX内容確認' }).click();
    const pager = b.page.getByRole('navigation', { name: 'ページ' });
    expect(await pager.getByText(`${count}件中 1～${FAX_PER_PAGE}件目（1／2ページ）`).isVisible()).toBe(true);
    expect(await receptionRows().count()).toBe(FAX_PER_PAGE);
    expect(await receptionRows().first().getByRole('cell').nth(1).textContent()).toBe('非通知理由：非通知');
    await pager.getByRole('link', { name: '次へ' }).click();
    expect(await receptionRows().count()).toBe(4);
    await pager.getByRole('link', { name: '前へ' }).click();
    expect(await receptionRows().count()).toBe(FAX_PER_PAGE);
  });

  it('another number\'s list, file and delete are refused (403) on the server and audited', async () => {
    const [theirs] = await insertReceptions(h, OTHER, 1, { pdf: await tinyPdf() });
    const other = `${h.url}${LEGACY}/fax-mail/${OTHER}/received`;
    // Before any login: the service's login page, nothing of the FAX.
    const anonymous = await b.page.request.get(`${other}/${theirs}/pdf`, { maxRedirects: 0 });
    expect(anonymous.status()).toBe(303);
    expect(anonymous.headers().location).toBe(`${LEGACY}/fax-mail`);

    await setOldPassword(h.db.pool, NEW_FAX, 'fax_mail', 'fx24');
    await logInFax(NEW_FAX, 'fx24');
    // The session's CSRF token, from メインメニュー's 終了 form.
    const csrf = await b.page.evaluate(() => (document.querySelector('input[name=_csrf]') as HTMLInputElement).value);
    const list = await b.page.goto(other);
    expect(list!.status()).toBe(403);
    expect(await heading(b.page)).toBe('確認できません');
    expect((await b.page.request.get(`${other}/${theirs}/pdf`)).status()).toBe(403);
    expect((await b.page.request.post(`${other}/${theirs}/delete`, { form: { _csrf: csrf } })).status()).toBe(403);
    // Under one's own number, another number's reception does not exist.
    expect((await b.page.request.post(`${h.url}${LEGACY}/fax-mail/${NEW_FAX}/received/${theirs}/delete`, { form: { _csrf: csrf } })).status()).toBe(404);
    expect((await listFaxReceptions(h.db.pool, OTHER, { offset: 0, limit: 5 })).total).toBe(1);
    const actions = await h.auditActions(OTHER);
    expect(actions.filter((a) => a === 'scope.refused')).toHaveLength(3);
    expect(actions.filter((a) => a.startsWith('fax.'))).toEqual([]);
  });

  it('wrong FAX passwords that keep coming warn the owner at the FAX 送信先 (ログイン失敗のお知らせ)', async () => {
    const { warnAtFailures } = h.config.site.loginThrottle;
    await fromManyAddresses(b.page, h, warnAtFailures, (i) => legacyLogIn(b.page, h.url, NEW_FAX, `wrong${i}`, { service: 'fax_mail', fromTop: false }));
    const { rows } = await h.db.pool.query("select to_address from mail_outbox where kind = 'notice' and subject = $1", [`ログイン失敗のお知らせ（${NEW_FAX}）`]);
    expect(rows).toEqual([{ to_address: `fax.b.${NEW_FAX}@example.jp` }]);
    expect(await h.auditActions(NEW_FAX)).toContain('legacy.login.warning');
  });
});
