// The whole service in one process: each external part is either the real one named in
// the config or its embedded stand-in. Parts start in dependency order and stop in reverse.
import path from 'node:path';
import type Srf from 'drachtio-srf';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createCallTracker } from './call-tracker.ts';
import { trustedPeerMatcher } from './domain/trusted-peers.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { createIvrApp } from './ivr/app.ts';
import { startLineProber } from './failure/prober.ts';
import { startNotifyApp } from './notify/app.ts';
import { startSmtpCatcher } from './mail/catcher.ts';
import { catcherTransport, createSmtpTransport } from './mail/transport.ts';
import { startMailWorker } from './mail/worker.ts';
import { mkdir } from 'node:fs/promises';
import { builtinFaxUnavailable, createBuiltinMediaServer, createFreeswitchMediaServer, loadPromptLibrary, type FaxReceiver, type MediaServer } from './media/index.ts';
import { startFaxSweep } from './notify/fax-sweep.ts';
import { connectSip } from './sip-connection.ts';
import { dispatchInvites } from './sip-dispatch.ts';
import { openDatabase } from './store/database.ts';
import { startPart } from './start-failure.ts';
import { createReadiness } from './web/readiness.ts';
import { startWebServer, type HealthCheck } from './web/server.ts';
import { systemClock } from './domain/clock.ts';
import { startSettingsSite } from './site/index.ts';
import { startLineInfoWorker } from './site/line-info/work.ts';

export interface Service {
  httpPort: number;
  /** Where the settings site (設定サイト) listens. */
  sitePort: number;
  /** Where the built-in SIP engine listens (undefined with a real drachtio-server). */
  sipAddress?: { host: string; port: number };
  /** Where the built-in SMTP catcher listens (undefined with a real relay). */
  smtpCatcher?: { host: string; port: number; dir: string };
  /** Stop taking calls, let calls and mails in flight finish, close the database. */
  stop(): Promise<void>;
}

type Part = { name: string; stop: () => Promise<void> };

export async function startService(config: Config, logger: Logger): Promise<Service> {
  const parts: Part[] = [];
  let stopped: Promise<void> | undefined;
  // Idempotent: a second SIGTERM (or stop()) waits for the first stop instead of stopping twice.
  const stopAll = () => (stopped ??= stopParts());
  const stopParts = async () => {
    for (const part of parts.reverse()) {
      try {
        await part.stop();
        logger.info({ part: part.name }, 'stopped');
      } catch (err) {
        logger.error({ part: part.name, err: (err as Error).message }, 'stop failed');
      }
    }
  };
  try {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const health: HealthCheck[] = [];

    const db = await startPart('database', config.database.url ? 'check DATABASE_URL' : undefined, () => openDatabase(config, logger));
    parts.push({ name: 'database', stop: () => db.close() });
    health.push({ name: 'database', check: async () => void (await db.pool.query('select 1')) });

    let smtpCatcher: Service['smtpCatcher'];
    let transport;
    if (config.smtp.url) {
      transport = createSmtpTransport(config);
    } else {
      const dir = path.join(config.varDir, 'mail');
      const catcher = await startPart('SMTP catcher', 'set SMTP_CATCHER_LISTEN', () => startSmtpCatcher({ ...config.smtp.catcherListen, dir, logger }));
      parts.push({ name: 'smtp-catcher', stop: () => catcher.close() });
      smtpCatcher = { host: config.smtp.catcherListen.host, port: catcher.port, dir };
      transport = catcherTransport({ host: config.smtp.catcherListen.host, port: catcher.port }, config.mail.workers);
    }
    const smtp = transport;
    parts.push({ name: 'smtp-transport', stop: async () => smtp.close() });
    const mailWorker = startMailWorker({ pool: db.pool, listenUrl: db.url, transport: smtp, logger, concurrency: config.mail.workers });
    parts.push({ name: 'mail-worker', stop: () => mailWorker.stop() });

    // One matcher, injected: engine, admission, IVR and notify agree on who the trunk is.
    const isTrustedPeer = trustedPeerMatcher(config.sip.trustedPeers);
    const sip = await startPart('SIP engine', config.sip.drachtio ? 'check DRACHTIO_HOST/DRACHTIO_PORT' : 'set SIP_LISTEN or ENGINE_ADMIN', () => connectSip(config, logger, isTrustedPeer));
    parts.push({ name: 'sip', stop: () => sip.close() });
    sip.engine?.registerMetrics(registry);

    const media = await startPart('media', config.media.freeswitch ? 'check FREESWITCH_HOST' : 'check RTP_HOST/RTP_PORT_RANGE', () => startMedia(config, sip.srf, logger, registry));
    parts.push({ name: 'media', stop: () => media.close() });
    health.push({
      name: 'sip',
      check: async () => {
        if (!sip.isConnected()) throw new Error('not connected to drachtio');
      },
    });

    // One tracker per call path, injected.
    const ivrCalls = createCallTracker({ kind: 'ivr', maxCalls: config.ivr.maxCalls, logger, registry });
    const notifyCalls = createCallTracker({ kind: 'notify', maxCalls: config.notify.maxCalls, logger, registry });
    const ivr = createIvrApp({ srf: sip.srf, pool: db.pool, media, config, logger, calls: ivrCalls, isTrustedPeer });
    const prober = startLineProber({ srf: sip.srf, pool: db.pool, config, logger, registry });
    const notify = startNotifyApp({
      srf: sip.srf, pool: db.pool, config, logger, spoolDir: path.join(config.varDir, 'spool'), registry, calls: notifyCalls, isTrustedPeer, media, fax: media,
      lineAnswered: (number, status) => prober.callFailed(number, status),
    });
    const faxSweep = startFaxSweep({ pool: db.pool, config, logger });
    parts.push({ name: 'fax-sweep', stop: () => faxSweep.stop() });
    let accepting = true;
    dispatchInvites(sip.srf, [ivr.handleInvite, notify.handleNotifyInvite], {
      logger, accepting: () => accepting, registry,
      admission: { isTrustedPeer, admitUntrustedSources: config.sip.admitUntrustedSources },
    });
    parts.push({
      name: 'calls',
      stop: async () => {
        accepting = false;
        await Promise.all([ivrCalls.drain(config.ivr.shutdownGraceSec * 1000), notify.stop()]);
      },
    });
    // Leased per line in the database: any number of instances probe the lines once between them.
    parts.push({ name: 'line-prober', stop: () => prober.stop() });

    // The operations port comes up before the site: /healthz says ready once the site listens too.
    const readiness = createReadiness(['site']);
    health.push(readiness.check);
    const web = await startPart('HTTP', 'set HTTP_LISTEN', () => startWebServer({ ...config.http.listen, registry, health, logger, limits: config.http }));
    parts.push({ name: 'http', stop: () => web.close() });
    const site = await startPart('settings site', 'set SITE_LISTEN', () => startSettingsSite({ pool: db.pool, config, clock: systemClock, logger, registry }));
    const lineInfoWork = startLineInfoWorker({ pool: db.pool, config, clock: systemClock, logger });
    parts.push({ name: 'line-info-work', stop: () => lineInfoWork.stop() });
    parts.push({ name: 'site', stop: () => site.close() });
    readiness.up('site');
    logger.info({ http: web.port, site: site.port, sip: sip.engine?.sipAddress, smtpCatcher }, 'service ready');

    return { httpPort: web.port, sitePort: site.port, sipAddress: sip.engine?.sipAddress, smtpCatcher, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function startMedia(config: Config, srf: Srf, logger: Logger, registry: Registry): Promise<MediaServer & FaxReceiver> {
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
  // One line at start: everything else runs; FAX calls are refused (503) until it is installed.
  if (missing) logger.warn(missing);
  else await mkdir(fax.workDir, { recursive: true });
  const media = await createBuiltinMediaServer({
    host: config.media.rtpHost,
    fax,
    portMin: config.media.rtpPortMin,
    portMax: config.media.rtpPortMax,
    prompts,
    inbandDtmf: config.media.inbandDtmf,
    logger,
  });
  media.registerMetrics(registry);
  return media;
}
