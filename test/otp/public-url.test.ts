// Mailed links carry the site's configured public URL, never anything a request says (issue 18):
// a 本登録 URL requested with a forged Host header is the same as with the real one. Without a
// configured URL (embedded defaults: mail stays in the built-in catcher) the link is the listener's own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siteClient } from '../support/site-client.ts';
import { startSiteHarness, type SiteHarness } from '../support/site.ts';

const PW = 'k7q2m9x4';
const PUBLIC_URL = 'https://settings.example.jp';
const FORGED = { host: 'evil.example:8000', 'x-forwarded-host': 'evil.example' };
const contracts = (numbers: string[]) => ({
  contracts: numbers.map((number, i) => ({ id: `PU${i}`, region: 'east', pattern: 'A', authUnit: 'line', numbers: [{ number, role: 'main', services: ['chakushin_mail'] }] })),
});
const OTP_ON = { otp: { regions: { east: true, west: false } } };

/** Logs in, chooses 利用する and registers `address`; returns the 本登録 mail's body. */
async function registrationMail(h: SiteHarness, number: string, address: string, headers: Record<string, string>): Promise<string> {
  const c = siteClient(h.url, { headers });
  await c.page('/');
  expect((await c.submit('/login', { number, password: PW })).location).toBe('/');
  expect((await c.page('/')).location).toBe('/otp/choice');
  await c.page('/otp/choice');
  expect((await c.submit('/otp/choice', { choice: 'use' })).location).toBe('/otp/register');
  await c.page('/otp/register');
  expect((await c.submit('/otp/register', { address, checkId: 'Abcd1234', checkPassword: 'abcd1234' })).status).toBe(200);
  expect((await c.submit('/otp/register/confirm', {})).location).toBe('/otp/registered');
  const { rows } = await h.db.pool.query<{ body: string }>('select body from mail_outbox where to_address = $1', [address]);
  expect(rows).toHaveLength(1);
  return rows[0]!.body;
}
const linkIn = (body: string) => /(\S+)\/otp\/confirm\?t=[A-Za-z0-9_-]{43}/.exec(body)?.[1];

describe('with site.publicUrl', () => {
  let h: SiteHarness;
  beforeAll(async () => {
    h = await startSiteHarness(contracts(['0355030001', '0355030002']), { ...OTP_ON, site: { publicUrl: PUBLIC_URL } });
    for (const n of ['0355030001', '0355030002']) await h.setPassword(n, PW);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('a forged Host header changes nothing in the mail', async () => {
    const forged = await registrationMail(h, '0355030001', 'forged@example.jp', FORGED);
    const honest = await registrationMail(h, '0355030002', 'honest@example.jp', {});
    expect(linkIn(forged)).toBe(PUBLIC_URL);
    expect(linkIn(honest)).toBe(PUBLIC_URL);
    expect(forged).not.toContain('evil.example');
  });
});

describe('embedded defaults (no public URL, mail in the built-in catcher)', () => {
  let h: SiteHarness;
  beforeAll(async () => {
    h = await startSiteHarness(contracts(['0355030003']), OTP_ON);
    await h.setPassword('0355030003', PW);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("the link is the site listener's own address, whatever the Host header says", async () => {
    const body = await registrationMail(h, '0355030003', 'embedded@example.jp', FORGED);
    expect(linkIn(body)).toBe(h.url);
    expect(body).not.toContain('evil.example');
  });
});
