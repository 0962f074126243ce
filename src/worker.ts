// One app worker: the call path of the service, as an app connected to the SIP engine the way apps
// connect to drachtio-server. Each worker holds the calls the engine hands it (round robin) — the IVR
// with its own RTP endpoint, the 着信お知らせメール B2BUA with its call journal — and sends mail from the
// outbox. The node (service.ts) runs one per core; workers share nothing but PostgreSQL.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createCallTracker } from './call-tracker.ts';
import type { Config } from './config.ts';
import { trustedPeerMatcher } from './domain/trusted-peers.ts';
import { startLineProber } from './failure/prober.ts';
import { createIvrApp } from './ivr/app.ts';
import type { Logger } from './logger.ts';
import { catcherTransport, createSmtpTransport } from './mail/transport.ts';
import { startMailWorker } from './mail/worker.ts';
import { builtinFaxUnavailable, createBuiltinMediaServer, createFreeswitchMediaServer, loadPromptLibrary, type FaxReceiver, type MediaServer } from './media/index.ts';
import { startNotifyApp } from './notify/app.ts';
import { connectSip } from './sip-connection.ts';
import { dispatchInvites } from './sip-dispatch.ts';
import { openDatabase } from './store/database.ts';
import { partsInOrder, startPart } from './start-failure.ts';
import type Srf from 'drachtio-srf';

/** What the node tells a worker about the parts it runs for all of them. */
export interface WorkerRuntime {
  /** 0-based, among the node's workers. */
  index: number;
  count: number;
  /** This worker process's run: its calls in the call journal are under it. */
  run: string;
  node: string;
  databaseUrl: string;
  /** The SIP engine's admin socket (the node's built-in engine, or drachtio-server). */
  sip: { host: string; port: number; secret: string };
  /** The SMTP catcher, when the node runs one. */
  smtpCatcher?: { host: string; port: number };
}

export interface Worker {
  /** Refuse new calls from now on (503, and 503 to OPTIONS): the node is draining. */
  drain(): void;
  /** Drain calls, finish mails in flight, close everything. */
  stop(): Promise<void>;
  /** Each check of this worker: 'ok' or what is wrong. */
  health(): Promise<Record<string, string>>;
  /** This worker's metrics as prom-client JSON, for the node to add up. */
  metrics(): Promise<unknown>;
}

/** The slice of the RTP port range worker `index` of `count` binds from, so workers never race for a port. */
export function rtpSlice(min: number, max: number, index: number, count: number): { min: number; max: number } {
  if (min === 0 && max === 0) return { min, max };
  const size = Math.floor((max - min + 1) / count);
  return { min: min + index * size, max: index === count - 1 ? max : min + (index + 1) * size - 1 };
}

export async function startWorker(config: Config, logger: Logger, rt: WorkerRuntime): Promise<Worker> {
  const parts = partsInOrder(logger, { level: 'debug' });
  const stopAll = parts.stopAll;
  let accepting = true;
  try {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const db = await startPart('database', 'check DATABASE_URL', () => openDatabase({ ...config, database: { ...config.database, url: rt.databaseUrl } }, logger, { migrate: false }));
    parts.add('database', () => db.close());

    const smtp = rt.smtpCatcher ? catcherTransport(rt.smtpCatcher, config.mail.workers) : createSmtpTransport(config);
    parts.add('smtp-transport', async () => smtp.close());
    const mailWorker = startMailWorker({
      pool: db.pool, listenUrl: rt.databaseUrl, transport: smtp, logger, concurrency: config.mail.workers, batchWindowMs: config.database.batchWindowMs,
    });
    parts.add('mail-worker', () => mailWorker.stop());

    const isTrustedPeer = trustedPeerMatcher(config.sip.trustedPeers);
    const sip = await startPart('SIP connection', 'check the SIP engine', () => connectSip(rt.sip, logger));
    parts.add('sip', () => sip.close());
    const media = await startPart('media', config.media.freeswitch ? 'check FREESWITCH_HOST' : 'check RTP_HOST/RTP_PORT_RANGE', () => startMedia(config, rt, sip.srf, logger, registry));
    parts.add('media', () => media.close());

    const ivrCalls = createCallTracker({ kind: 'ivr', maxCalls: Math.ceil(config.ivr.maxCalls / rt.count), logger, registry });
    const notifyCalls = createCallTracker({ kind: 'notify', maxCalls: Math.ceil(config.notify.maxCalls / rt.count), logger, registry });
    const ivr = createIvrApp({ srf: sip.srf, pool: db.pool, media, config, logger, calls: ivrCalls, isTrustedPeer });
    // 故障・回復通知: every worker probes; the lines are leased in the database, so each is probed once.
    const prober = startLineProber({ srf: sip.srf, pool: db.pool, config, logger, registry, holder: `${rt.node}/${rt.run}` });
    parts.add('line-prober', () => prober.stop());
    const notify = startNotifyApp({
      srf: sip.srf, pool: db.pool, config, logger, spoolDir: path.join(config.varDir, 'spool'), registry, calls: notifyCalls, isTrustedPeer,
      media, fax: media, owner: { node: rt.node, worker: rt.run },
      lineAnswered: (number, status) => prober.callFailed(number, status),
    });
    dispatchInvites(sip.srf, [ivr.handleInvite, notify.handleNotifyInvite], {
      logger, accepting: () => accepting, registry,
      admission: { isTrustedPeer, admitUntrustedSources: config.sip.admitUntrustedSources },
    });
    parts.add('calls', async () => {
      accepting = false;
      await Promise.all([ivrCalls.drain(config.ivr.shutdownGraceSec * 1000), notify.stop()]);
    });
    logger.info({ run: rt.run, pid: process.pid }, 'worker ready');
    return {
      drain: () => void (accepting = false),
      stop: stopAll,
      async health() {
        const checks: Record<string, string> = {};
        checks.sip = sip.isConnected() ? 'ok' : 'not connected to the SIP engine';
        checks.database = await db.pool.query('select 1').then(() => 'ok', (err: Error) => err.message);
        return checks;
      },
      metrics: () => registry.getMetricsAsJSON(),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function startMedia(config: Config, rt: WorkerRuntime, srf: Srf, logger: Logger, registry: Registry): Promise<MediaServer & FaxReceiver> {
  const prompts = await loadPromptLibrary({ dir: config.media.promptDir, overrideDir: config.media.promptOverrideDir });
  if (config.media.freeswitch) {
    const fs = config.media.freeswitch;
    const appDir = path.join(config.varDir, 'fax');
    await mkdir(appDir, { recursive: true });
    return createFreeswitchMediaServer({
      srf, address: fs.host, port: fs.port, secret: fs.secret, listenAddress: fs.listenAddress, prompts, logger, inbandDtmf: config.media.inbandDtmf,
      fax: { appDir, freeswitchDir: config.fax.freeswitchDir ?? path.resolve(appDir) },
    });
  }
  const fax = { workDir: path.join(config.varDir, 'fax'), spandspLibrary: config.fax.spandspLibrary };
  const missing = builtinFaxUnavailable(fax);
  // One line at start (the first worker's): everything else runs; FAX calls are refused (503) until it is installed.
  if (missing && rt.index === 0) logger.warn(missing);
  else if (!missing) await mkdir(fax.workDir, { recursive: true });
  const ports = rtpSlice(config.media.rtpPortMin, config.media.rtpPortMax, rt.index, rt.count);
  const media = await createBuiltinMediaServer({
    host: config.media.rtpHost, fax, portMin: ports.min, portMax: ports.max, prompts, inbandDtmf: config.media.inbandDtmf, logger,
  });
  media.registerMetrics(registry);
  return media;
}
