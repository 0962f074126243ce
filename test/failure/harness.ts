// The 故障・回復通知 stack of the tests: a fresh database, the built-in SIP engine, the SMTP catcher
// with a mail worker, and any number of probers (each on its own drachtio-srf connection, as
// several instances would be), with short injected intervals. Lines are SIPp processes that answer
// OPTIONS or stay silent; contracts are loaded through the real provisioning path.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Srf from 'drachtio-srf';
import { Registry } from 'prom-client';
import { parseConfig, type Config, type ConfigInput } from '../../src/config.ts';
import { startLineProber, type LineProber } from '../../src/failure/prober.ts';
import { startSmtpCatcher, type SmtpCatcher } from '../../src/mail/catcher.ts';
import { catcherTransport, type Transporter } from '../../src/mail/transport.ts';
import { startMailWorker, type MailWorker } from '../../src/mail/worker.ts';
import type { Engine, EngineOptions } from '../../src/sip-engine/index.ts';
import { listLines, type LineView } from '../../src/store/line-probes.ts';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { startSipp, type SippProcess, type SippResult } from '../support/sipp.ts';
import { waitFor } from '../support/wait.ts';
import { mailsTo, quietLogger, readMails, type ReceivedMail } from '../mail/mailbox.ts';
import { startTestEngine } from '../notify/stack.ts';

export const SECRET = 'failure-test';
const SCEN = (name: string) => path.resolve('test/sipp', `${name}.xml`);

/** Probing fast enough for a test, slow enough for a loaded 2-core machine (a SIPp answer within 2 s). */
export const FAST: ConfigInput['failureNotice'] = { probeIntervalSec: 0.5, probeTimeoutSec: 2, downAfter: 2, upAfter: 2, holdDownSec: 0, tickMs: 50 };

export interface Stack {
  db: TestDatabase;
  engine: Engine;
  dir: string;
  catcher: SmtpCatcher;
  config: Config;
  probers: LineProber[];
  /** A prober of its own connection (another instance), with its own metrics. */
  startProber(holder?: string): Promise<{ prober: LineProber; srf: Srf; registry: Registry }>;
  srfConnect(): Promise<Srf>;
  mails(address: string): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** `engine`: e.g. SIP timers scaled down, so a call to a dead line times out in seconds. */
export async function startStack(over: ConfigInput = {}, engineOptions: Partial<EngineOptions> = {}): Promise<Stack> {
  const db = await createTestDatabase();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chakushin-failure-'));
  const config = parseConfig({ ...over, failureNotice: { ...FAST, ...over.failureNotice } });
  const engine = await startTestEngine(SECRET, engineOptions);
  const catcher = await startSmtpCatcher({ host: '127.0.0.1', port: 0, dir, logger: quietLogger });
  const transport: Transporter = catcherTransport({ host: '127.0.0.1', port: catcher.port }, 2);
  const worker: MailWorker = startMailWorker({ pool: db.pool, listenUrl: db.url, transport, logger: quietLogger, concurrency: 2, pollMs: 100 });
  const srfs: Srf[] = [];
  const probers: LineProber[] = [];

  async function srfConnect(): Promise<Srf> {
    const srf = new Srf();
    srf.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      srf.connect({ host: '127.0.0.1', port: engine.adminAddress.port, secret: SECRET });
      srf.once('connect', (err: Error | null) => (err ? reject(err) : resolve()));
    });
    srfs.push(srf);
    return srf;
  }

  return {
    db, engine, dir, catcher, config, probers, srfConnect,
    async startProber(holder) {
      const srf = await srfConnect();
      const registry = new Registry();
      const prober = startLineProber({ srf, pool: db.pool, config, logger: quietLogger, registry, holder });
      probers.push(prober);
      return { prober, srf, registry };
    },
    mails: async (address) => (await readMails(catcher)).filter((m) => m.deliveredTo === address),
    async close() {
      await Promise.all(probers.map((p) => p.stop()));
      for (const srf of srfs) {
        try {
          srf.disconnect();
        } catch {
          // disconnected by the test already
        }
      }
      await worker.stop();
      transport.close();
      await catcher.close();
      await engine.close();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A line on a port of its own: a SIPp that answers OPTIONS, or one that stays silent (tracing what reaches it). */
export class SippLine {
  private sipp?: SippProcess;
  private constructor(readonly port: number) {}

  static async create(): Promise<SippLine> {
    return new SippLine(await freePort('udp'));
  }

  get target(): string {
    return `sip:line@127.0.0.1:${this.port}`;
  }

  /** Answers every OPTIONS: 200, or 405 as many phones do. */
  async answer(status: 200 | 405 = 200): Promise<void> {
    await this.stop();
    this.sipp = await startSipp({ scenario: SCEN(status === 405 ? 'failure-line-405' : 'failure-line-options'), localPort: this.port, timeoutMs: 120_000 });
  }

  /** Silent from now on; stop() returns the trace of what it was sent meanwhile. */
  async silent(): Promise<void> {
    await this.stop();
    this.sipp = await startSipp({ scenario: SCEN('failure-line-silent'), localPort: this.port, traceMessages: true, timeoutMs: 120_000 });
  }

  /** Serves a scenario of the test's own on the line's port (e.g. a UAS for a call). */
  async serve(scenario: string, keys: Record<string, string> = {}): Promise<void> {
    await this.stop();
    this.sipp = await startSipp({ scenario: SCEN(scenario), localPort: this.port, keys, traceMessages: true, timeoutMs: 120_000 });
  }

  async stop(): Promise<SippResult | undefined> {
    const s = this.sipp;
    this.sipp = undefined;
    return s?.stop();
  }
}

export interface ContractOptions {
  id: string;
  /** Number → line (SIP target); a number without one is reached at notify.nextHop. */
  numbers: { number: string; target?: string; services?: string[] }[];
  address?: string;
  contractorName?: string;
  siteInfo?: string;
  autoStart?: boolean;
  autoStop?: boolean;
  bulkForward?: { started?: boolean; destinations: { number: string; destination: string }[] } | null;
}

export function contract(o: ContractOptions) {
  return {
    id: o.id, region: 'west', pattern: 'A', authUnit: 'line',
    numbers: o.numbers.map((n, i) => ({
      number: n.number, role: i === 0 ? 'main' : 'additional', services: n.services ?? [], ...(n.target ? { target: n.target } : {}),
    })),
    services: ['failure_notice', ...(o.bulkForward === null ? [] : ['bulk_forward'])],
    failureNotice: {
      started: true, contractorName: o.contractorName ?? '株式会社テスト', siteInfo: o.siteInfo ?? '大阪本社',
      destinations: [{ address: o.address ?? `noc.${o.id.toLowerCase()}@example.jp`, send: true }],
      autoStartBulkForward: o.bulkForward !== null && (o.autoStart ?? true), autoStopBulkForward: o.bulkForward !== null && (o.autoStop ?? true),
    },
    ...(o.bulkForward === null ? {} : { bulkForward: o.bulkForward ?? { started: false, destinations: [] } }),
  };
}

export async function provision(stack: Stack, ...contracts: object[]): Promise<void> {
  await applyProvisioning(stack.db.pool, { contracts });
}

/** Waits until the line of `contractId` is in `state` (or the time is up); returns its view. */
export async function lineIn(stack: Stack, contractId: string, line: string, state: LineView['state'], timeoutMs = 20_000): Promise<LineView | undefined> {
  const find = async () => (await listLines(stack.db.pool, { contractId, limit: 100 })).find((l) => l.line === line);
  return waitFor(find, (l) => l?.state === state, timeoutMs, 50);
}

export function subjectWith(word: string) {
  return (m: ReceivedMail) => m.subject.includes(word);
}

export { mailsTo, waitFor };
