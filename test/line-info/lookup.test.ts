// The provider lookup API over real HTTP: token authentication, the line named by any address in
// its prefix or the prefix itself, one "not available" answer for an unknown line and a refused
// one, and an audit row per lookup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyLineInfo } from '../../src/store/line-info-provisioning.ts';
import { line, lookup, PROVIDERS, startLineInfoHarness, TOKENS, type LineInfoHarness } from './harness.ts';

let h: LineInfoHarness;
const allowed = line(41, ['W0099']);
const refused = line(42, ['W0100']);
beforeAll(async () => {
  h = await startLineInfoHarness([allowed, refused], { overrides: { lineInfo: { lookupRateLimit: { max: 40, windowSec: 600 } } } });
});
afterAll(async () => {
  await h?.stop();
});

const lookups = async () =>
  (await h.db.pool.query("select actor, action, subject, detail from audit_log where action like 'line_info.lookup%' order by id")).rows;

describe('GET /line-info/api/v1/customer-id', () => {
  it('gives the お客さまID to a provider the line has set to 通知する, by address or prefix', async () => {
    for (const id of ['2001:db8:1029:5600::', '2001:db8:1029:56ff:ffff:ffff:ffff:ffff', '2001:DB8:1029:5678::1', '2001:db8:1029:5600::/56', '2001:db8:1029:5680::/64']) {
      expect(await lookup(h, id), id).toEqual({ status: 200, body: { customerId: allowed.customerId } });
    }
  });

  it('answers the same for an unknown line, a line that refuses this provider, and a wider prefix', async () => {
    const answers = [
      await lookup(h, '2001:db8:102a:5601::1'), // line 42: 通知しない for W0099
      await lookup(h, '2001:db8:9999::1'), // no such line
      await lookup(h, '2001:db8:1029:5700::1'), // just outside line 41's /56
      await lookup(h, '2001:db8:1000::/40'), // wider than the line's prefix
    ];
    for (const a of answers) expect(a).toEqual({ status: 404, body: { error: 'not_available' } });
    // The other provider is allowed on line 42.
    expect(await lookup(h, '2001:db8:102a:5601::1', TOKENS.W0100)).toEqual({ status: 200, body: { customerId: refused.customerId } });
  });

  it('sets no cookie and keeps no session', async () => {
    const res = await fetch(`${h.url}${h.base}/api/v1/customer-id?line=2001:db8:1029:5600::1`, { headers: { authorization: `Bearer ${TOKENS.W0099}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect((await h.db.pool.query('select count(*)::int as n from session')).rows[0].n).toBe(0);
  });

  it('refuses a missing or unknown token, and an identifier that is not IPv6', async () => {
    expect(await lookup(h, '2001:db8:1029:5600::1', null)).toEqual({ status: 401, body: { error: 'unauthorized' } });
    expect(await lookup(h, '2001:db8:1029:5600::1', 'tok-W0099-0123456789abcdefghijklmnoX')).toEqual({ status: 401, body: { error: 'unauthorized' } });
    for (const bad of ['192.0.2.1', 'CAF0000000041', '2001:db8::1/200', '2001:db8:1029:5601::/56', '']) {
      expect((await lookup(h, bad)).status, bad).toBe(400);
    }
  });

  it('follows provisioning: a line set to 通知しない stops being told at once', async () => {
    await applyLineInfo(h.db.pool, { lineInfo: { providers: PROVIDERS, lines: [{ ...allowed, notify: [] }] } });
    expect(await lookup(h, '2001:db8:1029:5600::1')).toEqual({ status: 404, body: { error: 'not_available' } });
  });

  it('audits every lookup with the provider, what it asked and the result', async () => {
    const rows = await lookups();
    const last = rows.at(-1)!;
    expect(last).toMatchObject({ actor: 'provider:W0099', action: 'line_info.lookup', subject: allowed.customerId, detail: { provider: 'W0099', line: '2001:db8:1029:5600::1', result: 'not_available' } });
    expect(rows.filter((r) => r.detail.result === 'provided')).toHaveLength(7);
    expect(rows.filter((r) => r.action === 'line_info.lookup.unauthorized')).toHaveLength(2);
    expect(rows.filter((r) => r.detail.result === 'bad_request')).toHaveLength(5);
    expect(rows).toHaveLength(7 + 4 + 2 + 5 + 1);
    // Tokens never reach the audit.
    expect(JSON.stringify(rows)).not.toContain('tok-');
  });

  it('slows down a runaway provider (lookupRateLimit per token) without touching the others', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await lookup(h, '2001:db8:102a:5601::1', TOKENS.W0100)).status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(statuses.at(-1)).toBe(429);
    expect(await lookup(h, '2001:db8:102a:5601::1', TOKENS.W0100)).toEqual({ status: 429, body: { error: 'rate_limited' } });
    // W0099 has made fewer than 40 lookups in this file: still answered.
    expect((await lookup(h, '2001:db8:1029:5600::1')).status).toBe(404);
  });
});
