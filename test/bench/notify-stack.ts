// What bench:warp runs: the built-in engine in a process of its own, the notify B2BUA in this one,
// mails to the built-in SMTP catcher by mail workers, against a bench database — the app alone, not
// `npm start`'s topology (bench:scale and bench:notify measure that).
import { spawn } from 'node:child_process';
import path from 'node:path';
import Srf from 'drachtio-srf';
import pino from 'pino';
import type pg from 'pg';
import { parseConfig, type ConfigInput } from '../../src/config.ts';
import { trustedPeerMatcher } from '../../src/domain/trusted-peers.ts';
import { startSmtpCatcher } from '../../src/mail/catcher.ts';
import { catcherTransport } from '../../src/mail/transport.ts';
import { startMailWorker } from '../../src/mail/worker.ts';
import { startNotifyApp } from '../../src/notify/app.ts';
import { dispatchInvites } from '../../src/sip-dispatch.ts';
import { freePort } from '../support/ports.ts';
import { benchDatabase } from './support.ts';

export interface NotifyBenchStack {
  pool: pg.Pool;
  /** Where SIPp callers send (the engine's SIP port). */
  sipPort: number;
  close(): Promise<void>;
}

export async function startNotifyBenchStack(name: string, opts: { workers: number; config?: ConfigInput }): Promise<NotifyBenchStack> {
  const logger = pino({ level: 'warn' });
  const db = await benchDatabase(name);
  const { pool, url, dir: tmp } = db;
  const sipPort = await freePort('both');
  const adminPort = await freePort('tcp');
  const engine = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../sip-engine/run-engine-command.ts'),
    '--sip', `127.0.0.1:${sipPort}`, '--admin', `127.0.0.1:${adminPort}`, '--secret', 'bench', '--log-level', 'warn'], { stdio: 'inherit' });

  const catcher = await startSmtpCatcher({ host: '127.0.0.1', port: 0, dir: path.join(tmp, 'mail'), logger });
  const transport = catcherTransport({ host: '127.0.0.1', port: catcher.port }, opts.workers);
  const worker = startMailWorker({ pool, listenUrl: url, transport, logger, concurrency: opts.workers });
  const config = parseConfig({ ...opts.config, mail: { workers: opts.workers } });
  const srf = new Srf();
  srf.on('error', () => {});
  const app = startNotifyApp({ srf, pool, config, logger, spoolDir: path.join(tmp, 'spool'), isTrustedPeer: trustedPeerMatcher(config.sip.trustedPeers) });
  dispatchInvites(srf, [app.handleNotifyInvite], { logger });
  // One connect: drachtio-srf keeps retrying until the engine process is listening.
  await new Promise<void>((resolve) => {
    srf.once('connect', () => resolve());
    srf.connect({ host: '127.0.0.1', port: adminPort, secret: 'bench' });
  });
  return {
    pool,
    sipPort,
    async close() {
      srf.disconnect();
      await app.stop(1000);
      await worker.stop();
      transport.close();
      await catcher.close();
      engine.kill('SIGTERM');
      await db.close();
    },
  };
}
