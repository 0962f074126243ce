// Ready means every listener is up: /healthz, polled as fast as a script would while the service
// starts, never answers 200 while the settings site still refuses connections.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startService, type Service } from '../../src/service.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';

let db: TestDatabase;
let varDir: string;
let service: Service | undefined;
beforeAll(async () => {
  db = await createTestDatabase();
  varDir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-readiness-'));
});
afterAll(async () => {
  await service?.stop();
  await db.drop();
  await rm(varDir, { recursive: true, force: true });
});

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

it('/healthz answers 200 only once the settings site accepts connections', async () => {
  const httpPort = await freePort('tcp');
  const sitePort = await freePort('tcp');
  const config = loadConfig({
    env: {
      DATABASE_URL: db.url, VAR_DIR: varDir, HTTP_LISTEN: `127.0.0.1:${httpPort}`, SITE_LISTEN: `127.0.0.1:${sitePort}`, SIP_LISTEN: '127.0.0.1:0',
      ENGINE_ADMIN: '127.0.0.1:0', SMTP_CATCHER_LISTEN: '127.0.0.1:0',
    },
  });
  let starting = true;
  const answers: { status: number; body: string; siteUp?: boolean }[] = [];
  const poll = (async () => {
    while (starting) {
      const answer = await fetch(`http://127.0.0.1:${httpPort}/healthz`).then(async (r) => ({ status: r.status, body: await r.text() }), () => undefined);
      if (answer) answers.push(answer.status === 200 ? { ...answer, siteUp: await accepts(sitePort) } : answer);
      await new Promise((r) => setImmediate(r));
    }
  })();
  service = await startService(config, createLogger('silent'));
  starting = false;
  await poll;

  expect(answers.filter((a) => a.status === 200 && !a.siteUp), 'a 200 while the site refused connections').toEqual([]);
  for (const a of answers.filter((x) => x.status !== 200)) expect(JSON.parse(a.body).checks.listeners).toBe('starting: waiting for site');
  const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ status: 'ok', checks: { database: 'ok', sip: 'ok', listeners: 'ok' } });
});
