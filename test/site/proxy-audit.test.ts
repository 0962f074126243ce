// X-Forwarded-* trusted only from the configured proxy; the audit log and `chakushin audit`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { startSiteHarness, type SiteHarness } from '../support/site.ts';

const NUMBER = '0654107391';
const CONTRACTS = { contracts: [{ id: 'X1', region: 'west', pattern: 'A', authUnit: 'line', numbers: [{ number: NUMBER, role: 'main', services: ['chakushin_mail'] }] }] };

let trusting: SiteHarness;
let plain: SiteHarness;
beforeAll(async () => {
  trusting = await startSiteHarness(CONTRACTS, { site: { trustedProxies: ['127.0.0.1'] } });
  plain = await startSiteHarness(CONTRACTS, { site: { trustedProxies: [] } });
  for (const h of [trusting, plain]) await h.setPassword(NUMBER, 'k7q2m9x4');
});
afterAll(async () => {
  await trusting?.stop();
  await plain?.stop();
});

/** A login as a browser behind the proxy would send it: the form's CSRF token and cookie, then the POST. */
async function login(h: SiteHarness, headers: Record<string, string>): Promise<Response> {
  const page = await fetch(`${h.url}/`, { headers });
  const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
  return fetch(`${h.url}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { ...headers, cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, number: NUMBER, password: 'k7q2m9x4' }),
  });
}

const forwarded = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' };

describe('reverse proxy', () => {
  it('from a trusted proxy: the client address is the forwarded one and the session cookie is Secure', async () => {
    const res = await login(trusting, forwarded);
    expect(res.status).toBe(303);
    const sid = res.headers.getSetCookie().find((c) => c.startsWith('sid='))!;
    expect(sid).toMatch(/; Secure/);
    expect(sid).toMatch(/; HttpOnly/);
    const { rows } = await trusting.db.pool.query("select source from audit_log where action = 'login' and subject = $1", [NUMBER]);
    expect(rows).toEqual([{ source: '203.0.113.7' }]);
  });

  it('from anyone else the headers are ignored', async () => {
    const res = await login(plain, forwarded);
    expect(res.status).toBe(303);
    const sid = res.headers.getSetCookie().find((c) => c.startsWith('sid='))!;
    expect(sid).not.toMatch(/; Secure/);
    const { rows } = await plain.db.pool.query("select source from audit_log where action = 'login' and subject = $1", [NUMBER]);
    expect(rows).toEqual([{ source: '127.0.0.1' }]);
  });
});

describe('chakushin audit', () => {
  it('shows logins and failures for a number, newest first, without any password', async () => {
    await fetch(`${plain.url}/`);
    const bad = await (async () => {
      const page = await fetch(`${plain.url}/`);
      const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
      return fetch(`${plain.url}/login`, {
        method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, number: NUMBER, password: 'wrongpass1' }),
      });
    })();
    expect(bad.status).toBe(401);
    const { code, stdout } = await runCli(['audit', '--number', NUMBER, '--action', 'login'], { DATABASE_URL: plain.db.url });
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d ${NUMBER} login\\.failed ${NUMBER} from=127\\.0\\.0\\.1 \\{"passwordFailures":1\\}$`));
    expect(lines[1]).toContain(`${NUMBER} login ${NUMBER} from=127.0.0.1`);
    expect(stdout).not.toContain('wrongpass1');
    expect(stdout).not.toContain('k7q2m9x4');
    const usage = await runCli(['audit', '--number', '06-5410-7391'], { DATABASE_URL: plain.db.url });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--number: "06-5410-7391" is not a national number');
  });
});
