// 電話番号選択 in a 1,000-number contract, in a real browser: 電話番号検索 with '*' and paging.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, type TestBrowser } from '../support/browser.ts';
import { heading, logIn, startSiteHarness, type SiteHarness } from '../support/site.ts';

const PW = 'k7q2m9x4';
const num = (i: number) => `0355${String(i).padStart(6, '0')}`;
const MAIN = num(0);

let h: SiteHarness;
let b: TestBrowser;
beforeAll(async () => {
  h = await startSiteHarness({
    contracts: [{ id: 'BIG', region: 'west', pattern: 'A', authUnit: 'line', numbers: Array.from({ length: 1000 }, (_, i) => ({ number: num(i), role: i === 0 ? 'main' : 'additional', services: ['chakushin_mail'] })) }],
  });
  await h.setPassword(MAIN, PW);
  b = await openBrowser('desktop');
  await logIn(b.page, h.url, MAIN, PW);
}, 120_000);
afterAll(async () => {
  await b?.close();
  await h?.stop();
});

const pager = () => b.page.getByRole('navigation', { name: 'ページ' });

describe('電話番号選択 with 1,000 numbers', () => {
  it('pages the list 50 at a time', async () => {
    await b.page.goto(`${h.url}/chakushin-mail`);
    expect(await heading(b.page)).toBe('電話番号選択');
    const links = await b.page.getByRole('link', { name: /^0355\d{6}$/ }).allTextContents();
    expect(links).toEqual(Array.from({ length: 50 }, (_, i) => num(i)));
    expect(await pager().getByText('1000件中 1～50件目（1／20ページ）').isVisible()).toBe(true);
    expect(await pager().getByRole('link', { name: '前へ' }).count()).toBe(0);
    await pager().getByRole('link', { name: '次へ' }).click();
    expect(await b.page.getByRole('link', { name: /^0355\d{6}$/ }).allTextContents()).toEqual(Array.from({ length: 50 }, (_, i) => num(50 + i)));
    expect(await pager().getByText('1000件中 51～100件目（2／20ページ）').isVisible()).toBe(true);
  });

  it("finds numbers with '*' as a wildcard, and pages the results keeping the search", async () => {
    await b.page.goto(`${h.url}/chakushin-mail`);
    await b.page.getByLabel('電話番号検索').fill('0355*99');
    await b.page.getByRole('button', { name: '検索' }).click();
    const expected = Array.from({ length: 1000 }, (_, i) => num(i)).filter((n) => n.slice(4).includes('99'));
    expect(expected).toHaveLength(19);
    expect(await b.page.getByRole('link', { name: /^0355\d{6}$/ }).allTextContents()).toEqual(expected);
    expect(await pager().count()).toBe(0);

    await b.page.getByLabel('電話番号検索').fill('03550009*');
    await b.page.getByRole('button', { name: '検索' }).click();
    expect(await pager().getByText('100件中 1～50件目（1／2ページ）').isVisible()).toBe(true);
    await pager().getByRole('link', { name: '次へ' }).click();
    expect(await b.page.getByRole('link', { name: /^0355\d{6}$/ }).allTextContents()).toEqual(Array.from({ length: 50 }, (_, i) => num(950 + i)));
    expect(await b.page.getByLabel('電話番号検索').inputValue()).toBe('03550009*');
    await b.page.getByRole('link', { name: num(977), exact: true }).click();
    expect(await heading(b.page)).toBe('サービスメニュー（着信お知らせメール）');
  });
});
