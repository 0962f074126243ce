// This node's place among the nodes sharing the database: a lease it renews every heartbeat, and the
// takeover of the calls of nodes whose lease ran out (one node was lost for good) — recorded once by the
// crash rules, their ringing lines CANCELled (RFC 3261 §9.1) from the journaled INVITEs.
//
// A node takes others over only after its own lease has been renewed without a break for a whole lease
// time: after a database outage every lease has run out, and the nodes coming back must not take each
// other's calls. A node that finds its own lease taken (it was cut off from the database for longer than
// the lease) must stop: its calls have been recorded and their lines CANCELled by another node.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { takeOverCalls } from './notify/takeover.ts';
import { sendCancel } from './notify/leg-cancel.ts';
import { journalRows, journalWorkers } from './store/call-journal.ts';
import { claimNode, expiredNodes, registerNode, removeNode, renewLease } from './store/nodes.ts';

/** What a takeover's CANCEL tells the line. */
export const TAKEOVER_REASON = 'SIP;cause=480;text="Node lost"';

export interface NodeLease {
  readonly id: string;
  /** Settles when this node has lost its lease to another node and must stop. */
  readonly lost: Promise<void>;
  /**
   * Stops renewing and removes the node's row — unless calls of this node are still in the journal (the
   * database failed them at the stop): then the lease runs out and another node takes them over.
   */
  stop(): Promise<void>;
}

export interface NodeLeaseOptions {
  pool: pg.Pool;
  config: Pick<Config, 'cluster' | 'mail' | 'notify'>;
  logger: Logger;
  sipAddress: string;
  /** Runs on every heartbeat (the node's own upkeep: calls of workers that died). */
  onBeat?: () => Promise<void>;
}

/**
 * Records the calls `of` a dead worker run or node left in the journal and CANCELs the lines that may
 * still ring. Throws when the database cannot take the records (the caller tries again later).
 */
export async function takeOverJournal(pool: pg.Pool, config: Pick<Config, 'mail' | 'notify'>, log: Logger, of: { worker: string } | { node: string }, lastKnown: Date): Promise<void> {
  const rows = await journalRows(pool, of);
  if (!rows.length) return;
  const taken = await takeOverCalls(pool, config, rows, lastKnown, log);
  log.warn({ ...of, calls: rows.length, recorded: taken.recorded, cancels: taken.ringing.length }, 'calls taken over');
  await Promise.all(taken.ringing.map((leg) =>
    sendCancel(leg, TAKEOVER_REASON).catch((err: Error) => log.warn({ callId: leg.callId, err: err.message }, 'cannot CANCEL the line of a call taken over'))));
}

export async function startNodeLease(opts: NodeLeaseOptions): Promise<NodeLease> {
  const { pool, config } = opts;
  const { leaseSec, heartbeatSec } = config.cluster;
  const log = opts.logger.child({ part: 'node-lease' });
  const id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  let healthySince = await registerNode(pool, { id, host: hostname(), sipAddress: opts.sipAddress, pid: process.pid, leaseSec });
  let healthy = true;
  let stopped = false;
  let lostIt!: () => void;
  const lost = new Promise<void>((r) => (lostIt = r));
  let beating: Promise<void> | undefined;

  async function takeOverDeadNodes(now: Date): Promise<void> {
    if (now.getTime() - healthySince.getTime() < leaseSec * 1000) return;
    for (const victim of await expiredNodes(pool, id)) {
      const lastKnown = await claimNode(pool, victim, id, leaseSec);
      if (!lastKnown) continue;
      log.warn({ node: victim, lastKnown }, 'node lease ran out: taking its calls over');
      await takeOverJournal(pool, config, log, { node: victim }, lastKnown);
      await removeNode(pool, victim);
    }
  }

  async function beat(): Promise<void> {
    let now: Date | undefined;
    try {
      now = await renewLease(pool, id, leaseSec);
    } catch (err) {
      if (healthy) log.warn({ err: (err as Error).message }, 'cannot renew the node lease; retrying');
      healthy = false;
      return;
    }
    if (!now) {
      log.error({ node: id }, 'this node\'s lease was taken over by another node (cut off from the database for longer than the lease): stopping');
      stopped = true;
      lostIt();
      return;
    }
    if (!healthy) {
      healthy = true;
      healthySince = now;
      log.info('node lease renewed again');
    }
    try {
      await opts.onBeat?.();
      await takeOverDeadNodes(now);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'takeover round failed; retried next heartbeat');
    }
  }

  const timer = setInterval(() => {
    if (!beating && !stopped) beating = beat().finally(() => (beating = undefined));
  }, heartbeatSec * 1000);
  timer.unref();
  log.info({ node: id, leaseSec }, 'node registered');
  return {
    id,
    lost,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await beating;
      try {
        if ((await journalWorkers(pool, id)).length) log.error({ node: id }, 'calls of this node are still in the journal: another node takes them over once its lease runs out');
        else await removeNode(pool, id);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'cannot remove the node\'s row; it expires with its lease');
      }
    },
  };
}
