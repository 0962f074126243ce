// 故障・回復通知: the prober. Every tick it leases the lines that are due (store/line-probes.ts),
// sends each an OPTIONS, and applies the answers it has (events.ts) in one transaction. Any number
// of probers — one per worker, per node, per machine — share the lines through the database: a line
// is probed by one instance at a time, and its state only changes under its row lock.
//
// What is probed: a number's SIP target (numbers sharing one are one line), or, for a number without
// one, the number at notify.nextHop (`sip:<number>@<next hop>`, the Request-URI a call to it gets):
// the switch delivers the OPTIONS to the line or answers for it (404/480 when it cannot reach it,
// failureNotice.nextHopFailureStatuses).
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type Srf from 'drachtio-srf';
import type pg from 'pg';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Config } from '../config.ts';
import { LINE_STATES, isLineFailureStatus, probeResult } from '../domain/line-health.ts';
import { requestUriAtNextHop } from '../domain/next-hop.ts';
import { claimDueLines, countLinesByState, isNumberLine, releaseLeases, type LineKey } from '../store/line-probes.ts';
import { applyCallFailure, applyProbeOutcomes, type AppliedChange, type ProbeOutcome } from './events.ts';

export interface LineProberOptions {
  srf: Srf;
  pool: pg.Pool;
  config: Pick<Config, 'failureNotice' | 'notify' | 'mail'>;
  logger: Logger;
  registry?: Registry;
  /** This instance's name on the leases (default host/pid/random). */
  holder?: string;
}

export interface LineProber {
  readonly holder: string;
  /**
   * A call to `number` timed out or got `status` 503 on its line (the notify path's hook): one failed
   * probe at once. Other statuses are ignored, so the caller need not filter.
   */
  callFailed(number: string, status: number): void;
  /** Stops claiming, drops the probes still out, writes the answers in and gives the leases back. */
  stop(): Promise<void>;
}

type SendRequest = (uri: string, opts: { method: string; headers: Record<string, string> }, cb: (err: Error | null, req?: Srf.SrfRequest) => void) => void;

/** Lines claimed per tick at most (the rest wait for the next tick). */
const CLAIM_BATCH = 500;
/** How long a lease outlives the probe's own timeout: time to write the answer in. */
const LEASE_SLACK_SEC = 10;
/** chakushin_line_state is read from the database at most this often. */
const STATE_METRIC_TTL_MS = 5_000;

export function startLineProber(opts: LineProberOptions): LineProber {
  const { srf, pool, config } = opts;
  const fn = config.failureNotice;
  const log = opts.logger.child({ part: 'line-prober' });
  const holder = opts.holder ?? `${os.hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
  const leaseSec = fn.probeTimeoutSec + LEASE_SLACK_SEC;
  const metrics = opts.registry ? proberMetrics(opts.registry, pool, log) : undefined;

  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight = 0;
  /** Answers in, not yet written. */
  let answers: ProbeOutcome[] = [];
  /** Probes out, by line: their timers, so a stop drops them at once. */
  const out = new Map<string, NodeJS.Timeout>();
  const pending = new Set<Promise<unknown>>();
  let noNextHopLogged = false;

  function track<T>(p: Promise<T>): Promise<T> {
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    return p;
  }

  function changed(changes: AppliedChange[]): void {
    for (const c of changes) {
      if (c.change === 'held') log.info({ contract: c.contractId, line: c.line }, '故障 held back by the hold-down period');
      if (c.change !== 'down' && c.change !== 'up') continue;
      metrics?.events.inc({ kind: c.change });
      log.warn({ contract: c.contractId, line: c.line, mails: c.mails, bulkForward: c.bulkForward }, c.change === 'down' ? '故障: the line does not answer' : '回復: the line answers again');
    }
  }

  /** Where the OPTIONS goes; undefined when the line is a number and there is no notify.nextHop. */
  function probeUri(line: string): string | undefined {
    if (!isNumberLine(line)) return line;
    const hop = config.notify.nextHop;
    return hop ? requestUriAtNextHop(`sip:${line}@chakushin.invalid`, hop) : undefined;
  }

  function settle(key: LineKey, result: string, status: number | null): void {
    const id = `${key.contractId}\n${key.line}`;
    const t = out.get(id);
    if (t === undefined) return; // settled already (answer after the timeout), or dropped by a stop
    clearTimeout(t);
    out.delete(id);
    inFlight--;
    metrics?.probes.inc({ result });
    answers.push({ ...key, result, status, at: new Date() });
  }

  function probe(key: LineKey): void {
    const id = `${key.contractId}\n${key.line}`;
    inFlight++;
    out.set(id, setTimeout(() => settle(key, probeResult(undefined), null), fn.probeTimeoutSec * 1000));
    const uri = probeUri(key.line);
    if (!uri) {
      if (!noNextHopLogged) log.error({ line: key.line }, 'a line without a SIP target cannot be probed: notify.nextHop is not set');
      noNextHopLogged = true;
      return settle(key, 'not_sent', null);
    }
    const nextHopFailures = isNumberLine(key.line) ? fn.nextHopFailureStatuses : [];
    // The callback form: drachtio-srf calls it as the engine confirms the send, before it reads the
    // next frame, which may already hold the answer (a promise's then() would run after that frame).
    // Its typings know another shape.
    const notSent = (err?: Error | null) => {
      log.warn({ line: key.line, err: err?.message }, 'probe not sent');
      settle(key, 'not_sent', null);
    };
    try {
      (srf.request as unknown as SendRequest).call(srf, uri, { method: 'OPTIONS', headers: { Accept: 'application/sdp' } }, (err, req) => {
        if (err || !req) return notSent(err);
        req.on('response', (res?: Srf.SrfResponse) => {
          if (res && res.status >= 200) settle(key, probeResult(res.status, nextHopFailures), res.status);
        });
      });
    } catch (err) {
      // Not connected to drachtio (it throws): nothing is learnt about the line.
      notSent(err as Error);
    }
  }

  async function tick(): Promise<void> {
    const batch = answers;
    answers = [];
    if (batch.length) changed(await applyProbeOutcomes(pool, config, holder, batch));
    const room = Math.min(CLAIM_BATCH, fn.maxInFlight - inFlight);
    if (stopping || room <= 0) return;
    for (const key of await claimDueLines(pool, { holder, leaseSec, limit: room })) {
      if (stopping) break;
      probe(key);
    }
  }

  function schedule(): void {
    if (stopping) return;
    timer = setTimeout(() => {
      void track(tick())
        .catch((err: Error) => log.warn({ err: err.message }, 'probe round failed; trying again at the next tick'))
        .finally(schedule);
    }, fn.tickMs);
  }
  schedule();
  log.info({ holder, intervalSec: fn.probeIntervalSec }, 'line prober started');

  return {
    holder,
    callFailed(number, status) {
      if (stopping || !isLineFailureStatus(status)) return;
      metrics?.callFailures.inc();
      void track(applyCallFailure(pool, config, number, status, new Date()))
        .then((c) => c && changed([c]))
        .catch((err: Error) => log.warn({ number, err: err.message }, 'cannot count the failed call against its line'));
    },
    async stop() {
      stopping = true;
      clearTimeout(timer);
      for (const t of out.values()) clearTimeout(t);
      inFlight -= out.size;
      out.clear();
      await Promise.allSettled([...pending]);
      try {
        changed(await applyProbeOutcomes(pool, config, holder, answers));
        answers = [];
        await releaseLeases(pool, holder);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'cannot write the last probe answers; their leases run out by themselves');
      }
    },
  };
}

function proberMetrics(registry: Registry, pool: pg.Pool, log: Logger) {
  let counts: Record<string, number> | undefined;
  let readAt = 0;
  new Gauge({
    name: 'chakushin_line_state',
    help: 'Probed lines (故障・回復通知) per state, over every instance (read from the database)',
    labelNames: ['state'],
    registers: [registry],
    // The same database count on every worker: aggregated, it is not summed.
    aggregator: 'first',
    async collect() {
      if (Date.now() - readAt > STATE_METRIC_TTL_MS) {
        try {
          counts = await countLinesByState(pool);
          readAt = Date.now();
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'cannot count lines for chakushin_line_state');
        }
      }
      for (const s of LINE_STATES) if (counts) this.set({ state: s }, counts[s] ?? 0);
    },
  });
  return {
    probes: new Counter({ name: 'chakushin_line_probes_total', help: 'OPTIONS probes of lines by this instance, by result', labelNames: ['result'], registers: [registry] }),
    callFailures: new Counter({ name: 'chakushin_line_call_failures_total', help: 'Calls to probed lines that timed out or got 503, counted as failed probes', registers: [registry] }),
    events: new Counter({ name: 'chakushin_line_events_total', help: '故障 (down) and 回復 (up) declared by this instance', labelNames: ['kind'], registers: [registry] }),
  };
}
