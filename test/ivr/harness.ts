// A whole chakushin service (built-in SIP engine, built-in RTP endpoint, real PostgreSQL)
// for IVR end-to-end tests, with subscribers provisioned, driven by SIPp callers.
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, type ConfigInput } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startService, type Service } from '../../src/service.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { runSipp, sippSummary, type SippResult } from '../support/sipp.ts';

export const SIPP_DIR = path.resolve(import.meta.dirname, '../sipp');

/** The subscribers every IVR test calls from. */
export const SUBSCRIBERS = {
  contracts: [
    {
      // 西日本, pattern A, main number with 着信お知らせメール, one additional number with FAX.
      id: 'WA1', region: 'west', pattern: 'A', authUnit: 'line',
      numbers: [
        { number: '0611112222', role: 'main', services: ['chakushin_mail'] },
        { number: '0611113333', role: 'additional', services: ['chakushin_mail', 'fax_mail'] },
        { number: '0611114444', role: 'additional', services: [] },
      ],
    },
    {
      // 西日本, pattern B, with an 認証用番号 that is not one of its numbers.
      id: 'WB1', region: 'west', pattern: 'B', authUnit: 'number',
      numbers: [
        { number: '0722221111', role: 'main', services: ['chakushin_mail'] },
        { number: '0722223333', role: 'additional', services: ['fax_mail'] },
      ],
      authNumbers: ['0722229999'],
    },
    {
      // 東日本, pattern A.
      id: 'EA1', region: 'east', pattern: 'A', authUnit: 'number',
      numbers: [{ number: '0355556666', role: 'main', services: ['chakushin_mail'] }],
    },
  ],
};

export const ACCESS = { A_WEST: '0664806430', A_EAST: '0363044747', B: '0722427142' };

export interface IvrHarness {
  db: TestDatabase;
  service: Service;
  /** Every log line the service wrote during the run. */
  logs: string[];
  /** One SIPp call; resolves when the scenario has run to its end. */
  call(scenario: string, opts: { caller: string; dialled: string; keys?: Record<string, string>; transport?: 'udp' | 'tcp' }): Promise<{ callId: string; sipp: SippResult }>;
  /** The ivr_call record of a call, once written. */
  ivrCall(callId: string): Promise<Record<string, any>>;
  stop(): Promise<void>;
}

export async function startIvrHarness(overrides: ConfigInput = {}): Promise<IvrHarness> {
  const db = await createTestDatabase();
  await applyProvisioning(db.pool, SUBSCRIBERS);
  const varDir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-ivr-'));
  const config = loadConfig({
    env: {
      DATABASE_URL: db.url, VAR_DIR: varDir, HTTP_LISTEN: '127.0.0.1:0', SIP_LISTEN: `127.0.0.1:${await freePort('both')}`,
      ENGINE_ADMIN: '127.0.0.1:0', SMTP_CATCHER_LISTEN: '127.0.0.1:0', RTP_PORT_RANGE: '0-0', LOG_LEVEL: 'debug',
    },
    // Short timeouts keep the no-input branches quick; the flow logic is the same.
    overrides: { ivr: { firstDigitTimeoutMs: 1500, interDigitTimeoutMs: 1000 }, ...overrides },
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const service = await startService(config, createLogger('debug', sink));
  const sipPort = service.sipAddress!.port;
  return {
    db,
    service,
    logs,
    async call(scenario, opts) {
      const mediaPort = await freePort('udp');
      const callId = `ivr-${randomUUID()}`;
      const result = await runSipp({
        scenario: path.join(SIPP_DIR, scenario),
        remote: { port: sipPort },
        transport: opts.transport ?? 'udp',
        service: opts.dialled,
        calls: 1,
        keys: { caller: opts.caller, ...opts.keys },
        timeoutMs: 120_000,
        // SIPp's own Call-ID, fixed here so the test can find the call's record.
        extraArgs: ['-mp', String(mediaPort), '-cid_str', callId],
      });
      if (result.exitCode !== 0) throw new Error(`SIPp ${scenario} failed: ${sippSummary(result)}`);
      return { callId, sipp: result };
    },
    async ivrCall(callId) {
      // The record is written right after the call ends; SIPp may finish a moment earlier.
      for (let i = 0; i < 50; i++) {
        const { rows } = await db.pool.query('select * from ivr_call where call_id = $1', [callId]);
        if (rows[0]) return rows[0];
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no ivr_call record for ${callId}`);
    },
    async stop() {
      await service.stop();
      await db.drop();
    },
  };
}
