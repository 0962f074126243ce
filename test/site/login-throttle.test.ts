// No stranger can lock a subscriber out (issue 18): one address gets only a share of a number's
// strikes on every login that counts them (設定サイト, legacy site, hand-over; 回線情報通知 in
// test/line-info/login.test.ts), attempts spread over many addresses wait longer after each failure,
// the owner is warned by mail once before the lock, and the owner's right password from another
// address works while a stranger's address is refused. Over HTTP as the TLS proxy forwards it.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { admit, delayAfter } from '../../src/domain/login-throttle.ts';
import { clientSource } from '../../src/site/login-attempt.ts';
import { hashPassword } from '../../src/store/password-hash.ts';
import { setLegacyPassword } from '../../src/store/legacy-accounts.ts';
import { siteClient } from '../support/site-client.ts';
import { startSiteHarness, waitOutLoginDelay, type SiteHarness } from '../support/site.ts';

const PW = 'k7q2m9x4';
const WRONG = 'wrong9x4q';
const n = (i: number) => `0655${i + 10}7391`;
const LEGACY_NUMBER = '0722390001';
const HANDOVER_NUMBER = '0723390001';
const OWNER_MAIL = (i: number) => `owner${i}@example.jp`;
const contract = (i: number) => ({
  id: `T${i}`, region: 'west', pattern: 'A', authUnit: 'line',
  numbers: [{
    number: n(i), role: 'main', services: ['chakushin_mail'],
    notify: { started: false, destinations: [{ address: OWNER_MAIL(i), send: true }, { address: `quiet${i}@example.jp`, send: false }] },
  }],
});
const CONTRACTS = {
  contracts: [
    ...[0, 1, 2, 3].map(contract),
    { id: 'TB', region: 'west', pattern: 'B', authUnit: 'number', numbers: [{ number: LEGACY_NUMBER, role: 'main', services: ['chakushin_mail'] }] },
    { id: 'TH', region: 'west', pattern: 'A', authUnit: 'number', numbers: [{ number: HANDOVER_NUMBER, role: 'main', services: ['chakushin_mail'] }] },
  ],
};
const STRANGER = '203.0.113.9';
const OWNER = '198.51.100.20';

let h: SiteHarness;
beforeAll(async () => {
  h = await startSiteHarness(CONTRACTS, { site: { loginRateLimit: { max: 1000, windowSec: 60 } } });
  for (const i of [0, 1, 2, 3]) await h.setPassword(n(i), PW);
  for (const number of [LEGACY_NUMBER, HANDOVER_NUMBER]) await setLegacyPassword(h.db.pool, number, 'chakushin_mail', await hashPassword('pw33'), h.clock.now());
});
afterAll(async () => {
  await h?.stop();
});

const rules = () => h.config.site.loginThrottle;
/** More tries than the guide's lock needs: if one address could spend them, the password would be invalid. */
const MORE_THAN_THE_LOCK = () => h.config.site.passwordMaxFailures + rules().perSourceFailures;

async function logInFrom(address: string, number: string, password: string) {
  const c = siteClient(h.url, { from: address });
  await c.page('/');
  return c.submit('/login', { number, password });
}

describe('one address', () => {
  it('cannot lock a number on the settings site: past its share its tries are refused unchecked and cost no strike', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < MORE_THAN_THE_LOCK(); i++) {
      waitOutLoginDelay(h);
      statuses.push((await logInFrom(STRANGER, n(0), WRONG)).status);
    }
    const share = rules().perSourceFailures;
    expect(statuses.slice(0, share)).toEqual(Array(share).fill(401));
    expect(statuses.slice(share)).toEqual(Array(statuses.length - share).fill(429));
    const account = (await h.account(n(0)))!;
    expect(account.password!.failedAttempts).toBe(share);
    expect(account.password!.lockedAt).toBeNull();
    // Its right password from that address is not checked either: the address learns nothing.
    waitOutLoginDelay(h);
    expect((await logInFrom(STRANGER, n(0), PW)).status).toBe(429);
    // The owner, from home, logs in.
    expect((await logInFrom(OWNER, n(0), PW)).location).toBe('/');
  });

  /** More wrong tries than the lock needs from the stranger's address on a page's form; the legacy password is then checked. */
  async function legacyPasswordAfterStranger(page: string, number: string, fields: Record<string, string>) {
    const statuses: number[] = [];
    for (let i = 0; i < MORE_THAN_THE_LOCK(); i++) {
      waitOutLoginDelay(h);
      const c = siteClient(h.url, { from: STRANGER });
      await c.page(page.replace(/\/login$/, ''));
      statuses.push((await c.submit(page, { number, password: 'wrong1', ...fields })).status);
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(rules().perSourceFailures);
    const { rows } = await h.db.pool.query("select failed_attempts, locked_at from password where login_number = $1 and realm = 'chakushin_mail'", [number]);
    expect(rows[0]).toEqual({ failed_attempts: rules().perSourceFailures, locked_at: null });
  }

  it('cannot lock a legacy-site password', () => legacyPasswordAfterStranger('/legacy/chakushin-mail/login', LEGACY_NUMBER, {}));

  it('cannot lock the old passwords through the hand-over', () => legacyPasswordAfterStranger('/handover', HANDOVER_NUMBER, { unit: 'number' }));
});

describe('the owner', () => {
  it('logs in with the right password from another address while the stranger\'s address is refused', async () => {
    for (let i = 0; i < rules().perSourceFailures; i++) expect((await logInFrom(STRANGER, n(1), WRONG)).status).toBe(401);
    expect((await logInFrom(STRANGER, n(1), WRONG)).status).toBe(429);
    // No wait for the owner: one stranger's share stays under the failures that start the number's delay.
    expect(rules().perSourceFailures).toBeLessThan(rules().freeFailures);
    const owner = await logInFrom(OWNER, n(1), PW);
    expect(owner.status).toBe(303);
    expect(owner.location).toBe('/');
    expect((await h.account(n(1)))!.password!.failedAttempts).toBe(0);
  });

  it('is warned by mail once, at the warnAtFailures-th failure in a row, before the lock', async () => {
    const { warnAtFailures, perSourceFailures } = rules();
    const warnings = async () =>
      (await h.db.pool.query("select to_address from mail_outbox where kind = 'notice' and subject = $1", [`ログイン失敗のお知らせ（${n(2)}）`])).rows.map((r) => r.to_address);
    const FAILURES = warnAtFailures + 2;
    for (let i = 0; i < FAILURES; i++) {
      waitOutLoginDelay(h);
      expect((await logInFrom(`192.0.2.${Math.floor(i / perSourceFailures) + 1}`, n(2), WRONG)).status).toBe(401);
      expect(await warnings()).toEqual(i + 1 < warnAtFailures ? [] : [OWNER_MAIL(2)]);
    }
    expect(warnAtFailures).toBeLessThan(h.config.site.passwordMaxFailures);
    expect((await h.account(n(2)))!.password!.lockedAt).toBeNull();
  });
});

describe('attempts spread over many addresses', () => {
  it('wait longer after each failure in a row, whatever the address (Retry-After)', async () => {
    const { freeFailures, delayBaseSec } = rules();
    let address = 0;
    const next = () => `192.0.2.${100 + address++}`;
    waitOutLoginDelay(h);
    for (let i = 0; i < freeFailures; i++) expect((await logInFrom(next(), n(3), WRONG)).status).toBe(401);
    for (const wait of [delayBaseSec, 2 * delayBaseSec]) {
      const early = await logInFrom(next(), n(3), PW);
      expect(early.status).toBe(429);
      expect(early.headers['retry-after']).toBe(String(wait));
      h.clock.advance(wait * 1000);
      expect((await logInFrom(next(), n(3), WRONG)).status).toBe(401);
    }
  });
});

describe('the rule', () => {
  const R = { perSourceFailures: 3, freeFailures: 4, delayBaseSec: 30, delayMaxSec: 900, warnAtFailures: 5 };
  const at = new Date('2026-12-01T00:00:00Z');
  it('doubles the delay after each failure past the free ones, up to the maximum', () => {
    expect([0, R.freeFailures - 1].map((f) => delayAfter(f, R))).toEqual([0, 0]);
    expect([R.freeFailures, R.freeFailures + 1, R.freeFailures + 2].map((f) => delayAfter(f, R))).toEqual([R.delayBaseSec, 2 * R.delayBaseSec, 4 * R.delayBaseSec]);
    expect(delayAfter(R.freeFailures + 20, R)).toBe(R.delayMaxSec);
  });
  it('refuses a source past its share first, then anyone during the delay', () => {
    expect(admit({ failures: 0, sourceFailures: R.perSourceFailures, lastAt: at }, at, R)).toEqual({ admitted: false, why: 'source' });
    expect(admit({ failures: R.freeFailures, sourceFailures: 0, lastAt: at }, new Date(at.getTime() + 1000), R)).toEqual({ admitted: false, why: 'delay', retryAfterSec: R.delayBaseSec - 1 });
    expect(admit({ failures: R.freeFailures, sourceFailures: 0, lastAt: at }, new Date(at.getTime() + R.delayBaseSec * 1000), R)).toEqual({ admitted: true });
  });
  it('counts an IPv6 client by its /64 and an IPv4-mapped one by its IPv4 address', () => {
    expect(clientSource('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientSource('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(clientSource('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientSource('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientSource('192.0.2.7')).toBe('192.0.2.7');
  });
});
