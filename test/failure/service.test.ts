// The prober as the service runs it: started with the service, its lines on /metrics, stopped with it.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startService, type Service } from '../../src/service.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { waitFor } from '../support/wait.ts';
import { contract, FAST, SippLine } from './harness.ts';

let db: TestDatabase;
let service: Service;
let line: SippLine;
let varDir: string;
beforeAll(async () => {
  db = await createTestDatabase();
  line = await SippLine.create();
  await line.answer(405);
  await applyProvisioning(db.pool, { contracts: [contract({ id: 'FSVC', numbers: [{ number: '0611110001', target: line.target }], bulkForward: null })] });
  varDir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-failure-service-'));
  const config = loadConfig({
    env: {
      DATABASE_URL: db.url, VAR_DIR: varDir, HTTP_LISTEN: '127.0.0.1:0', SITE_LISTEN: '127.0.0.1:0', SIP_LISTEN: '127.0.0.1:0',
      ENGINE_ADMIN: '127.0.0.1:0', SMTP_CATCHER_LISTEN: '127.0.0.1:0',
    },
    overrides: { failureNotice: FAST },
  });
  service = await startService(config, createLogger('silent'));
});
afterAll(async () => {
  await service?.stop();
  await line?.stop();
  await db?.drop();
  await rm(varDir, { recursive: true, force: true });
});

it('probes the lines of the service and shows them on /metrics; a stop gives the leases back', async () => {
  const metrics = () => fetch(`http://127.0.0.1:${service.httpPort}/metrics`).then((r) => r.text());
  const text = await waitFor(metrics, (t) => /^chakushin_line_state\{state="up"\} 1$/m.test(t), 20_000, 200);
  expect(text).toMatch(/^chakushin_line_state\{state="down"\} 0$/m);
  expect(text).toMatch(/^chakushin_line_probes_total\{result="answered"\} [1-9]/m);
  await service.stop();
  const { rows } = await db.pool.query('select lease_holder from line_probe');
  expect(rows).toEqual([{ lease_holder: null }]);
});
