// A whole chakushin service (built-in SIP engine, built-in RTP endpoint, real PostgreSQL)
// for IVR end-to-end tests, with subscribers provisioned, driven by SIPp callers.
import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig, type ConfigInput } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startService, type Service } from '../../src/service.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { runCli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { runSipp, sippSummary, type SippResult } from '../support/sipp.ts';
import { testDrachtio } from '../support/test-drachtio.ts';

export const SIPP_DIR = path.resolve(import.meta.dirname, '../sipp');

/**
 * The subscribers every IVR test calls from. Temp passwords are per number, so tests that
 * run side by side in one file set them on different numbers.
 */
export const SUBSCRIBERS = {
  contracts: [
    {
      // 西日本, pattern A: main number with 着信お知らせメール, additional numbers with mail
      // services and one without.
      id: 'WA1', region: 'west', pattern: 'A', authUnit: 'line',
      numbers: [
        { number: '0611112222', role: 'main', services: ['chakushin_mail'] },
        { number: '0611113333', role: 'additional', services: ['chakushin_mail', 'fax_mail'] },
        { number: '0611114444', role: 'additional', services: [] },
        { number: '0611115555', role: 'additional', services: ['chakushin_mail'] },
        { number: '0611116666', role: 'additional', services: ['fax_mail'] },
      ],
    },
    {
      // 西日本, pattern A, for the failure and retry branches (one target number per test).
      id: 'WA2', region: 'west', pattern: 'A', authUnit: 'line',
      numbers: [
        { number: '0612340001', role: 'main', services: ['chakushin_mail'] },
        { number: '0612340002', role: 'additional', services: ['chakushin_mail'] },
        { number: '0612340003', role: 'additional', services: ['chakushin_mail'] },
        { number: '0612340004', role: 'additional', services: [] },
        { number: '0612340005', role: 'additional', services: ['chakushin_mail'] },
        { number: '0612340006', role: 'additional', services: ['chakushin_mail'] },
        { number: '0612340007', role: 'additional', services: ['fax_mail'] },
        { number: '0612340008', role: 'additional', services: ['chakushin_mail'] },
      ],
    },
    {
      // 西日本, pattern B, with an 認証用番号 that is not one of its numbers, and a number
      // without 着信/FAXお知らせメール.
      id: 'WB1', region: 'west', pattern: 'B', authUnit: 'number',
      numbers: [
        { number: '0722221111', role: 'main', services: ['chakushin_mail'] },
        { number: '0722223333', role: 'additional', services: ['fax_mail'] },
        { number: '0722224444', role: 'additional', services: [] },
      ],
      authNumbers: ['0722229999'],
    },
    // 西日本, pattern B: one contract per branch that needs its own numbers.
    { id: 'WB2', region: 'west', pattern: 'B', authUnit: 'number', numbers: [{ number: '0722231111', role: 'main', services: ['chakushin_mail'] }] },
    { id: 'WB3', region: 'west', pattern: 'B', authUnit: 'number', numbers: [{ number: '0722241111', role: 'main', services: ['chakushin_mail'] }] },
    {
      id: 'WB4', region: 'west', pattern: 'B', authUnit: 'number',
      numbers: [
        { number: '0722251111', role: 'main', services: ['chakushin_mail'] },
        { number: '0722253333', role: 'additional', services: ['fax_mail'] },
      ],
    },
    { id: 'WB5', region: 'west', pattern: 'B', authUnit: 'number', numbers: [{ number: '0722261111', role: 'main', services: ['chakushin_mail'] }] },
    {
      // 東日本, pattern A.
      id: 'EA1', region: 'east', pattern: 'A', authUnit: 'number',
      numbers: [
        { number: '0355556666', role: 'main', services: ['chakushin_mail'] },
        { number: '0355557777', role: 'additional', services: ['chakushin_mail'] },
      ],
    },
  ],
};

/** A -mp port for SIPp: it binds the audio port and the video one two above it, so both must be free. */
export async function sippMediaPort(): Promise<number> {
  for (;;) {
    const port = await freePort('udp');
    const videoFree = await new Promise<boolean>((resolve) => {
      const sock = dgram.createSocket('udp4');
      sock.once('error', () => resolve(false));
      sock.bind(port + 2, '127.0.0.1', () => sock.close(() => resolve(true)));
    });
    if (videoFree) return port;
  }
}

export const ACCESS = { A_WEST: '0664806430', A_EAST: '0363044747', B: '0722427142' };

const PCAP_KEYS: Record<string, string> = { pound: '#', star: '*' };
const SIGNAL_KEYS: Record<string, string> = { '10': '*', '11': '#' };

/**
 * The keys a SIPp scenario of test/sipp types, in order: RFC 2833 events played from sip-tester's
 * dtmf_2833_<key>.pcap files and SIP INFO application/dtmf-relay bodies (Signal=<key>).
 */
export function keysTypedBy(scenario: string): string {
  const xml = readFileSync(path.join(SIPP_DIR, scenario), 'utf8').replace(/<!--[\s\S]*?-->/g, '');
  if (/play_dtmf=|Content-Type: application\/dtmf\s*$/m.test(xml)) throw new Error(`${scenario}: keys typed in a form keysTypedBy does not read`);
  let keys = '';
  for (const m of xml.matchAll(/dtmf_2833_(\w+)\.pcap|^\s*Signal=(\S+)\s*$/gm)) keys += m[1] !== undefined ? (PCAP_KEYS[m[1]] ?? m[1]) : (SIGNAL_KEYS[m[2]!] ?? m[2]!);
  return keys;
}

export interface CallOptions {
  caller: string;
  dialled: string;
  /** Entries the caller types, e.g. ['2', '0611113333#', '12345678#', '12345678#']; the scenario must type exactly these. */
  typed?: readonly string[];
  keys?: Record<string, string>;
  transport?: 'udp' | 'tcp';
  localIp?: string;
}

export interface IvrHarness {
  db: TestDatabase;
  service: Service;
  /** Every log line the service wrote during the run. */
  logs: string[];
  /** Log lines that contain any of `typed` (keys callers pressed: passwords, numbers). */
  linesContaining(typed: readonly string[]): string[];
  /** Log lines at warn level or above (pino levels 40+): a clean run has none. */
  problems(): string[];
  /** Of these calls, the ones with no 'ivr call ended' log line. */
  unloggedCalls(callIds: readonly string[]): string[];
  /**
   * One SIPp call; resolves when the scenario has run to its end. `typed`: the keys the scenario
   * types, entry by entry as the caller presses them (checked against the scenario before the call).
   */
  call(scenario: string, opts: CallOptions): Promise<{ callId: string; sipp: SippResult }>;
  /** The service's /metrics text. */
  metrics(): Promise<string>;
  /** The ivr_call record of a call, once written. */
  ivrCall(callId: string): Promise<Record<string, any>>;
  /**
   * What `chakushin temp-password status NUMBER` (the real CLI, on this harness's database) says of a number, without the times:
   * 'none', or e.g. 'realm=site unit=line state=valid' (one per realm, joined by '; ').
   * Throws when the exit code disagrees with the text.
   */
  tempPasswordState(number: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startIvrHarness(overrides: ConfigInput = {}): Promise<IvrHarness> {
  const db = await createTestDatabase();
  await applyProvisioning(db.pool, SUBSCRIBERS);
  const varDir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-ivr-'));
  const real = testDrachtio();
  const config = loadConfig({
    env: {
      ...(real ? { DRACHTIO_HOST: '127.0.0.1', DRACHTIO_PORT: String(real.adminPort), DRACHTIO_SECRET: real.secret } : {}),
      DATABASE_URL: db.url, VAR_DIR: varDir, HTTP_LISTEN: '127.0.0.1:0', SITE_LISTEN: '127.0.0.1:0', SIP_LISTEN: `127.0.0.1:${await freePort('both')}`,
      ENGINE_ADMIN: '127.0.0.1:0', SMTP_CATCHER_LISTEN: '127.0.0.1:0', RTP_PORT_RANGE: '0-0', LOG_LEVEL: 'debug',
    },
    // Short timeouts keep the no-input branches quick; the flow logic is the same. One app worker: the
    // IVR in a worker as npm start runs it, at the cost of one process per test file.
    overrides: { ivr: { firstDigitTimeoutMs: 1500, interDigitTimeoutMs: 1000 }, cluster: { workers: 1 }, ...overrides },
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const service = await startService(config, createLogger('debug', sink), { workerOutput: sink });
  const sipPort = service.sipAddress?.port ?? real!.sipPort;
  const tempPasswordStatus = (number: string) => runCli(['temp-password', 'status', number], { DATABASE_URL: db.url });
  return {
    db,
    service,
    logs,
    unloggedCalls: (callIds) => callIds.filter((id) => !logs.some((l) => l.includes(id) && l.includes('ivr call ended'))),
    linesContaining: (typed) => logs.filter((line) => typed.some((t) => line.includes(t))),
    problems: () => logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 40),
    async call(scenario, opts) {
      if (opts.typed) expect(keysTypedBy(scenario), `the keys ${scenario} types`).toBe(opts.typed.join(''));
      const mediaPort = await sippMediaPort();
      const callId = `ivr-${randomUUID()}`;
      const result = await runSipp({
        scenario: path.join(SIPP_DIR, scenario),
        remote: { port: sipPort },
        transport: opts.transport ?? 'udp',
        localIp: opts.localIp,
        service: opts.dialled,
        calls: 1,
        keys: { caller: opts.caller, ...opts.keys },
        timeoutMs: 120_000,
        traceMessages: true,
        // SIPp's own Call-ID, fixed here so the test can find the call's record.
        extraArgs: ['-mp', String(mediaPort), '-cid_str', callId],
      });
      if (result.exitCode !== 0) throw new Error(`SIPp ${scenario} failed: ${sippSummary(result)}`);
      return { callId, sipp: result };
    },
    metrics: async () => (await fetch(`http://127.0.0.1:${service.httpPort}/metrics`)).text(),
    async ivrCall(callId) {
      // The record is written right after the call ends; SIPp may finish a moment earlier.
      for (let i = 0; i < 50; i++) {
        const { rows } = await db.pool.query('select * from ivr_call where call_id = $1', [callId]);
        if (rows[0]) return rows[0];
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no ivr_call record for ${callId}`);
    },
    async tempPasswordState(number) {
      const { code, stdout, stderr } = await tempPasswordStatus(number);
      if (code === 1 && stdout === `${number}: no temp password\n`) return 'none';
      const lines = stdout.trim().split('\n').map((l) => l.replace(`${number}: `, '').replace(/ set=.*$/, ''));
      if (code !== (lines.some((l) => l.endsWith('state=valid')) ? 0 : 1)) {
        throw new Error(`temp-password status ${number}: exit ${code}\n${stdout}${stderr}`);
      }
      return lines.join('; ');
    },
    async stop() {
      await service.stop();
      await db.drop();
    },
  };
}

export interface IvrTestFile {
  /** The file's harness (started before its first test). */
  readonly harness: IvrHarness;
  /** One SIPp call of the file, stating the keys it types; resolves with its ivr_call record. */
  call(scenario: string, opts: CallOptions & { typed: readonly string[] }): Promise<Record<string, any>>;
  tempPasswordState(number: string): Promise<string>;
  /**
   * The file's closing checks, each a test of its own, registered where it is called (after the file's
   * calls, outside their concurrent group, so they run once every call has ended). `nothingTyped`:
   * the file's callers type no number or password (so there is none to look for in the logs).
   */
  closingChecks(opts?: { nothingTyped?: true }): void;
}

/** A number or password a caller typed (7 digits or more), unless it is also a caller or dialled number, which the logs may name. */
function secretsTyped(calls: readonly CallOptions[]): string[] {
  const named = new Set(calls.flatMap((c) => [c.caller, c.dialled, ...Object.values(c.keys ?? {})]));
  const entries = calls.flatMap((c) => c.typed ?? []).map((e) => e.replace(/[#*]/g, ''));
  return [...new Set(entries.filter((e) => e.length >= 7 && !named.has(e)))];
}

/** One harness for a test file's calls: started before its tests, stopped after them. */
export function ivrTestFile(overrides: ConfigInput = {}): IvrTestFile {
  let started: IvrHarness | undefined;
  const calls: { callId?: string; opts: CallOptions }[] = [];
  beforeAll(async () => {
    started = await startIvrHarness(overrides);
  });
  afterAll(async () => {
    await started?.stop();
  });
  const harness = (): IvrHarness => {
    if (!started) throw new Error('the IVR harness is not started (use it inside a test)');
    return started;
  };
  return {
    get harness() {
      return harness();
    },
    async call(scenario, opts) {
      const made: { callId?: string; opts: CallOptions } = { opts };
      calls.push(made);
      ({ callId: made.callId } = await harness().call(scenario, opts));
      return harness().ivrCall(made.callId!);
    },
    tempPasswordState: (number) => harness().tempPasswordState(number),
    closingChecks(opts = {}) {
      it('has made its calls, each run to its end by SIPp', () => {
        expect(calls.length).toBeGreaterThan(0);
        expect(calls.filter((c) => !c.callId).map((c) => c.opts)).toEqual([]);
      });
      it('logs the end of every call', () => {
        expect(harness().unloggedCalls(calls.map((c) => c.callId!))).toEqual([]);
      });
      it('logs nothing at warn level or above', () => {
        expect(harness().problems()).toEqual([]);
      });
      if (opts.nothingTyped) {
        it('its callers type no number or password', () => {
          expect(secretsTyped(calls.map((c) => c.opts))).toEqual([]);
        });
        return;
      }
      it('never logs a number or password a caller typed', () => {
        const secrets = secretsTyped(calls.map((c) => c.opts));
        expect(secrets.length).toBeGreaterThan(0);
        expect(harness().linesContaining(secrets)).toEqual([]);
      });
    },
  };
}
