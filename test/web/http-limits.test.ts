// The HTTP listeners' caps and deadlines on real sockets: the settings site caps connections per
// address (not a trusted proxy's) and in total, the operations port has caps of its own so /healthz
// answers while the site is flooded, slow clients are cut at the head and request deadlines, and
// bodies beyond the limit get 413.
import http from 'node:http';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type ConfigInput } from '../../src/config.ts';
import { systemClock } from '../../src/domain/clock.ts';
import { createLogger } from '../../src/logger.ts';
import type { SiteServer } from '../../src/site/foundation.ts';
import { startSettingsSite } from '../../src/site/index.ts';
import { hashPassword } from '../../src/store/password-hash.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { setSitePassword } from '../../src/store/site-accounts.ts';
import { startWebServer, type WebServer } from '../../src/web/server.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { openConnection as connect, type TestConnection } from '../support/sockets.ts';
import { waitFor } from '../support/wait.ts';

const logger = createLogger('silent');
const PROXY = '127.0.0.70';
/** Long deadlines where a test holds idle connections on purpose: only the caps act. */
const PATIENT = { headersTimeoutMs: 120_000, requestTimeoutMs: 120_000 };
const SITE_CAPS = { maxConnections: 12, maxConnectionsPerAddress: 4, trustedProxies: [PROXY], ...PATIENT };
const SLOW = { headersTimeoutMs: 400, requestTimeoutMs: 1500, keepAliveTimeoutMs: 300, bodyLimitBytes: 2048, uploadLimitBytes: 4096 };
const NUMBER = '0654107391';
const PW = 'k7q2m9x4';
const OPS_CAP = 8;
/** Far above any deadline here, far below node's 30 s default check interval: a cut that late means the deadline is not checked in time. */
const LATE_MS = 10_000;

let db: TestDatabase;
const registry = new Registry();
let ops: WebServer;
let capped: SiteServer;
let slow: SiteServer;
const slowRegistry = new Registry();

async function startSite(site: ConfigInput['site'], reg: Registry): Promise<SiteServer> {
  const config = loadConfig({ env: { DATABASE_URL: db.url, SITE_LISTEN: '127.0.0.1:0' }, overrides: { site } });
  return startSettingsSite({ pool: db.pool, config, clock: systemClock, logger, registry: reg });
}

beforeAll(async () => {
  db = await createTestDatabase();
  await applyProvisioning(db.pool, { contracts: [{ id: 'L1', region: 'west', pattern: 'A', authUnit: 'line', numbers: [{ number: NUMBER, role: 'main', services: ['chakushin_mail'] }] }] });
  await setSitePassword(db.pool, NUMBER, await hashPassword(PW), new Date());
  ops = await startWebServer({
    host: '127.0.0.1', port: 0, registry, logger,
    health: [{ name: 'database', check: async () => void (await db.pool.query('select 1')) }],
    limits: { maxConnections: OPS_CAP, keepAliveTimeoutMs: 5_000, ...PATIENT },
  });
  capped = await startSite(SITE_CAPS, registry);
  slow = await startSite(SLOW, slowRegistry);
});
afterAll(async () => {
  await capped?.close();
  await slow?.close();
  await ops?.close();
  await db?.drop();
});

/** One request on a connection of its own (no pool to hold sockets): the status, or why there is none. */
function request(port: number, opts: { path?: string; method?: string; localAddress?: string; headers?: Record<string, string>; body?: string } = {}): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.request({
      host: '127.0.0.1', port, path: opts.path ?? '/static/site.css', method: opts.method ?? 'GET', agent: false,
      localAddress: opts.localAddress ?? '127.0.0.1', headers: { connection: 'close', ...opts.headers }, timeout: 10_000,
    }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end(opts.body);
  });
}

/** A GET over an open connection (keep-alive): resolves with the status line. */
async function getOver(c: TestConnection): Promise<string> {
  const before = c.data().length;
  c.sock.write('GET /static/site.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  const got = await waitFor(async () => c.data().slice(before), (d) => d.includes('\r\n') || c.isClosed());
  return got.split('\r\n')[0]!;
}

async function metric(reg: Registry, name: string, labels: string): Promise<number> {
  const text = await reg.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.split(',').every((p) => l.includes(p)));
  return line ? Number(line.split(' ').pop()) : 0;
}

const healthz = () => fetch(`http://127.0.0.1:${ops.port}/healthz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status, (e: Error) => e.message);
const siteOpen = () => metric(registry, 'chakushin_http_connections', 'listener="site"');

describe('settings site connection caps', () => {
  it('closes connections beyond the per-address cap (not a trusted proxy\'s) and the total, while /healthz answers; a GET works once they go', async () => {
    const held: TestConnection[] = [];
    try {
      held.push(...await Promise.all(Array.from({ length: 4 }, () => connect(capped.port, '127.0.0.61'))));
      expect(await waitFor(siteOpen, (n) => n === 4)).toBe(4);
      const fifth = await connect(capped.port, '127.0.0.61');
      await fifth.closed;
      expect(fifth.data()).toBe('');
      expect(await metric(registry, 'chakushin_http_connections_refused_total', 'listener="site",limit="per_address"')).toBe(1);

      // The proxy's one address carries every client: six connections, each served.
      const viaProxy = await Promise.all(Array.from({ length: 6 }, () => connect(capped.port, PROXY)));
      held.push(...viaProxy);
      expect(await Promise.all(viaProxy.map(getOver))).toEqual(Array(6).fill('HTTP/1.1 200 OK'));

      held.push(...await Promise.all(Array.from({ length: 2 }, () => connect(capped.port, '127.0.0.62'))));
      expect(await waitFor(siteOpen, (n) => n === SITE_CAPS.maxConnections)).toBe(SITE_CAPS.maxConnections);
      // Full: a new client is closed at accept, whoever it is; the operations port has its own cap.
      const late = await connect(capped.port, '127.0.0.63');
      await late.closed;
      expect(await request(capped.port)).toMatch(/^E|socket hang up/);
      expect(await metric(registry, 'chakushin_http_connections_refused_total', 'listener="site",limit="total"')).toBeGreaterThanOrEqual(2);
      expect(await healthz()).toBe(200);
      expect(held.filter((c) => c.isClosed())).toEqual([]);
    } finally {
      for (const c of held) c.sock.destroy();
    }
    expect(await waitFor(() => request(capped.port), (s) => s === 200)).toBe(200);
    expect(await waitFor(siteOpen, (n) => n === 0)).toBe(0);
  });
});

describe('operations port connection cap', () => {
  it('closes connections beyond its own cap, and answers /healthz again once they go', async () => {
    const held = await Promise.all(Array.from({ length: OPS_CAP }, () => connect(ops.port, '127.0.0.64')));
    try {
      expect(await waitFor(() => metric(registry, 'chakushin_http_connections', 'listener="http"'), (n) => n >= OPS_CAP)).toBeGreaterThanOrEqual(OPS_CAP);
      expect(await request(ops.port, { path: '/healthz' })).toMatch(/^E|socket hang up/);
    } finally {
      for (const c of held) c.sock.destroy();
    }
    expect(await waitFor(healthz, (s) => s === 200)).toBe(200);
    expect(await metric(registry, 'chakushin_http_connections_refused_total', 'listener="http",limit="total"')).toBeGreaterThanOrEqual(1);
  });
});

describe('operations port deadlines', () => {
  it('cuts a client that sends no request head in time with 408, answers garbage with 400, and counts the cut', async () => {
    const reg = new Registry();
    const quick = await startWebServer({
      host: '127.0.0.1', port: 0, registry: reg, logger, health: [],
      limits: { maxConnections: OPS_CAP, headersTimeoutMs: 300, requestTimeoutMs: 1000, keepAliveTimeoutMs: 1000 },
    });
    try {
      const idle = await connect(quick.port);
      const ms = await idle.closed;
      expect(ms).toBeGreaterThanOrEqual(280);
      expect(ms).toBeLessThan(300 + LATE_MS);
      expect(idle.data()).toBe('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
      const garbage = await connect(quick.port);
      garbage.sock.write('HELLO\r\n\r\n');
      await garbage.closed;
      expect(garbage.data()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(await metric(reg, 'chakushin_http_requests_timed_out_total', 'listener="http"')).toBe(1);
      expect(await request(quick.port, { path: '/healthz' })).toBe(200);
    } finally {
      await quick.close();
    }
  });
});

describe('settings site deadlines and body limit', () => {
  it('cuts a connection that sends nothing, or trickles its request head, after headersTimeout', async () => {
    const idle = await connect(slow.port);
    const trickle = await connect(slow.port);
    trickle.sock.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    const drip = setInterval(() => trickle.sock.write('x'), 50);
    try {
      for (const c of [idle, trickle]) {
        const ms = await c.closed;
        expect(ms).toBeGreaterThanOrEqual(SLOW.headersTimeoutMs - 20);
        expect(ms).toBeLessThan(SLOW.headersTimeoutMs + LATE_MS);
        expect(c.data()).toMatch(/^HTTP\/1\.1 408 /);
      }
    } finally {
      clearInterval(drip);
    }
  });

  it('cuts a request whose body trickles past requestTimeout', async () => {
    const c = await connect(slow.port);
    c.sock.write('POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n');
    const drip = setInterval(() => c.sock.write('a'), 50);
    try {
      const ms = await c.closed;
      expect(ms).toBeGreaterThanOrEqual(SLOW.requestTimeoutMs - 20);
      expect(ms).toBeLessThan(SLOW.requestTimeoutMs + LATE_MS);
    } finally {
      clearInterval(drip);
    }
    expect(await metric(slowRegistry, 'chakushin_http_requests_timed_out_total', 'listener="site"')).toBe(3);
  });

  it('closes a keep-alive connection left idle after its response for keepAliveTimeout (node adds a second)', async () => {
    const c = await connect(slow.port);
    expect(await getOver(c)).toBe('HTTP/1.1 200 OK');
    const servedAt = Date.now();
    await c.closed;
    expect(Date.now() - servedAt).toBeGreaterThanOrEqual(SLOW.keepAliveTimeoutMs - 50);
    expect(Date.now() - servedAt).toBeLessThan(SLOW.keepAliveTimeoutMs + LATE_MS);
  });

  it('answers a form body beyond bodyLimitBytes with 413, and serves a normal request', async () => {
    const status = await request(slow.port, {
      method: 'POST', path: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `number=${'1'.repeat(SLOW.bodyLimitBytes)}`,
    });
    expect(status).toBe(413);
    expect(await request(slow.port)).toBe(200);
  });

  it('reads no upload before a login, and answers one beyond uploadLimitBytes with 413 saying how large a file may be', async () => {
    const csv = () => {
      const form = new FormData();
      form.append('file', new Blob(['x'.repeat(SLOW.uploadLimitBytes + 1)], { type: 'text/csv' }), 'big.csv');
      return form;
    };
    const base = `http://127.0.0.1:${slow.port}`;
    const anonymous = await fetch(`${base}/bulk/chakushin-mail`, { method: 'POST', body: csv(), redirect: 'manual' });
    expect([anonymous.status, anonymous.headers.get('location')]).toEqual([303, '/']);

    const page = await fetch(`${base}/`);
    const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const login = await fetch(`${base}/login`, {
      method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, number: NUMBER, password: PW }),
    });
    expect(login.status).toBe(303);
    const session = [cookie, ...login.headers.getSetCookie().map((c) => c.split(';')[0])].join('; ');
    const big = await fetch(`${base}/bulk/chakushin-mail`, { method: 'POST', body: csv(), headers: { cookie: session }, redirect: 'manual' });
    expect(big.status).toBe(413);
    expect(await big.text()).toContain('CSVファイルは4KB以内にしてください。');
  });
});
