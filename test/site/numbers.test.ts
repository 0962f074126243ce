// 電話番号選択 of a 1,000-number contract in a real browser, on a desktop and a phone: paged
// (NUMBERS_PER_PAGE a page) and searchable with '*' (電話番号検索, from SEARCH_FROM numbers).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NUMBERS_PER_PAGE } from '../../src/site/paging.ts';
import { openBrowser, type TestBrowser, type ViewportName } from '../support/browser.ts';
import { heading, logIn, startSiteHarness, type SiteHarness } from '../support/site.ts';

const PW = 'k7q2m9x4';
const CONTRACT_SIZE = 1000;
const num = (i: number) => `0355${String(i).padStart(6, '0')}`;
const ALL = Array.from({ length: CONTRACT_SIZE }, (_, i) => num(i));
const MAIN = num(0);
const PAGES = Math.ceil(CONTRACT_SIZE / NUMBERS_PER_PAGE);
const NUMBER_LINK = /^0355\d{6}$/;

let h: SiteHarness;
beforeAll(async () => {
  h = await startSiteHarness({
    contracts: [{ id: 'BIG', region: 'west', pattern: 'A', authUnit: 'line', numbers: ALL.map((number, i) => ({ number, role: i === 0 ? 'main' : 'additional', services: ['chakushin_mail'] })) }],
  });
  await h.setPassword(MAIN, PW);
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

describe.each<ViewportName>(['desktop', 'phone'])('電話番号選択 with 1,000 numbers on a %s screen', (viewport) => {
  let b: TestBrowser;
  beforeAll(async () => {
    b = await openBrowser(viewport);
    await logIn(b.page, h.url, MAIN, PW);
  });
  afterAll(async () => {
    await b?.close();
  });
  const pager = () => b.page.getByRole('navigation', { name: 'ページ' });
  const numbersShown = () => b.page.getByRole('link', { name: NUMBER_LINK }).allTextContents();

  it('pages the list', async () => {
    await b.page.goto(`${h.url}/chakushin-mail`);
    expect(await heading(b.page)).toBe('電話番号選択');
    expect(await numbersShown()).toEqual(ALL.slice(0, NUMBERS_PER_PAGE));
    expect(await pager().getByText(`${CONTRACT_SIZE}件中 1～${NUMBERS_PER_PAGE}件目（1／${PAGES}ページ）`).isVisible()).toBe(true);
    expect(await pager().getByRole('link', { name: '前へ' }).count()).toBe(0);
    await pager().getByRole('link', { name: '次へ' }).click();
    expect(await numbersShown()).toEqual(ALL.slice(NUMBERS_PER_PAGE, 2 * NUMBERS_PER_PAGE));
    expect(await pager().getByText(`${CONTRACT_SIZE}件中 ${NUMBERS_PER_PAGE + 1}～${2 * NUMBERS_PER_PAGE}件目（2／${PAGES}ページ）`).isVisible()).toBe(true);
    // Every number on the page can be tapped without scrolling sideways.
    const width = await b.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    expect(width).toBe(true);
  });

  it("finds numbers with '*' as a wildcard, and pages the results keeping the search", async () => {
    await b.page.goto(`${h.url}/chakushin-mail`);
    await b.page.getByLabel('電話番号検索').fill('0355*99');
    await b.page.getByRole('button', { name: '検索' }).click();
    const with99 = ALL.filter((n) => n.slice(4).includes('99'));
    expect(with99.length).toBeLessThanOrEqual(NUMBERS_PER_PAGE);
    expect(await numbersShown()).toEqual(with99);
    expect(await pager().count()).toBe(0);

    await b.page.getByLabel('電話番号検索').fill('03550009*');
    await b.page.getByRole('button', { name: '検索' }).click();
    const in900s = ALL.filter((n) => n.startsWith('03550009'));
    expect(await pager().getByText(`${in900s.length}件中 1～${NUMBERS_PER_PAGE}件目（1／${Math.ceil(in900s.length / NUMBERS_PER_PAGE)}ページ）`).isVisible()).toBe(true);
    await pager().getByRole('link', { name: '次へ' }).click();
    expect(await numbersShown()).toEqual(in900s.slice(NUMBERS_PER_PAGE, 2 * NUMBERS_PER_PAGE));
    expect(await b.page.getByLabel('電話番号検索').inputValue()).toBe('03550009*');
    const chosen = in900s[NUMBERS_PER_PAGE + 1]!;
    await b.page.getByRole('link', { name: chosen, exact: true }).click();
    expect(await heading(b.page)).toBe('サービスメニュー（着信お知らせメール）');
    expect(await b.page.getByText(`設定する電話番号：${chosen}`).isVisible()).toBe(true);
  });
});
