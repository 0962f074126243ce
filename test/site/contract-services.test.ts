// 一括転送機能 and 故障・回復通知機能 on the 設定サイト in a real browser, by role and label: settings
// of the whole contract, open only to a login that manages it (回線単位, 管理者); errors next to the
// field, stale forms, 送信テスト, the CSV 一括設定 (round trip, CP932, bad rows), audit rows.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NUMBERS_PER_PAGE } from '../../src/site/paging.ts';
import { readBulkForward } from '../../src/store/bulk-forward-settings.ts';
import { readFailureNotice } from '../../src/store/failure-notice-settings.ts';
import { listLines } from '../../src/store/line-probes.ts';
import { openBrowser, type TestBrowser } from '../support/browser.ts';
import { fieldError, groupError, heading, logIn, refusals, startSiteHarness, type SiteHarness } from '../support/site.ts';

const LINE_MAIN = '0654107391';
const ADMIN_MAIN = '0654307391';
const ADMIN_USER = '0654307392';
const NUM_MAIN = '0654207391';
const ONLY_NOTICE = '0654507391';
/** A contract whose 転送先 list runs over more than one page. */
const MANY = NUMBERS_PER_PAGE + 3;
const LINE_EXTRAS = Array.from({ length: MANY - 1 }, (_, i) => `0654108${String(i).padStart(3, '0')}`);
const LINE_EXTRA = LINE_EXTRAS[0]!;
const PW = 'k7q2m9x4';

const both = { services: ['bulk_forward', 'failure_notice'] };
const CONTRACTS = {
  contracts: [
    { id: 'S-line', region: 'west', pattern: 'A', authUnit: 'line', ...both, numbers: [
      { number: LINE_MAIN, role: 'main', services: ['chakushin_mail'], target: 'sip:pbx@192.0.2.1' },
      ...LINE_EXTRAS.map((number) => ({ number, role: 'additional', target: 'sip:pbx@192.0.2.1' })),
    ] },
    { id: 'S-admin', region: 'east', pattern: 'A', authUnit: 'admin_user', ...both, numbers: [
      { number: ADMIN_MAIN, role: 'main', services: ['chakushin_mail'] },
      { number: ADMIN_USER, role: 'additional', services: ['chakushin_mail'] },
    ] },
    { id: 'S-number', region: 'west', pattern: 'A', authUnit: 'number', ...both, numbers: [{ number: NUM_MAIN, role: 'main', services: ['chakushin_mail'] }] },
    { id: 'S-notice', region: 'west', pattern: 'A', authUnit: 'line', services: ['failure_notice'], numbers: [{ number: ONLY_NOTICE, role: 'main' }] },
  ],
};

let h: SiteHarness;
let b: TestBrowser;
let dir: string;
beforeAll(async () => {
  h = await startSiteHarness(CONTRACTS, { site: { testMailsPerHour: 2, loginRateLimit: { max: 1000, windowSec: 60 } } });
  for (const n of [LINE_MAIN, ADMIN_MAIN, ADMIN_USER, NUM_MAIN, ONLY_NOTICE]) await h.setPassword(n, PW);
  b = await openBrowser('phone');
  dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-contract-services-'));
});
beforeEach(async () => {
  h.clock.reset();
  await b.context.clearCookies();
});
afterAll(async () => {
  await b?.close();
  await h?.stop();
  await rm(dir, { recursive: true, force: true });
});

const status = () => b.page.getByRole('status').textContent();

async function openService(login: string, name: string) {
  await logIn(b.page, h.url, login, PW);
  await b.page.getByRole('link', { name: 'サービス選択' }).click();
  await b.page.getByRole('link', { name }).click();
  expect(await heading(b.page)).toBe(`サービスメニュー（${name}）`);
  expect(await b.page.getByText(`設定する契約（契約者回線番号）：${login}`).isVisible()).toBe(true);
}

describe('who may set them', () => {
  it('a 回線単位 login and a 管理者 see both services; a ユーザ and an 電話番号単位 login neither, and their URLs are refused', async () => {
    for (const login of [LINE_MAIN, ADMIN_MAIN]) {
      await b.context.clearCookies();
      await logIn(b.page, h.url, login, PW);
      await b.page.getByRole('link', { name: 'サービス選択' }).click();
      expect(await b.page.getByRole('link', { name: '一括転送機能' }).isVisible()).toBe(true);
      expect(await b.page.getByRole('link', { name: '故障・回復通知機能' }).isVisible()).toBe(true);
    }
    for (const login of [ADMIN_USER, NUM_MAIN]) {
      await b.context.clearCookies();
      await logIn(b.page, h.url, login, PW);
      await b.page.getByRole('link', { name: 'サービス選択' }).click();
      expect(await b.page.getByRole('link', { name: '着信お知らせメール' }).isVisible()).toBe(true);
      expect(await b.page.getByRole('link', { name: '一括転送機能' }).count()).toBe(0);
      expect(await b.page.getByRole('link', { name: '故障・回復通知機能' }).count()).toBe(0);
      for (const url of ['/bulk-forward', '/failure-notice/start']) {
        const res = await b.page.goto(`${h.url}${url}`);
        expect(res?.status()).toBe(403);
      }
      const post = await b.page.request.post(`${h.url}/bulk-forward/start`, { form: { started: 'on', version: '1' } });
      expect(post.status()).toBe(403);
      expect(await h.auditActions(login)).toContain('scope.refused');
    }
    expect((await readBulkForward(h.db.pool, 'S-admin'))!.started).toBe(false);
  });

  it('without 一括転送機能 the automatic settings are neither offered nor open', async () => {
    await openService(ONLY_NOTICE, '故障・回復通知機能');
    expect(await b.page.getByRole('link', { name: '送信メール内容設定' }).isVisible()).toBe(true);
    expect(await b.page.getByRole('link', { name: '一括転送自動開始設定' }).count()).toBe(0);
    expect((await b.page.goto(`${h.url}/failure-notice/auto-start`))?.status()).toBe(404);
  });
});

describe('故障・回復通知機能', () => {
  it('開始 needs a 送信先; with one, 開始 puts the contract\'s lines under probing; 送信テスト and its hourly cap', async () => {
    await openService(LINE_MAIN, '故障・回復通知機能');
    expect(await b.page.getByText('現在の状態：停止').isVisible()).toBe(true);
    await b.page.getByRole('link', { name: 'サービス開始／停止' }).click();
    await b.page.getByRole('radio', { name: '開始' }).check();
    await b.page.getByRole('button', { name: '設定' }).click();
    expect(await groupError(b.page, 'サービス開始／停止')).toBe('送信先メールアドレスが設定されていないため、開始できません。先に「送信先メールアドレス設定」を行ってください。');

    await b.page.getByRole('link', { name: '戻る' }).click();
    await b.page.getByRole('link', { name: '送信先メールアドレス設定' }).click();
    await b.page.getByLabel('送信先メールアドレス1').fill('noc@example.jp');
    await b.page.getByRole('checkbox', { name: '送信1' }).check();
    await b.page.getByLabel('送信先メールアドレス2').fill('bad..x@example.jp');
    await b.page.getByRole('button', { name: '設定', exact: true }).click();
    expect(await fieldError(b.page, '送信先メールアドレス2')).toBe('「.」を2つ続けて使用することはできません。');
    expect((await readFailureNotice(h.db.pool, 'S-line'))!.destinations).toEqual([]);
    await b.page.getByLabel('送信先メールアドレス2').fill('');
    await b.page.getByRole('button', { name: '送信テスト1' }).click();
    expect(await status()).toBe('送信先メールアドレス1（noc@example.jp）へ送信テストメールを送信しました。届いたことをご確認ください。');
    await b.page.getByRole('button', { name: '送信テスト1' }).click();
    await b.page.getByRole('button', { name: '送信テスト1' }).click();
    expect(await fieldError(b.page, '送信先メールアドレス1')).toBe('送信テストは1時間に2回までです。しばらくしてから、もう一度お試しください。');
    const { rows } = await h.db.pool.query("select subject from mail_outbox where kind = 'test' and to_address = 'noc@example.jp'");
    expect(rows.map((r) => r.subject)).toEqual(['送信テスト（故障・回復通知）', '送信テスト（故障・回復通知）']);
    await b.page.getByRole('button', { name: '設定', exact: true }).click();
    expect(await status()).toBe('設定しました。');

    await b.page.getByRole('link', { name: '戻る' }).click();
    await b.page.getByRole('link', { name: 'サービス開始／停止' }).click();
    await b.page.getByRole('radio', { name: '開始' }).check();
    await b.page.getByRole('button', { name: '設定' }).click();
    expect(await status()).toBe('設定しました。');
    expect((await listLines(h.db.pool, { contractId: 'S-line', limit: 10 })).map((l) => l.line)).toEqual(['sip:pbx@192.0.2.1']);
    expect(await h.auditActions(LINE_MAIN)).toEqual(expect.arrayContaining(['failure_notice.destinations', 'failure_notice.test_mail', 'failure_notice.start']));
  });

  it('送信メール内容設定: 契約者名 and 拠点情報 refused next to the field with the character named, typed values kept', async () => {
    await openService(ADMIN_MAIN, '故障・回復通知機能');
    await b.page.getByRole('link', { name: '送信メール内容設定' }).click();
    await b.page.getByLabel('契約者名').fill('㈱テスト商事');
    await b.page.getByLabel('拠点情報').fill('あ'.repeat(41));
    await b.page.getByRole('button', { name: '設定' }).click();
    expect(await fieldError(b.page, '契約者名')).toBe('契約者名に使用できない文字（「㈱」）が含まれています。半角カナ、機種依存文字は使用できません。');
    expect(await fieldError(b.page, '拠点情報')).toBe('拠点情報は40文字以内で入力してください。');
    expect(await b.page.getByLabel('契約者名').inputValue()).toBe('㈱テスト商事');
    expect(await b.page.getByRole('alert').getByRole('link', { name: '契約者名' }).isVisible()).toBe(true);
    await b.page.getByLabel('契約者名').fill('株式会社テスト商事');
    await b.page.getByLabel('拠点情報').fill('東京本社 3F');
    await b.page.getByRole('button', { name: '設定' }).click();
    expect(await status()).toBe('設定しました。');
    expect(await readFailureNotice(h.db.pool, 'S-admin')).toMatchObject({ contractorName: '株式会社テスト商事', siteInfo: '東京本社 3F' });
  });

  it('一括転送自動開始設定 and 一括転送自動停止設定; a form drawn before another window saved is refused', async () => {
    await openService(ADMIN_MAIN, '故障・回復通知機能');
    await b.page.getByRole('link', { name: '一括転送自動開始設定' }).click();
    const other = await b.newPage();
    await other.goto(b.page.url());
    await other.getByRole('radio', { name: '開始' }).check();
    await other.getByRole('button', { name: '設定' }).click();
    expect(await other.getByRole('status').textContent()).toBe('設定しました。');
    await other.close();
    await b.page.getByRole('radio', { name: '停止' }).check();
    await b.page.getByRole('button', { name: '設定' }).click();
    expect(await refusals(b.page)).toContain('別の画面などで設定が変更されています。');
    expect(await b.page.getByRole('radio', { name: '開始' }).isChecked()).toBe(true);
    await b.page.getByRole('link', { name: '戻る' }).click();
    await b.page.getByRole('link', { name: '一括転送自動停止設定' }).click();
    await b.page.getByRole('radio', { name: '開始' }).check();
    await b.page.getByRole('button', { name: '設定' }).click();
    expect(await readFailureNotice(h.db.pool, 'S-admin')).toMatchObject({ autoStartBulkForward: true, autoStopBulkForward: true });
  });
});

describe('一括転送機能', () => {
  it('転送先電話番号の設定 page by page, the 転送先 rules next to the field; 開始 needs one; every 転送先 cannot go while started', async () => {
    await openService(LINE_MAIN, '一括転送機能');
    await b.page.getByRole('link', { name: 'サービス開始／停止設定' }).click();
    await b.page.getByRole('radio', { name: '開始' }).check();
    await b.page.getByRole('button', { name: '設定' }).click();
    expect(await groupError(b.page, 'サービス開始／停止')).toBe('転送先電話番号が設定されていないため、開始できません。先に「転送先電話番号の設定」を行ってください。');

    await b.page.getByRole('link', { name: '戻る' }).click();
    await b.page.getByRole('link', { name: '転送先電話番号の設定' }).click();
    expect(await b.page.getByText(`${MANY}件中 1～${NUMBERS_PER_PAGE}件目`).isVisible()).toBe(true);
    await b.page.getByLabel(`${LINE_MAIN}の転送先電話番号`).fill('0120-123-456');
    await b.page.getByLabel(`${LINE_EXTRA}の転送先電話番号`).fill(LINE_EXTRA);
    await b.page.getByRole('button', { name: '設定', exact: true }).click();
    expect(await fieldError(b.page, `${LINE_MAIN}の転送先電話番号`)).toBe('フリーダイヤル（0120、0800）は転送先に設定できません。');
    expect(await fieldError(b.page, `${LINE_EXTRA}の転送先電話番号`)).toBe('お客さまご自身の電話番号は転送先に設定できません。');
    expect(await b.page.getByLabel(`${LINE_MAIN}の転送先電話番号`).inputValue()).toBe('0120-123-456');
    await b.page.getByLabel(`${LINE_MAIN}の転送先電話番号`).fill('03-1234-5678');
    await b.page.getByLabel(`${LINE_EXTRA}の転送先電話番号`).fill('');
    await b.page.getByRole('button', { name: '設定', exact: true }).click();
    expect(await status()).toBe('設定しました。');
    await b.page.getByRole('link', { name: '次へ' }).click();
    const last = LINE_EXTRAS.at(-1)!;
    await b.page.getByLabel(`${last}の転送先電話番号`).fill('09011112222');
    await b.page.getByRole('button', { name: '設定', exact: true }).click();
    expect(await status()).toBe('設定しました。');
    let s = (await readBulkForward(h.db.pool, 'S-line'))!;
    expect(s.numbers.filter((n) => n.destination)).toEqual([{ number: LINE_MAIN, destination: '0312345678' }, { number: last, destination: '09011112222' }]);

    await b.page.goto(`${h.url}/bulk-forward/start`);
    await b.page.getByRole('radio', { name: '開始' }).check();
    await b.page.getByRole('button', { name: '設定' }).click();
    expect(await status()).toBe('設定しました。');
    s = (await readBulkForward(h.db.pool, 'S-line'))!;
    expect(s).toMatchObject({ started: true, startedBy: 'subscriber' });

    await b.page.goto(`${h.url}/bulk-forward/destinations`);
    await b.page.getByLabel(`${LINE_MAIN}の転送先電話番号`).fill('');
    await b.page.getByRole('button', { name: '設定', exact: true }).click();
    expect(await status()).toBe('設定しました。');
    await b.page.goto(`${h.url}/bulk-forward/destinations?page=2`);
    await b.page.getByLabel(`${last}の転送先電話番号`).fill('');
    await b.page.getByRole('button', { name: '設定', exact: true }).click();
    expect(await fieldError(b.page, `${last}の転送先電話番号`)).toBe('サービス開始中は、転送先電話番号をすべて削除することはできません。先にサービスを停止してください。');
    expect((await readBulkForward(h.db.pool, 'S-line'))!.numbers.filter((n) => n.destination)).toEqual([{ number: last, destination: '09011112222' }]);
    expect(await h.auditActions(LINE_MAIN)).toEqual(expect.arrayContaining(['bulk_forward.destinations', 'bulk_forward.start']));
  });

  it('転送先電話番号の一括設定: the downloaded file goes back unchanged; a CP932 file; a file with bad rows changes nothing and lists each by line and field', async () => {
    await openService(ADMIN_MAIN, '一括転送機能');
    await b.page.getByRole('link', { name: '転送先電話番号の一括設定' }).click();
    const download = b.page.waitForEvent('download');
    await b.page.getByRole('link', { name: '一括ダウンロード' }).click();
    const file = path.join(dir, 'downloaded.csv');
    await (await download).saveAs(file);
    const bytes = await readFile(file);
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(bytes.subarray(3).toString('utf8')).toBe(`"電話番号","転送先電話番号"\r\n"${ADMIN_MAIN}",""\r\n"${ADMIN_USER}",""\r\n`);

    const upload = async (name: string, content: Buffer) => {
      const p = path.join(dir, name);
      await writeFile(p, content);
      await b.page.getByLabel('CSVファイル').setInputFiles(p);
      await b.page.getByRole('button', { name: '一括設定' }).click();
    };
    await upload('same.csv', bytes);
    expect(await status()).toBe('2件の電話番号を確認し、0件の転送先電話番号を変更しました。');

    const sjis = iconv.encode(`電話番号,転送先電話番号\r\n${ADMIN_MAIN},０６－１２３４－５６７８\r\n${ADMIN_USER},09011112222\r\n`, 'cp932');
    await upload('sjis.csv', sjis);
    expect(await status()).toBe('2件の電話番号を確認し、2件の転送先電話番号を変更しました。');
    expect((await readBulkForward(h.db.pool, 'S-admin'))!.numbers).toEqual([
      { number: ADMIN_MAIN, destination: '0612345678' }, { number: ADMIN_USER, destination: '09011112222' },
    ]);

    const bad = `"電話番号","転送先電話番号"\r\n"${ADMIN_MAIN}","110"\r\n"0699999999","0312345678"\r\n"${ADMIN_USER}","${ADMIN_USER}"\r\n"${ADMIN_MAIN}",""\r\n"${ADMIN_USER}"\r\n`;
    await upload('bad.csv', Buffer.from(bad, 'utf8'));
    const table = b.page.getByRole('table', { name: 'CSVファイルの誤り' });
    const cells = await table.getByRole('row').allTextContents();
    expect(cells.slice(1)).toEqual([
      '2転送先電話番号3桁の特番（110、119、104など）は転送先に設定できません。',
      '3電話番号この電話番号は、ご契約の電話番号ではありません。',
      '4転送先電話番号お客さまご自身の電話番号は転送先に設定できません。',
      '5電話番号この電話番号は、ファイルの中で既に指定されています。',
      '6列数列の数が2ではありません（1列）。',
    ]);
    expect((await readBulkForward(h.db.pool, 'S-admin'))!.numbers.map((n) => n.destination)).toEqual(['0612345678', '09011112222']);
    expect(await h.auditActions(ADMIN_MAIN)).toEqual(expect.arrayContaining(['bulk_forward.csv_download', 'bulk_forward.csv_upload', 'bulk_forward.csv_refused']));
  });
});
