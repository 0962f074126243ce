// One node of the service (`chakushin start`): each external part is either the real one named in the
// config or its embedded stand-in — PostgreSQL, the SMTP catcher, the SIP engine — plus the settings
// site, the operations port, the node's lease among the nodes on the database, and N app workers
// (workers.ts) that connect to the SIP engine and hold the calls. Parts start in dependency order and
// stop in reverse: new calls refused first, then the calls drained by the workers, the database last.
import path from 'node:path';
import type { Writable } from 'node:stream';
import { AggregatorRegistry, collectDefaultMetrics, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { trustedPeerMatcher } from './domain/trusted-peers.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { startCatcherProcess } from './catcher-process.ts';
import { takeOverJournal, startNodeLease } from './node-lease.ts';
import { startFaxSweep } from './notify/fax-sweep.ts';
import { spoolReplayer } from './notify/spool.ts';
import { sipTarget } from './sip-connection.ts';
import { journalWorkers } from './store/call-journal.ts';
import { openDatabase } from './store/database.ts';
import { partsInOrder, startPart } from './start-failure.ts';
import { createReadiness } from './web/readiness.ts';
import { startWebServer, type HealthCheck } from './web/server.ts';
import { systemClock } from './domain/clock.ts';
import { startSettingsSite } from './site/index.ts';
import { startLineInfoWorker } from './site/line-info/work.ts';
import { startWorkers, type WorkerPool } from './workers.ts';

export interface Service {
  httpPort: number;
  /** Where the settings site (設定サイト) listens. */
  sitePort: number;
  /** Where the built-in SIP engine listens (undefined with a real drachtio-server). */
  sipAddress?: { host: string; port: number };
  /** Where the built-in SMTP catcher listens (undefined with a real relay). */
  smtpCatcher?: { host: string; port: number; dir: string };
  /** This node's id among the nodes sharing the database (table sip_node). */
  nodeId: string;
  /** Settles when the node must stop on its own: its lease was taken over by another node. */
  lost: Promise<void>;
  /** Stop taking calls, let calls and mails in flight finish, close the database. */
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** Where the log lines of the node's other processes (workers, catcher) go (tests); by default straight to this process's stdout and stderr. */
  workerOutput?: Writable;
}

/** Past the calls' own grace times, what a worker gets to stop before it is killed (and its calls taken over). */
const WORKER_STOP_SLACK_MS = 15_000;

export async function startService(config: Config, logger: Logger, opts: ServiceOptions = {}): Promise<Service> {
  let workers: WorkerPool | undefined;
  // From the moment the stop begins the node refuses new calls and says so to OPTIONS (503): the
  // dispatcher in front stops choosing it while the calls it has are drained.
  const parts = partsInOrder(logger, { before: () => workers?.drain() });
  const stopAll = parts.stopAll;
  try {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const health: HealthCheck[] = [];

    const db = await startPart('database', config.database.url ? 'check DATABASE_URL' : undefined, () => openDatabase(config, logger));
    parts.add('database', () => db.close());
    health.push({ name: 'database', check: async () => void (await db.pool.query('select 1')) });

    let smtpCatcher: Service['smtpCatcher'];
    if (!config.smtp.url) {
      const dir = path.join(config.varDir, 'mail');
      const catcher = await startPart('SMTP catcher', 'set SMTP_CATCHER_LISTEN', () => startCatcherProcess({
        listen: config.smtp.catcherListen, dir, logLevel: config.log.level, output: opts.workerOutput,
      }));
      parts.add('smtp-catcher', () => catcher.close());
      smtpCatcher = { host: config.smtp.catcherListen.host, port: catcher.port, dir };
    }

    // One matcher, injected: engine, admission, IVR and notify agree on who the trunk is.
    const isTrustedPeer = trustedPeerMatcher(config.sip.trustedPeers);
    const { engine, ...sip } = await startPart('SIP engine', config.sip.drachtio ? undefined : 'set SIP_LISTEN (or ENGINE_ADMIN)', () => sipTarget(config, logger, isTrustedPeer));
    if (engine) {
      parts.add('sip-engine', () => engine.close());
      engine.registerMetrics(registry);
    }
    const sipAddress = engine?.sipAddress;

    // Calls of this node's workers that died: spooled records first (a call that ended and was spooled
    // is recorded from the spool, not as crashed), then the journal's crash rules.
    const replaySpool = spoolReplayer({ dir: path.join(config.varDir, 'spool'), pool: db.pool, config, logger });
    const deaths = new Map<string, Date>();
    const nodeLog = logger.child({ part: 'node' });
    let lease: Awaited<ReturnType<typeof startNodeLease>> | undefined;
    // One recovery at a time (a death and a heartbeat may both ask): each sees what the last one left.
    let recovering: Promise<void> = Promise.resolve();
    const recoverWorkers = () => (recovering = recovering.catch(() => undefined).then(async () => {
      if (!lease || !workers) return;
      const live = workers.runs();
      const dead = (await journalWorkers(db.pool, lease.id)).filter((run) => !live.has(run));
      if (!dead.length) return;
      await replaySpool();
      for (const run of dead) await takeOverJournal(db.pool, config, nodeLog, { worker: run }, deaths.get(run) ?? new Date());
    }));
    lease = await startPart('node lease', 'check the database', () => startNodeLease({
      pool: db.pool, config, logger, sipAddress: sipAddress ? `${sipAddress.host}:${sipAddress.port}` : `drachtio ${sip.host}:${sip.port}`, onBeat: recoverWorkers,
    }));
    const nodeLease = lease;
    parts.add('node-lease', () => nodeLease.stop());

    workers = await startPart('app workers', 'see the workers\' log lines above', () => startWorkers({
      count: config.cluster.workers, config, logger, registry, output: opts.workerOutput,
      runtime: (index, run) => ({
        index, count: config.cluster.workers, run, node: nodeLease.id, databaseUrl: db.url, sip,
        ...(smtpCatcher ? { smtpCatcher: { host: smtpCatcher.host, port: smtpCatcher.port } } : {}),
      }),
      async onDeath(run, at) {
        deaths.set(run, at);
        await recoverWorkers();
        deaths.delete(run);
      },
    }));
    const pool = workers;
    parts.add('calls', () => pool.stop(Math.max(config.ivr.shutdownGraceSec, config.notify.shutdownGraceSec) * 1000 + WORKER_STOP_SLACK_MS));
    // /healthz: the database, then each worker ('worker N': its SIP connection and database), and 'sip':
    // every worker connected to the SIP engine.
    const workerHealth = async () => {
      const each = await pool.health();
      const unconnected = Object.entries(each).filter(([, v]) => v !== 'ok').map(([k]) => k);
      return { sip: unconnected.length ? `not every worker is up: ${unconnected.join(', ')}` : 'ok', ...each };
    };

    // /metrics: this process's registry and every worker's, added up metric by metric.
    const exposition = {
      contentType: registry.contentType,
      async metrics() {
        const all = [await registry.getMetricsAsJSON(), ...((await pool.metrics()) as MetricObjectWithValues<MetricValue<string>>[][])];
        return AggregatorRegistry.aggregate(all).metrics();
      },
    };
    // The operations port comes up before the site: /healthz says ready once the site listens too.
    const readiness = createReadiness(['site']);
    health.push(readiness.check);
    const web = await startPart('HTTP', 'set HTTP_LISTEN', () => startWebServer({
      ...config.http.listen, registry, exposition, health, moreHealth: workerHealth, logger, limits: config.http,
    }));
    parts.add('http', () => web.close());
    const site = await startPart('settings site', 'set SITE_LISTEN', () => startSettingsSite({ pool: db.pool, config, clock: systemClock, logger, registry }));
    const lineInfoWork = startLineInfoWorker({ pool: db.pool, config, clock: systemClock, logger });
    parts.add('line-info-work', () => lineInfoWork.stop());
    // Received FAX documents past their keeping time: one sweep per node (the rows say whose they are).
    const faxSweep = startFaxSweep({ pool: db.pool, config, logger });
    parts.add('fax-sweep', () => faxSweep.stop());
    parts.add('site', () => site.close());
    readiness.up('site');
    logger.info({ http: web.port, site: site.port, sip: sipAddress, smtpCatcher, workers: config.cluster.workers, node: nodeLease.id }, 'service ready');

    return { httpPort: web.port, sitePort: site.port, sipAddress, smtpCatcher, nodeId: nodeLease.id, lost: nodeLease.lost, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
