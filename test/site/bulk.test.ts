// 着信お知らせメール 一括設定 in a real browser: download → upload unchanged changes nothing; a CP932
// file and a UTF-8 file without BOM apply; a file with 3 bad rows lists all three and applies none.
import { readFile } from 'node:fs/promises';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_DESIGNATED, MAX_DESTINATIONS } from '../../src/domain/limits.ts';
import { MAIL_CSV_HEADER } from '../../src/site/settings/bulk/chakushin-mail-csv.ts';
import { BULK_FROM } from '../../src/site/settings/bulk/pages.ts';
import { readNotifySettings } from '../../src/store/notify-settings.ts';
import { openBrowser, type TestBrowser } from '../support/browser.ts';
import { heading, logIn, startSiteHarness, type SiteHarness } from '../support/site.ts';

const PW = 'k7q2m9x4';
const num = (i: number) => `0356${String(i).padStart(6, '0')}`;
const MAIN = num(0);
const OUTSIDE = '0357000001';
/** One more number than 一括設定 needs. */
const CONTRACT_SIZE = BULK_FROM + 1;
/** The CSV's columns: 電話番号, 開始, then an address and its 送信 per destination, the two conditions, then a number and its 指定 per row. */
const COL = { started: 1, address1: 2, send1: 3, designated1: 2 + 2 * MAX_DESTINATIONS + 2 };

let h: SiteHarness;
let b: TestBrowser;
beforeAll(async () => {
  h = await startSiteHarness({
    contracts: [
      {
        id: 'BULK', region: 'west', pattern: 'A', authUnit: 'line',
        numbers: Array.from({ length: CONTRACT_SIZE }, (_, i) => ({
          number: num(i), role: i === 0 ? 'main' : 'additional', services: ['chakushin_mail'],
          ...(i === 1 ? { notify: { started: true, destinations: [{ address: '+sales@example.jp', send: true }, { address: 'quiet@example.jp', send: false }], designatedOnly: true, unansweredOnly: false, designated: ['0311112222', { number: '0311113333', designated: true }] } } : {}),
        })),
      },
      { id: 'OTHER', region: 'west', pattern: 'A', authUnit: 'line', numbers: [{ number: OUTSIDE, role: 'main', services: ['chakushin_mail'] }] },
    ],
  });
  await h.setPassword(MAIN, PW);
  b = await openBrowser('desktop');
  await logIn(b.page, h.url, MAIN, PW);
});
afterAll(async () => {
  await b?.close();
  await h?.stop();
});

async function openBulk() {
  await b.page.goto(`${h.url}/chakushin-mail`);
  await b.page.getByRole('link', { name: '一括設定' }).click();
  expect(await heading(b.page)).toBe('一括設定（着信お知らせメール）');
}
async function download(): Promise<Buffer> {
  const [dl] = await Promise.all([b.page.waitForEvent('download'), b.page.getByRole('link', { name: '一括ダウンロード' }).click()]);
  return readFile((await dl.path())!);
}
async function upload(name: string, bytes: Buffer) {
  await b.page.getByLabel('CSVファイル').setInputFiles({ name, mimeType: 'text/csv', buffer: bytes });
  await b.page.getByRole('button', { name: '一括設定' }).click();
}
const versions = async () => (await h.db.pool.query('select number, version from notify_setting order by number')).rows;
/** A record as the guide's format has it: every cell quoted. */
const record = (cells: string[]) => cells.map((c) => `"${c}"`).join(',') + '\r\n';
function row(number: string, o: { started?: string; addr1?: string; send1?: string; designated1?: string } = {}): string[] {
  const cells = Array<string>(MAIL_CSV_HEADER.length).fill('0');
  cells[0] = number;
  cells[COL.started] = o.started ?? '0';
  for (let i = 0; i < MAX_DESTINATIONS; i++) cells[COL.address1 + i * 2] = '';
  cells[COL.address1] = o.addr1 ?? '';
  cells[COL.send1] = o.send1 ?? '0';
  for (let i = 0; i < MAX_DESIGNATED; i++) cells[COL.designated1 + i * 2] = '';
  cells[COL.designated1] = o.designated1 ?? '';
  return cells;
}

describe('一括設定 (着信お知らせメール)', () => {
  it('download → upload unchanged: nothing changes; formula-like cells are escaped in the file', async () => {
    await openBulk();
    const file = await download();
    expect([...file.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = file.subarray(3).toString('utf8');
    const lines = text.split('\r\n');
    const HEADER = 1;
    const AFTER_FINAL_CRLF = 1;
    expect(lines).toHaveLength(HEADER + CONTRACT_SIZE + AFTER_FINAL_CRLF);
    expect(lines[0]).toBe(MAIL_CSV_HEADER.map((c) => `"${c}"`).join(','));
    expect(lines[2]!.startsWith(`"${num(1)}","1","'+sales@example.jp","1","quiet@example.jp","0",`)).toBe(true);
    expect(lines[2]).toContain('"1","0","0311112222","1","0311113333","1"');
    const before = await versions();
    await upload('settings.csv', file);
    expect(await b.page.getByRole('status').textContent()).toBe(`${CONTRACT_SIZE}件の電話番号を確認し、0件の設定を変更しました。`);
    expect(await versions()).toEqual(before);
    expect((await readNotifySettings(h.db.pool, num(1))).destinations[0]!.address).toBe('+sales@example.jp');
  });

  it('a Shift_JIS (CP932) file as Excel writes it, and a UTF-8 file without BOM, are applied', async () => {
    await openBulk();
    const cp932 = iconv.encode(record(MAIL_CSV_HEADER) + record(row(num(5), { started: '1', addr1: 'cp932@example.jp', send1: '1' })), 'cp932');
    await upload('sjis.csv', cp932);
    expect(await b.page.getByRole('status').textContent()).toBe('1件の電話番号を確認し、1件の設定を変更しました。');
    const s5 = await readNotifySettings(h.db.pool, num(5));
    expect(s5).toMatchObject({ started: true, destinations: [{ position: 1, address: 'cp932@example.jp', send: true }] });

    await upload('plain.csv', Buffer.from(record(MAIL_CSV_HEADER) + record(row(num(6), { designated1: '0312345678' })), 'utf8'));
    expect(await b.page.getByRole('status').textContent()).toBe('1件の電話番号を確認し、1件の設定を変更しました。');
    expect((await readNotifySettings(h.db.pool, num(6))).designated).toEqual([{ position: 1, callerNumber: '0312345678', designated: false }]);
  });

  it('a file with 3 bad rows: all three are listed by line and field, and no row is applied', async () => {
    await openBulk();
    const before = await versions();
    const text =
      record(MAIL_CSV_HEADER) +
      record(row(num(10), { addr1: 'ok10@example.jp', send1: '1' })) +
      record(row(num(11), { addr1: 'bad..dots@example.jp', send1: '1' })) +
      record(row(num(12), { addr1: 'ok12@example.jp' })) +
      record(row(num(13), { started: '2' })) +
      record(row(OUTSIDE));
    await upload('bad.csv', Buffer.from(text, 'utf8'));
    expect(await b.page.getByRole('alert').getByText('CSVファイルに誤りがあるため、設定は変更していません（3件）。').isVisible()).toBe(true);
    const rows = await b.page.getByRole('table', { name: 'CSVファイルの誤り' }).getByRole('row').all();
    const cells = await Promise.all(rows.slice(1).map((r) => r.getByRole('cell').allTextContents()));
    expect(cells).toEqual([
      ['3', '送信先メールアドレス1', '「.」を2つ続けて使用することはできません。'],
      ['5', 'サービス開始／停止', '0または1を入力してください。'],
      ['6', '電話番号', 'この電話番号の設定は、ログインした電話番号からは変更できません。'],
    ]);
    expect(await versions()).toEqual(before);
    expect((await readNotifySettings(h.db.pool, num(10))).destinations).toEqual([]);
  });
});
