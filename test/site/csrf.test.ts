// CSRF tokens are bound to the session they were issued in (issue 18): once logged in, a token is
// checked against the session's own secret, never against a cookie the request brings along; the
// secret is new at every login and privilege change; over TLS the login page's cookie is __Host-.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNotifySettings } from '../../src/store/notify-settings.ts';
import { siteClient, type SiteClient } from '../support/site-client.ts';
import { startSiteHarness, type SiteHarness } from '../support/site.ts';

const VICTIM = '0656107391';
const OTHER = '0656107392';
const PW = 'k7q2m9x4';
const CONTRACTS = {
  contracts: [VICTIM, OTHER].map((number, i) => ({
    id: `CS${i}`, region: 'west', pattern: 'A', authUnit: 'line', numbers: [{ number, role: 'main', services: ['chakushin_mail'] }],
  })),
};
const REFUSED = '操作を受け付けられませんでした';

let h: SiteHarness;
beforeAll(async () => {
  h = await startSiteHarness(CONTRACTS);
  for (const n of [VICTIM, OTHER]) await h.setPassword(n, PW);
});
afterAll(async () => {
  await h?.stop();
});

async function loggedIn(number: string, opts: Parameters<typeof siteClient>[1] = {}): Promise<SiteClient> {
  const c = siteClient(h.url, opts);
  await c.page('/');
  expect((await c.submit('/login', { number, password: PW })).location).toBe('/');
  return c;
}

/** メール送信条件設定 posted with the version it shows, and this token. */
async function postConditions(c: SiteClient, number: string, token: string | null | undefined) {
  const form = await c.page(`/chakushin-mail/${number}/conditions`);
  const version = /name="version" value="(\d+)"/.exec(form.text)![1]!;
  return c.submit(`/chakushin-mail/${number}/conditions`, { version, designatedOnly: 'on' }, token);
}

describe('a token bound to its session', () => {
  it("another browser's cookie and token pair is refused in the victim's session", async () => {
    const victim = await loggedIn(VICTIM);
    // The attacker's own pair, from the login page, planted beside the victim's session cookie.
    const attacker = siteClient(h.url);
    await attacker.page('/');
    const planted = siteClient(h.url);
    planted.cookies.set('sid', victim.cookies.get('sid')!);
    planted.cookies.set('csrf', attacker.cookies.get('csrf')!);
    const form = await victim.page(`/chakushin-mail/${VICTIM}/conditions`);
    const version = /name="version" value="(\d+)"/.exec(form.text)![1]!;
    const res = await planted.submit(`/chakushin-mail/${VICTIM}/conditions`, { version, designatedOnly: 'on' }, attacker.token!);
    expect(res.status).toBe(403);
    expect(res.text).toContain(REFUSED);
    expect((await readNotifySettings(h.db.pool, VICTIM)).designatedOnly).toBe(false);
    // The victim's own token, from the victim's page, works.
    expect((await postConditions(victim, VICTIM, undefined)).status).toBe(200);
    expect((await readNotifySettings(h.db.pool, VICTIM)).designatedOnly).toBe(true);
  });

  it('a token issued before the login is refused after it', async () => {
    const c = siteClient(h.url);
    await c.page('/');
    const beforeLogin = c.token!;
    expect((await c.submit('/login', { number: OTHER, password: PW })).location).toBe('/');
    const res = await postConditions(c, OTHER, beforeLogin);
    expect(res.status).toBe(403);
    expect((await readNotifySettings(h.db.pool, OTHER)).designatedOnly).toBe(false);
    // The login page's cookie is gone: only the session's secret counts now.
    expect(c.cookies.has('csrf')).toBe(false);
  });

  it('a token from before a password change is refused after it (a privilege change renews the secret)', async () => {
    const c = await loggedIn(OTHER);
    await c.page('/password');
    const before = c.token!;
    const changed = await c.submit('/password', { target: OTHER, current: PW, next: 'p4w8z2r6', confirm: 'p4w8z2r6' });
    // The 契約者回線番号's own password: the guide ends the session (ログイン画面へ); log in anew.
    expect(changed.text).toContain('パスワードを変更しました');
    const again = siteClient(h.url);
    await again.page('/');
    await again.submit('/login', { number: OTHER, password: 'p4w8z2r6' });
    const res = await postConditions(again, OTHER, before);
    expect(res.status).toBe(403);
    await h.setPassword(OTHER, PW);
  });
});

describe('over TLS (behind the trusted proxy)', () => {
  const tls = { 'x-forwarded-proto': 'https' };
  it('the login page sets __Host-csrf (Secure, Path=/, no Domain), and a plain csrf cookie counts for nothing', async () => {
    const c = siteClient(h.url, { headers: tls });
    const page = await c.page('/');
    const set = page.headers['set-cookie']!.find((s) => s.startsWith('__Host-csrf='))!;
    expect(set).toMatch(/; Path=\/(;|$)/);
    expect(set).toMatch(/; Secure/);
    expect(set).not.toMatch(/Domain=/i);
    // A cookie a sibling host could set under the plain name is not read over TLS.
    const planted = siteClient(h.url, { headers: tls });
    const plain = siteClient(h.url);
    await plain.page('/');
    planted.cookies.set('csrf', plain.cookies.get('csrf')!);
    expect((await planted.submit('/login', { number: VICTIM, password: PW }, plain.token!)).status).toBe(403);
    expect((await c.submit('/login', { number: VICTIM, password: PW })).location).toBe('/');
  });
});
