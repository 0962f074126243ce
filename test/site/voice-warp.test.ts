// ボイスワープ settings pages in a real browser (phone-sized): サービス選択 and サービスメニュー,
// 開始／停止設定, 転送先電話番号設定 with each rule's refusal next to the field, セレクト機能開始／停止設定,
// セレクト機能リスト設定 (add, remove, paged, the maximum), stale forms, CSRF, and the 認証単位 scope
// of every page and POST.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DESTINATION_MESSAGES, type DestinationRefusal } from '../../src/domain/voice-warp.ts';
import { NUMBERS_PER_PAGE } from '../../src/site/paging.ts';
import { readVoiceWarpSettings, saveVoiceWarpChange } from '../../src/store/voice-warp-settings.ts';
import { openBrowser, VIEWPORTS, type TestBrowser } from '../support/browser.ts';
import { fieldError, groupError, heading, logIn, refusals, startSiteHarness, type SiteHarness } from '../support/site.ts';

const LINE_MAIN = '0654107391';
const LINE_EXTRA = '0654107392';
const NUM_MAIN = '0654207391';
const NUM_EXTRA = '0654207392';
const MAIL_ONLY = '0654307391';
const PW = 'k7q2m9x4';
/** セレクト機能リスト's maximum in this suite: more than one page of the list. */
const LIST_MAX = NUMBERS_PER_PAGE + 5;
const PAGES = ['', '/start', '/destination', '/select', '/select-list'];

const CONTRACTS = {
  contracts: [
    { id: 'W-line', region: 'west', pattern: 'A', authUnit: 'line', numbers: [
      { number: LINE_MAIN, role: 'main', services: ['voice_warp', 'chakushin_mail'] },
      { number: LINE_EXTRA, role: 'additional', services: ['voice_warp'] },
    ] },
    { id: 'W-number', region: 'west', pattern: 'A', authUnit: 'number', numbers: [
      { number: NUM_MAIN, role: 'main', services: ['voice_warp'] },
      { number: NUM_EXTRA, role: 'additional', services: ['voice_warp'] },
    ] },
    { id: 'W-mail', region: 'east', pattern: 'A', authUnit: 'number', numbers: [
      { number: MAIL_ONLY, role: 'main', services: ['chakushin_mail'] },
    ] },
  ],
};

let h: SiteHarness;
let b: TestBrowser;
beforeAll(async () => {
  h = await startSiteHarness(CONTRACTS, { site: { loginRateLimit: { max: 1000, windowSec: 60 } }, voiceWarp: { selectListMax: LIST_MAX } });
  for (const n of [LINE_MAIN, NUM_MAIN, NUM_EXTRA, MAIL_ONLY]) await h.setPassword(n, PW);
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

const settings = (number: string) => readVoiceWarpSettings(h.db.pool, number, h.config.voiceWarp.ringSecondsDefault);
const saved = () => b.page.getByRole('status').textContent();
const set = () => b.page.getByRole('button', { name: '設定', exact: true }).click();
/** As another window would save it (the store's own call, from the phone menu's side). */
const saveElsewhere = (number: string, change: Parameters<typeof saveVoiceWarpChange>[2]) =>
  saveVoiceWarpChange(h.db.pool, number, change, { actor: 'ivr', at: new Date() }, h.config.voiceWarp);

/** サービス選択 → ボイスワープ (→ 電話番号選択) → the number's サービスメニュー, as a subscriber goes. */
async function openMenu(login: string, number: string) {
  await logIn(b.page, h.url, login, PW);
  await b.page.getByRole('link', { name: 'サービス選択' }).click();
  await b.page.getByRole('link', { name: 'ボイスワープ' }).click();
  if ((await heading(b.page)) === '電話番号選択') await b.page.getByRole('link', { name: number, exact: true }).click();
  expect(await heading(b.page)).toBe('サービスメニュー（ボイスワープ）');
  expect(await b.page.getByText(`設定する電話番号：${number}`).isVisible()).toBe(true);
}

async function open(login: string, number: string, entry: string) {
  await openMenu(login, number);
  await b.page.getByRole('link', { name: entry, exact: true }).click();
  expect(await heading(b.page)).toBe(entry);
}

/** The hidden fields of the page's first settings form (CSRF token, version), as a hand-made POST copies them. */
async function hiddenFields(page: Page = b.page): Promise<Record<string, string>> {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll('main form[method="post"] input[type=hidden]')].map((i) => [(i as HTMLInputElement).name, (i as HTMLInputElement).value])));
}

/** How many times `message` stands on the page (summary and fields together): a refusal is said once. */
async function timesShown(message: string): Promise<number> {
  return (await refusals(b.page)).split(message).length - 1;
}

describe('サービス選択 and サービスメニュー', () => {
  it('ボイスワープ is listed for a login with a number that has it; its menu has the guide\'s four entries with their descriptions and the state', async () => {
    await logIn(b.page, h.url, NUM_MAIN, PW);
    await b.page.getByRole('link', { name: 'サービス選択' }).click();
    const services = b.page.getByRole('navigation', { name: 'サービス' });
    expect(await services.getByRole('link').allTextContents()).toEqual(['ボイスワープ']);
    await services.getByRole('link', { name: 'ボイスワープ' }).click();
    // One number in scope: straight to its menu.
    expect(await heading(b.page)).toBe('サービスメニュー（ボイスワープ）');
    const menu = b.page.getByRole('navigation', { name: 'サービスメニュー' });
    const entries = {
      '開始／停止設定': 'サービスの開始または停止、および転送条件の設定を行います。',
      '転送先電話番号設定': '転送先の電話番号を設定します。',
      'セレクト機能開始／停止設定': 'セレクト機能の開始または停止の設定を行います。',
      'セレクト機能リスト設定': 'セレクト機能の設定を行う電話番号の追加、削除を行います。',
    };
    expect(await menu.getByRole('link').allTextContents()).toEqual(Object.keys(entries));
    for (const [label, description] of Object.entries(entries)) {
      const id = await menu.getByRole('link', { name: label, exact: true }).getAttribute('aria-describedby');
      expect(await b.page.locator(`[id="${id}"]`).textContent()).toBe(description);
    }
    expect(await b.page.getByText('現在の状態：停止').isVisible()).toBe(true);
  });

  it('a login whose numbers do not have the service: not in サービス選択, and its pages are refused', async () => {
    await logIn(b.page, h.url, MAIL_ONLY, PW);
    await b.page.getByRole('link', { name: 'サービス選択' }).click();
    expect(await b.page.getByRole('link', { name: 'ボイスワープ' }).count()).toBe(0);
    expect(await b.page.getByRole('link', { name: '着信お知らせメール' }).isVisible()).toBe(true);
    for (const path of PAGES) {
      const res = await b.page.goto(`${h.url}/voice-warp/${MAIL_ONLY}${path}`);
      expect(res!.status(), path).toBe(403);
    }
  });
});

describe('開始／停止設定', () => {
  it('開始 is refused without a 転送先 (at the group, linked from the summary); with one, 開始, 転送条件, 呼出秒数 and 転送ガイダンス are saved', async () => {
    await open(LINE_MAIN, LINE_MAIN, '開始／停止設定');
    expect(await b.page.getByText('転送先電話番号：未登録').isVisible()).toBe(true);
    expect(await b.page.getByRole('radio', { name: '停止' }).isChecked()).toBe(true);
    expect(await b.page.getByRole('radio', { name: '無条件転送' }).isChecked()).toBe(true);
    expect(await b.page.getByLabel('呼出秒数').inputValue()).toBe(String(h.config.voiceWarp.ringSecondsDefault));
    expect(await b.page.getByRole('radio', { name: '流さない' }).isChecked()).toBe(true);
    await b.page.getByRole('radio', { name: '開始' }).check();
    await b.page.getByRole('radio', { name: '話中・無応答時転送' }).check();
    await set();
    const message = '転送先電話番号を設定してから開始してください。';
    expect(await groupError(b.page, 'サービス開始／停止')).toBe(message);
    expect(await b.page.getByRole('alert').getByRole('link', { name: 'サービス開始／停止' }).isVisible()).toBe(true);
    expect(await timesShown(message)).toBe(1);
    // What was chosen is kept.
    expect(await b.page.getByRole('radio', { name: '話中・無応答時転送' }).isChecked()).toBe(true);
    expect((await settings(LINE_MAIN)).started).toBe(false);

    await b.page.getByRole('link', { name: '転送先電話番号設定' }).click();
    await b.page.getByLabel('転送先電話番号').fill('090-1234-5678');
    await set();
    expect(await saved()).toBe('設定しました。');
    expect(await b.page.getByLabel('転送先電話番号').inputValue()).toBe('09012345678');
    await b.page.getByRole('link', { name: '戻る' }).click();
    await b.page.getByRole('link', { name: '開始／停止設定', exact: true }).click();
    expect(await b.page.getByText('転送先電話番号：09012345678').isVisible()).toBe(true);
    await b.page.getByRole('radio', { name: '開始' }).check();
    await b.page.getByRole('radio', { name: '話中・無応答時転送' }).check();
    await b.page.getByLabel('呼出秒数').fill('３０');
    await b.page.getByRole('radio', { name: '流す' }).check();
    await set();
    expect(await saved()).toBe('設定しました。');
    expect(await b.page.getByLabel('呼出秒数').inputValue()).toBe('30');
    const s = await settings(LINE_MAIN);
    expect(s).toMatchObject({ started: true, condition: 'busy_no_answer', destination: '09012345678', ringSeconds: 30, guidance: true });
    const { rows } = await h.db.pool.query("select actor, action, detail, source from audit_log where subject = $1 and action like 'voice_warp.%' order by id", [LINE_MAIN]);
    expect(rows).toEqual([
      { actor: LINE_MAIN, action: 'voice_warp.destination', detail: { destination: '09012345678' }, source: '127.0.0.1' },
      { actor: LINE_MAIN, action: 'voice_warp.start', detail: { started: true, condition: 'busy_no_answer', ringSeconds: 30, guidance: true }, source: '127.0.0.1' },
    ]);
    await b.page.getByRole('link', { name: '戻る' }).click();
    expect(await b.page.getByText('現在の状態：開始（話中・無応答時転送）').isVisible()).toBe(true);
  });

  it.each(['4', '61', '2O', ''])('呼出秒数 %j is refused next to the field, typed values kept, nothing saved', async (typed) => {
    await open(NUM_EXTRA, NUM_EXTRA, '開始／停止設定');
    const before = await settings(NUM_EXTRA);
    await b.page.getByRole('radio', { name: '無応答時転送', exact: true }).check();
    await b.page.getByLabel('呼出秒数').fill(typed);
    await set();
    const message = '呼出秒数は5秒から60秒の間で指定してください。';
    expect(await fieldError(b.page, '呼出秒数')).toBe(message);
    expect(await timesShown(message)).toBe(1);
    expect(await b.page.getByRole('alert').getByRole('link', { name: '呼出秒数' }).isVisible()).toBe(true);
    expect(await b.page.getByLabel('呼出秒数').inputValue()).toBe(typed);
    expect(await b.page.getByRole('radio', { name: '無応答時転送', exact: true }).isChecked()).toBe(true);
    expect(await settings(NUM_EXTRA)).toEqual(before);
  });
});

describe('転送先電話番号設定', () => {
  const RULES: [string, DestinationRefusal][] = [
    ['', 'required'],
    [NUM_MAIN, 'own_number'],
    ['110', 'short_number'],
    ['119', 'short_number'],
    ['104', 'short_number'],
    ['#8000', 'hash_number'],
    ['0120123456', 'free_dial'],
    ['0800-123-4567', 'free_dial'],
    ['0570123456', 'navi_dial'],
    ['0990123456', 'dial_q2'],
    ['0170123456', 'dengon_dial'],
    ['0180123456', 'teledome'],
    ['0101812345678', 'international'],
    ['0033 0612345678', 'carrier_prefix'],
    ['0010612345678', 'carrier_prefix'],
    ['0077-06-1234-5678', 'carrier_prefix'],
    ['061234', 'format'],
  ];

  it('each rule: the number is refused with the rule\'s message next to the field (said once), typed value kept, nothing saved', async () => {
    await open(NUM_MAIN, NUM_MAIN, '転送先電話番号設定');
    for (const [typed, rule] of RULES) {
      await b.page.getByLabel('転送先電話番号').fill(typed);
      await set();
      const message = DESTINATION_MESSAGES[rule];
      expect(await fieldError(b.page, '転送先電話番号'), typed).toBe(message);
      expect(await timesShown(message), typed).toBe(1);
      expect(await b.page.getByRole('alert').getByRole('link', { name: '転送先電話番号' }).isVisible()).toBe(true);
      expect(await b.page.getByLabel('転送先電話番号').inputValue()).toBe(typed);
    }
    expect((await settings(NUM_MAIN)).destination).toBeNull();
    expect(await h.auditActions(NUM_MAIN)).not.toContain('voice_warp.destination');
  });

  it('another number of the contract is a fine 転送先; 削除 is refused while started and removes it once stopped', async () => {
    await open(NUM_MAIN, NUM_MAIN, '転送先電話番号設定');
    expect(await b.page.getByRole('button', { name: '削除' }).count()).toBe(0);
    await b.page.getByLabel('転送先電話番号').fill(NUM_EXTRA);
    await set();
    expect(await saved()).toBe('設定しました。');
    await saveElsewhere(NUM_MAIN, { part: 'start', started: true, condition: 'unconditional', ringSeconds: 20, guidance: false });
    await b.page.reload();
    await b.page.getByRole('button', { name: '削除' }).click();
    expect(await fieldError(b.page, '転送先電話番号')).toBe('開始中は転送先電話番号を削除できません。停止してから削除してください。');
    expect((await settings(NUM_MAIN)).destination).toBe(NUM_EXTRA);

    await saveElsewhere(NUM_MAIN, { part: 'start', started: false, condition: 'unconditional', ringSeconds: 20, guidance: false });
    await b.page.reload();
    await b.page.getByRole('button', { name: '削除' }).click();
    expect(await saved()).toBe('転送先電話番号を削除しました。');
    expect(await b.page.getByLabel('転送先電話番号').inputValue()).toBe('');
    expect((await settings(NUM_MAIN)).destination).toBeNull();
  });
});

describe('セレクト機能', () => {
  const listed = () => b.page.locator('.listed-number').allTextContents();
  const pager = () => b.page.getByRole('navigation', { name: 'ページ' });

  it('セレクト機能開始 is refused with an empty list; the mode is saved', async () => {
    await open(LINE_MAIN, LINE_EXTRA, 'セレクト機能開始／停止設定');
    expect(await b.page.getByRole('radio', { name: '登録番号転送' }).isChecked()).toBe(true);
    await b.page.getByRole('radio', { name: '開始' }).check();
    await b.page.getByRole('radio', { name: '登録番号着信' }).check();
    await set();
    expect(await groupError(b.page, 'セレクト機能開始／停止')).toBe('セレクト機能リストに電話番号を登録してから開始してください。');
    expect((await settings(LINE_EXTRA)).select.started).toBe(false);
    await b.page.getByRole('radio', { name: '停止' }).check();
    await set();
    expect(await saved()).toBe('設定しました。');
    expect((await settings(LINE_EXTRA)).select).toEqual({ started: false, mode: 'ring_listed', list: [] });
  });

  it('セレクト機能リスト: numbers added one by one, a bad or repeated one refused at the field; paged; the maximum; 削除; the last one kept while started', async () => {
    await open(LINE_MAIN, LINE_EXTRA, 'セレクト機能リスト設定');
    expect(await b.page.getByText('登録されている電話番号はありません。').isVisible()).toBe(true);
    await b.page.getByLabel('追加する電話番号').fill('06-1111-0001');
    await b.page.getByRole('button', { name: '追加' }).click();
    expect(await saved()).toBe('0611110001をセレクト機能リストに追加しました。');
    expect(await listed()).toEqual(['0611110001']);
    expect(await b.page.getByLabel('追加する電話番号').inputValue()).toBe('');

    for (const [typed, message] of [
      ['0611110001', 'この電話番号はすでに登録されています。'],
      ['12345', '電話番号は市外局番から半角数字10桁または11桁で入力してください。'],
    ]) {
      await b.page.getByLabel('追加する電話番号').fill(typed!);
      await b.page.getByRole('button', { name: '追加' }).click();
      expect(await fieldError(b.page, '追加する電話番号')).toBe(message);
      expect(await timesShown(message!)).toBe(1);
      expect(await b.page.getByLabel('追加する電話番号').inputValue()).toBe(typed);
    }

    // Up to one short of the maximum from another window, then the last one here: it shows on page 2.
    const more = Array.from({ length: LIST_MAX - 2 }, (_, i) => `06111100${String(i + 2).padStart(2, '0')}`);
    await saveElsewhere(LINE_EXTRA, { part: 'select_list', list: ['0611110001', ...more] });
    await b.page.goto(`${h.url}/voice-warp/${LINE_EXTRA}/select-list`);
    expect(await listed()).toEqual(['0611110001', ...more].slice(0, NUMBERS_PER_PAGE));
    await b.page.getByLabel('追加する電話番号').fill('09000000001');
    await b.page.getByRole('button', { name: '追加' }).click();
    expect(await saved()).toBe('09000000001をセレクト機能リストに追加しました。');
    expect(await pager().getByText(`${LIST_MAX}件中 ${NUMBERS_PER_PAGE + 1}～${LIST_MAX}件目（2／2ページ）`).isVisible()).toBe(true);
    expect((await listed()).at(-1)).toBe('09000000001');
    expect(await b.page.getByText(`登録件数：${LIST_MAX}件`).isVisible()).toBe(true);
    // On a feature phone's 240-pixel screen too, nothing is wider than the screen (each element measured:
    // a mobile viewport widens itself to fit a wide element, so the page's own scroll width proves nothing).
    await b.page.setViewportSize({ width: 240, height: 320 });
    expect(await b.page.evaluate(() => [...document.querySelectorAll('main *')].every((e) => e.getBoundingClientRect().right <= document.documentElement.clientWidth))).toBe(true);
    await b.page.setViewportSize(VIEWPORTS.phone);

    await b.page.getByLabel('追加する電話番号').fill('09000000002');
    await b.page.getByRole('button', { name: '追加' }).click();
    expect(await fieldError(b.page, '追加する電話番号')).toBe(`セレクト機能の電話番号は${LIST_MAX}件まで登録できます。`);
    expect((await settings(LINE_EXTRA)).select.list).toHaveLength(LIST_MAX);

    // 次へ, and 削除 on page 2: the page stays where it was; 前へ, and 削除 on page 1.
    await pager().getByRole('link', { name: '次へ' }).click();
    await b.page.getByRole('button', { name: '09000000001を削除' }).click();
    expect(await saved()).toBe('09000000001をセレクト機能リストから削除しました。');
    expect(await pager().getByText(`${LIST_MAX - 1}件中 ${NUMBERS_PER_PAGE + 1}～${LIST_MAX - 1}件目（2／2ページ）`).isVisible()).toBe(true);
    await pager().getByRole('link', { name: '前へ' }).click();
    await b.page.getByRole('button', { name: '0611110001を削除' }).click();
    expect(await saved()).toBe('0611110001をセレクト機能リストから削除しました。');
    expect((await listed())[0]).toBe(more[0]);
    expect((await settings(LINE_EXTRA)).select.list).toEqual(more);
    expect(await h.auditActions(LINE_EXTRA)).toEqual(expect.arrayContaining(['voice_warp.select_list']));

    // Started with one number: that one stays (the message above the list), until セレクト is stopped.
    await saveElsewhere(LINE_EXTRA, { part: 'select_list', list: ['0611110001'] });
    await saveElsewhere(LINE_EXTRA, { part: 'select', started: true, mode: 'forward_listed' });
    await b.page.goto(`${h.url}/voice-warp/${LINE_EXTRA}/select-list`);
    await b.page.getByRole('button', { name: '0611110001を削除' }).click();
    expect(await b.page.getByRole('alert').textContent()).toContain('セレクト機能の開始中はリストを空にできません。停止してから削除してください。');
    expect((await settings(LINE_EXTRA)).select.list).toEqual(['0611110001']);
    await saveElsewhere(LINE_EXTRA, { part: 'select', started: false, mode: 'forward_listed' });
    await b.page.reload();
    await b.page.getByRole('button', { name: '0611110001を削除' }).click();
    expect(await saved()).toBe('0611110001をセレクト機能リストから削除しました。');
    expect(await b.page.getByText('登録されている電話番号はありません。').isVisible()).toBe(true);
  });
});

describe('forms drawn before a change elsewhere', () => {
  it('a form drawn before another window saved is refused with a message to reload, and shows what is saved now', async () => {
    await open(NUM_EXTRA, NUM_EXTRA, '転送先電話番号設定');
    const other = await b.newPage();
    await other.goto(b.page.url());
    await other.getByLabel('転送先電話番号').fill('0312345678');
    await other.getByRole('button', { name: '設定', exact: true }).click();
    expect(await other.getByRole('status').textContent()).toBe('設定しました。');
    await other.close();
    await b.page.getByLabel('転送先電話番号').fill('0312345679');
    await set();
    expect(await b.page.getByRole('alert').textContent()).toContain('別の画面などで設定が変更されています。画面を読み込み直してから、もう一度設定してください。');
    expect(await b.page.getByLabel('転送先電話番号').inputValue()).toBe('0312345678');
    expect((await settings(NUM_EXTRA)).destination).toBe('0312345678');
    await b.page.getByLabel('転送先電話番号').fill('0312345679');
    await set();
    expect(await saved()).toBe('設定しました。');
    expect((await settings(NUM_EXTRA)).destination).toBe('0312345679');
  });

  it('a change by phone in between makes the page\'s form stale too; a POST without a version is stale; without the CSRF token it is refused', async () => {
    await open(NUM_EXTRA, NUM_EXTRA, 'セレクト機能リスト設定');
    await saveElsewhere(NUM_EXTRA, { part: 'select_list', list: ['0622220001'] });
    await b.page.getByLabel('追加する電話番号').fill('0622220002');
    await b.page.getByRole('button', { name: '追加' }).click();
    expect(await b.page.getByRole('alert').textContent()).toContain('別の画面などで設定が変更されています。');
    expect(await b.page.locator('.listed-number').allTextContents()).toEqual(['0622220001']);
    expect((await settings(NUM_EXTRA)).select.list).toEqual(['0622220001']);

    const { _csrf, version } = await hiddenFields();
    const noVersion = await b.page.request.post(`${h.url}/voice-warp/${NUM_EXTRA}/select-list`, { form: { _csrf: _csrf!, number: '0622220003' } });
    expect(noVersion.status()).toBe(409);
    const noToken = await b.page.request.post(`${h.url}/voice-warp/${NUM_EXTRA}/select-list`, { form: { version: version!, number: '0622220003' } });
    expect(noToken.status()).toBe(403);
    expect((await settings(NUM_EXTRA)).select.list).toEqual(['0622220001']);
  });
});

describe('認証単位 scope', () => {
  it('電話番号単位: another number of the contract gets 403 for every page and every POST, nothing saved, each refusal audited', async () => {
    await open(NUM_EXTRA, NUM_EXTRA, '開始／停止設定');
    const { _csrf } = await hiddenFields();
    const before = await settings(NUM_MAIN);
    for (const path of PAGES) {
      const res = await b.page.goto(`${h.url}/voice-warp/${NUM_MAIN}${path}`);
      expect(res!.status(), path).toBe(403);
      expect(await heading(b.page)).toBe('設定できません');
    }
    const posts: [string, Record<string, string>][] = [
      ['/start', { started: 'off', condition: 'unconditional', ringSeconds: '20', guidance: 'off' }],
      ['/destination', { destination: '0312345678' }],
      ['/select', { started: 'off', mode: 'ring_listed' }],
      ['/select-list', { number: '0312345678' }],
    ];
    for (const [path, form] of posts) {
      const res = await b.page.request.post(`${h.url}/voice-warp/${NUM_MAIN}${path}`, { form: { _csrf: _csrf!, version: String(before.version), ...form } });
      expect(res.status(), path).toBe(403);
    }
    expect(await settings(NUM_MAIN)).toEqual(before);
    const refused = (await h.auditActions(NUM_MAIN)).filter((a) => a === 'scope.refused');
    expect(refused).toHaveLength(PAGES.length + posts.length);
    // Its own 電話番号選択 has only itself: no way to the other number.
    await b.page.goto(`${h.url}/voice-warp`);
    expect(await heading(b.page)).toBe('サービスメニュー（ボイスワープ）');
    expect(await b.page.getByText(`設定する電話番号：${NUM_EXTRA}`).isVisible()).toBe(true);
  });

  it('回線単位: the main number chooses among the contract\'s numbers and sets another number\'s 転送先', async () => {
    await logIn(b.page, h.url, LINE_MAIN, PW);
    await b.page.getByRole('link', { name: 'サービス選択' }).click();
    await b.page.getByRole('link', { name: 'ボイスワープ' }).click();
    expect(await heading(b.page)).toBe('電話番号選択');
    expect(await b.page.getByRole('link', { name: /^0654\d{6}$/ }).allTextContents()).toEqual([LINE_MAIN, LINE_EXTRA]);
    await b.page.getByRole('link', { name: LINE_EXTRA, exact: true }).click();
    await b.page.getByRole('link', { name: '転送先電話番号設定' }).click();
    await b.page.getByLabel('転送先電話番号').fill('0751234567');
    await set();
    expect(await saved()).toBe('設定しました。');
    expect((await settings(LINE_EXTRA)).destination).toBe('0751234567');
    const { rows } = await h.db.pool.query("select actor from audit_log where subject = $1 and action = 'voice_warp.destination'", [LINE_EXTRA]);
    expect(rows).toEqual([{ actor: LINE_MAIN }]);
  });
});
