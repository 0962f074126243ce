// `npm start` on a machine without libspandsp2 (here: the library name pointed at one that does
// not exist): everything else runs, the start says in one line what FAX reception needs and how to
// install it, and a FAX call is refused with 503 and a Warning, and logged. The refusal is seen by
// the real `chakushin fax send` command.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';
import { waitFor } from '../support/wait.ts';
import { makeFaxTiff } from './stack.ts';

const NUMBER = '0611113333';
let db: TestDatabase;
let dir: string;
let service: ServiceProcess;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-nospandsp-'));
  await applyProvisioning(db.pool, {
    contracts: [{ id: 'M1', region: 'east', pattern: 'A', authUnit: 'line',
      numbers: [{ number: NUMBER, role: 'main', services: ['fax_mail'], fax: { started: true, destinations: [{ address: 'fax@example.jp' }] } }] }],
  });
  service = await startServiceProcess({ databaseUrl: db.url, varDir: dir, config: { fax: { spandspLibrary: 'libspandsp-not-installed.so.2' } } });
});
afterAll(async () => {
  await service?.stop();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('without libspandsp2', () => {
  it('the service starts, says once what FAX reception needs, and refuses FAX calls with 503', async () => {
    const lines = service.output().split('\n').filter((l) => l.includes('libspandsp2'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).msg).toMatch(/^FAX reception needs libspandsp2 \(libspandsp-not-installed\.so\.2: .*\); install it with: apt-get install libspandsp2$/);
    expect(await waitFor(async () => service.output(), (o) => o.includes('"msg":"service ready"'))).toContain('"msg":"service ready"');

    const tif = await makeFaxTiff(dir, 1, 400);
    const r = await runCli(['fax', 'send', '--to', NUMBER, '--from', '0612345678', '--via', `127.0.0.1:${service.sipPort}`, tif], {});
    expect(r.stdout).toContain('SIP 503: the call was not answered; nothing sent');
    expect(r.code).toBe(1);
    const refused = await waitFor(async () => service.output().split('\n').filter((l) => l.includes('FAX call refused')), (l) => l.length === 1);
    expect(JSON.parse(refused[0]!)).toMatchObject({ level: 50, called: NUMBER, msg: 'FAX call refused: FAX reception unavailable' });
    expect(service.alive()).toBe(true);
  });
});
