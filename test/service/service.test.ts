import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startService, type Service } from '../../src/service.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let db: TestDatabase;
let service: Service;
beforeAll(async () => {
  db = await createTestDatabase();
  const varDir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-service-'));
  const config = loadConfig({
    env: {
      DATABASE_URL: db.url, VAR_DIR: varDir, HTTP_LISTEN: '127.0.0.1:0', SITE_LISTEN: '127.0.0.1:0', SIP_LISTEN: '127.0.0.1:0',
      ENGINE_ADMIN: '127.0.0.1:0', SMTP_CATCHER_LISTEN: '127.0.0.1:0',
    },
  });
  service = await startService(config, createLogger('silent'));
});
afterAll(async () => {
  await service?.stop();
  await db.drop();
});

describe('service', () => {
  it('answers /healthz with every check ok', async () => {
    const res = await fetch(`http://127.0.0.1:${service.httpPort}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', checks: { database: 'ok', sip: 'ok' } });
  });

  it('serves Prometheus metrics', async () => {
    const res = await fetch(`http://127.0.0.1:${service.httpPort}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toMatch(/^process_cpu_user_seconds_total /m);
  });

  it('refuses other methods and paths', async () => {
    expect((await fetch(`http://127.0.0.1:${service.httpPort}/healthz`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`http://127.0.0.1:${service.httpPort}/nope`)).status).toBe(404);
  });
});
