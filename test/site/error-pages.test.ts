// Every 4xx and 5xx a browser can get from the sites is the site's own Japanese page in the frame of
// the realm it asked (issue 18/19): a URL the router cannot read (`GET /%`, which once answered
// Fastify's JSON), an unknown page, a body of a type or size no form sends, a missing CSRF token,
// too many tries, a broken database. No framework text reaches a browser; the 回線情報通知 lookup
// API alone answers JSON.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import type { SiteServer } from '../../src/site/foundation.ts';
import { startSettingsSite } from '../../src/site/index.ts';
import { freePort } from '../support/ports.ts';
import { siteClient, type Answer } from '../support/site-client.ts';
import { startSiteHarness, testClock, type SiteHarness } from '../support/site.ts';

const NUMBER = '0657107391';
const FRAMEWORK_WORDS = ['FST_', 'statusCode', 'Internal Server Error', 'Bad Request', 'Not Found', '"error"'];

let h: SiteHarness;
beforeAll(async () => {
  h = await startSiteHarness({ contracts: [{ id: 'E1', region: 'west', pattern: 'A', authUnit: 'line', numbers: [{ number: NUMBER, role: 'main', services: ['chakushin_mail'] }] }] }, {
    site: { loginRateLimit: { max: 3, windowSec: 600 }, bodyLimitBytes: 2048 },
  });
});
afterAll(async () => {
  await h?.stop();
});

/** The site's own page: HTML, in Japanese, the realm's brand in the header, no framework text. */
function expectSitePage(answer: Answer, status: number, brand: string, title: string) {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(answer.text).toContain('<html lang="ja">');
  expect(answer.text).toContain(`class="brand"`);
  expect(answer.text).toContain(`>${brand}</a>`);
  expect(answer.text).toContain(`<h1>${title}</h1>`);
  for (const word of FRAMEWORK_WORDS) expect(answer.text).not.toContain(word);
}

describe('error pages', () => {
  it('a URL the router cannot read: the page of the realm it is under', async () => {
    const c = siteClient(h.url);
    expectSitePage(await c.request('GET', '/%'), 400, 'ひかり電話設定サイト', '操作を受け付けられませんでした');
    expectSitePage(await c.request('GET', '/legacy/%'), 400, 'サービス設定ホームページ', '操作を受け付けられませんでした');
    expectSitePage(await c.request('GET', '/line-info/%'), 400, 'サービス申込受付ページ', '操作を受け付けられませんでした');
  });

  it('an unknown page, in each realm', async () => {
    const c = siteClient(h.url);
    expectSitePage(await c.request('GET', '/no-such-page'), 404, 'ひかり電話設定サイト', 'ページが見つかりません');
    expectSitePage(await c.request('GET', '/legacy/no-such-page'), 404, 'サービス設定ホームページ', 'ページが見つかりません');
    expectSitePage(await c.request('GET', '/handover/no-such-page'), 404, 'ひかり電話設定サイト', 'ページが見つかりません');
    expectSitePage(await c.request('GET', '/line-info/no-such-page'), 404, 'サービス申込受付ページ', 'ページが見つかりません');
  });

  it('a body no form sends: another type, bad JSON, too large', async () => {
    const c = siteClient(h.url, { from: '203.0.113.1' });
    await c.page('/');
    expectSitePage(await c.request('POST', '/login', '<x/>', { 'content-type': 'application/xml' }), 415, 'ひかり電話設定サイト', '操作を受け付けられませんでした');
    expectSitePage(await c.request('POST', '/login', '{"number":', { 'content-type': 'application/json' }), 400, 'ひかり電話設定サイト', '操作を受け付けられませんでした');
    expectSitePage(await c.submit('/login', { number: NUMBER, password: 'x'.repeat(4096) }), 413, 'ひかり電話設定サイト', '操作を受け付けられませんでした');
  });

  it('a POST without its CSRF token, and too many logins', async () => {
    const c = siteClient(h.url, { from: '203.0.113.2' });
    await c.page('/legacy/chakushin-mail');
    expectSitePage(await c.submit('/legacy/chakushin-mail/login', { number: NUMBER, password: 'x' }, null), 403, 'サービス設定ホームページ', '操作を受け付けられませんでした');
    for (let i = 0; i < h.config.site.loginRateLimit.max; i++) await c.submit('/legacy/chakushin-mail/login', { number: NUMBER, password: 'wrong1' });
    expectSitePage(await c.submit('/legacy/chakushin-mail/login', { number: NUMBER, password: 'wrong1' }), 429, 'サービス設定ホームページ', 'しばらくお待ちください');
  });

  it('the lookup API keeps answering JSON', async () => {
    const c = siteClient(h.url);
    const bad = await c.request('GET', '/line-info/api/%');
    expect([bad.status, bad.headers['content-type'], JSON.parse(bad.text)]).toEqual([400, 'application/json; charset=utf-8', { error: 'bad_request' }]);
    const unknown = await c.request('GET', '/line-info/api/v9/nothing');
    expect([unknown.status, JSON.parse(unknown.text)]).toEqual([404, { error: 'not_found' }]);
  });
});

describe('with the database gone', () => {
  let site: SiteServer;
  let pool: pg.Pool;
  beforeAll(async () => {
    const url = `postgres://chakushin@127.0.0.1:${await freePort('tcp')}/gone`;
    const config = loadConfig({ env: { DATABASE_URL: url, SITE_LISTEN: '127.0.0.1:0' }, overrides: { otp: { regions: { east: false, west: false } } } });
    pool = new pg.Pool({ connectionString: url, max: 2 });
    pool.on('error', () => undefined);
    site = await startSettingsSite({ pool, config, clock: testClock(), logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') });
  });
  afterAll(async () => {
    await site?.close();
    await pool?.end();
  });

  it('a logged-in page that cannot be read is the site\'s page too (500), as is a login (503)', async () => {
    const c = siteClient(`http://127.0.0.1:${site.port}`);
    c.cookies.set('sid', encodeURIComponent(site.app.signCookie('a-session-the-database-would-hold')));
    expectSitePage(await c.request('GET', '/services'), 500, 'ひかり電話設定サイト', 'エラー');
    const anonymous = siteClient(`http://127.0.0.1:${site.port}`);
    await anonymous.page('/');
    expectSitePage(await anonymous.submit('/login', { number: NUMBER, password: 'x' }), 503, 'ひかり電話設定サイト', 'エラー');
  });
});
