// 回線情報通知機能 end to end: a fresh database with lines and providers provisioned through the
// real loader, the settings site with the line-info page set under /line-info, the work worker on
// the test's clock, and the real mail worker delivering to a real SMTP catcher.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Page } from 'playwright-core';
import { loadConfig, type Config, type ConfigInput } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startSmtpCatcher, type SmtpCatcher } from '../../src/mail/catcher.ts';
import { catcherTransport } from '../../src/mail/transport.ts';
import { startMailWorker, type MailWorker } from '../../src/mail/worker.ts';
import type { SiteServer } from '../../src/site/foundation.ts';
import { startSettingsSite } from '../../src/site/index.ts';
import { startLineInfoWorker, type LineInfoWorker } from '../../src/site/line-info/work.ts';
import { applyLineInfo } from '../../src/store/line-info-provisioning.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { testClock, type TestClock } from '../support/site.ts';

export const PROVIDERS = [
  { id: 'W0099', serviceName: '試験用', name: 'NTT西日本（試験用）' },
  { id: 'W0100', serviceName: 'IP電話', name: 'ひかりプロバイダ株式会社' },
  { id: 'W0101', serviceName: '動画配信', name: '西日本ビデオ株式会社' },
];

/** Tokens the test providers present; the config holds only their digests. */
export const TOKENS = { W0099: 'tok-W0099-0123456789abcdefghijklmnop', W0100: 'tok-W0100-0123456789abcdefghijklmnop' } as const;
const sha256 = (t: string) => createHash('sha256').update(t).digest('hex');

export interface LineInfoHarness {
  db: TestDatabase;
  config: Config;
  clock: TestClock;
  site: SiteServer;
  url: string;
  base: string;
  catcher: SmtpCatcher;
  work: LineInfoWorker;
  /** Log lines at warn or above since the start (pino JSON). */
  warnings(): string[];
  stop(): Promise<void>;
}

export async function startLineInfoHarness(lines: unknown[], opts: { contracts?: unknown; overrides?: ConfigInput } = {}): Promise<LineInfoHarness> {
  const db = await createTestDatabase();
  await applyLineInfo(db.pool, { lineInfo: { providers: PROVIDERS, lines } });
  if (opts.contracts) await applyProvisioning(db.pool, opts.contracts);
  const overrides: ConfigInput = {
    ...opts.overrides,
    lineInfo: {
      providerTokens: Object.entries(TOKENS).map(([provider, token]) => ({ provider, sha256: sha256(token) })),
      workPollSec: 3600,
      ...opts.overrides?.lineInfo,
    },
  };
  // The test's own address is trusted as the TLS proxy, so a page can say which client it speaks for.
  const config = loadConfig({ env: { DATABASE_URL: db.url, SITE_LISTEN: '127.0.0.1:0', SITE_TRUSTED_PROXIES: '127.0.0.1' }, overrides });
  const clock = testClock();
  // Everything at warn and above is kept, so a test can say the log stayed free of errors.
  const warnings: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) warnings.push(line);
      if (process.env.TEST_LOG_LEVEL) process.stdout.write(chunk);
      done();
    },
  });
  const logger = createLogger('warn', sink);
  const mailDir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-line-info-mail-'));
  const catcher = await startSmtpCatcher({ host: '127.0.0.1', port: 0, dir: mailDir, logger });
  const mailWorker: MailWorker = startMailWorker({
    pool: db.pool, listenUrl: db.url, transport: catcherTransport({ host: '127.0.0.1', port: catcher.port }, 2), logger, concurrency: 2, pollMs: 100,
  });
  const base = config.lineInfo.path;
  const site = await startSettingsSite({ pool: db.pool, config, clock, logger });
  const work = startLineInfoWorker({ pool: db.pool, config, clock, logger });
  return {
    db, config, clock, site, url: `http://127.0.0.1:${site.port}`, base, catcher, work,
    warnings: () => [...warnings],
    async stop() {
      await work.stop();
      await site.close();
      await mailWorker.stop();
      await catcher.close();
      await db.drop();
      await rm(mailDir, { recursive: true, force: true });
    },
  };
}

/** A line as the operator's file gives it. */
export const line = (n: number, notify: string[] = [], accessKey = `Key${String(n).padStart(5, '0')}x`) => ({
  customerId: `CAF${String(n).padStart(10, '0')}`,
  prefix: `2001:db8:${(0x1000 + n).toString(16)}:5600::/56`,
  accessKey,
  notify,
});

export async function logInLine(page: Page, h: LineInfoHarness, customerId: string, accessKey: string): Promise<void> {
  await page.goto(`${h.url}${h.base}/`);
  await page.getByLabel('フレッツナンバー').fill(customerId);
  await page.getByLabel('アクセスキー').fill(accessKey);
  await page.getByRole('button', { name: 'ログイン' }).click();
}

export const h1 = (page: Page) => page.getByRole('heading', { level: 1 }).textContent();

/** The provider lookup API as a provider calls it. */
/** token null: no Authorization header. */
export async function lookup(h: LineInfoHarness, lineId: string, token: string | null = TOKENS.W0099) {
  const res = await fetch(`${h.url}${h.base}/api/v1/customer-id?line=${encodeURIComponent(lineId)}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

/** Applications as the database holds them. */
export async function applications(h: LineInfoHarness, customerId: string) {
  const { rows } = await h.db.pool.query('select receipt_no, setting, provider_ids, state from line_info_application where customer_id = $1 order by id', [customerId]);
  return rows as { receipt_no: string; setting: string; provider_ids: string[]; state: string }[];
}
