// The node's app workers: N processes (`chakushin worker`, one per core by default), each an app of the
// SIP engine (worker.ts). The node starts them, tells them to drain and stop, asks them for health and
// metrics over their IPC channel, and restarts one that dies — after its calls have been taken over
// (the node passes onDeath). A worker whose node disappears (its IPC channel closes) exits at once:
// its calls are then another node's to take over once this node's lease runs out. A worker signalled
// on its own (SIGTERM to its pid) stops cleanly, as the node would have stopped it, and is replaced.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { StartFailure } from './start-failure.ts';
import type { WorkerRuntime } from './worker.ts';

/** The CLI the node starts its processes with (`chakushin worker`, `chakushin catcher`). */
export const CLI_BIN = path.resolve(import.meta.dirname, 'cli/bin.mjs');

/** node → worker */
export type ToWorker =
  | { t: 'init'; config: Config; runtime: WorkerRuntime }
  | { t: 'drain' }
  | { t: 'stop' }
  | { t: 'ask'; id: number; what: 'health' | 'metrics' };
/** worker → node */
export type FromWorker = { t: 'ready' } | { t: 'failed'; message: string } | { t: 'answer'; id: number; value: unknown };

export interface WorkerPoolOptions {
  count: number;
  config: Config;
  logger: Logger;
  /** What worker `index` of this node needs to know, for its run `run`. */
  runtime(index: number, run: string): WorkerRuntime;
  /** A worker died (not stopped by the node): its calls are taken over before it is replaced. */
  onDeath(run: string, at: Date): Promise<void>;
  /** Where the workers' log lines go; by default they write to this process's stdout and stderr. */
  output?: Writable;
  registry?: Registry;
  /** Replacement delay after a death; doubled while workers keep dying young, up to 30 s. */
  restartDelayMs?: number;
}

export interface WorkerPool {
  /** Every worker refuses new calls (and answers OPTIONS 503) from now on. */
  drain(): void;
  /** Stops every worker (drain, calls, mails); one still running after deadlineMs is killed and taken over. */
  stop(deadlineMs: number): Promise<void>;
  /** 'worker N' → 'ok' or what is wrong. */
  health(): Promise<Record<string, string>>;
  /** Each worker's metrics as prom-client JSON. */
  metrics(): Promise<unknown[]>;
  /** The runs of the worker processes alive now (starting, up or stopping). */
  runs(): Set<string>;
}

interface Slot {
  index: number;
  run: string;
  child: ChildProcess;
  readyAt?: number;
  exited: Promise<void>;
  asks: Map<number, (v: unknown) => void>;
}

const ASK_TIMEOUT_MS = 2_000;
const YOUNG_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;

export async function startWorkers(opts: WorkerPoolOptions): Promise<WorkerPool> {
  const log = opts.logger.child({ part: 'workers' });
  const slots: (Slot | undefined)[] = new Array(opts.count).fill(undefined);
  const baseDelay = opts.restartDelayMs ?? 1_000;
  const delays = new Array<number>(opts.count).fill(baseDelay);
  let stopping = false;
  let draining = false;
  let nextAsk = 1;
  let restarts: Counter | undefined;
  if (opts.registry) {
    new Gauge({
      name: 'chakushin_workers', help: 'App workers of this node that are up', registers: [opts.registry],
      collect() { this.set(slots.filter((s) => s?.readyAt).length); },
    });
    restarts = new Counter({ name: 'chakushin_worker_restarts_total', help: 'App workers that died and were replaced', registers: [opts.registry] });
  }

  function send(slot: Slot, m: ToWorker): void {
    if (slot.child.connected) slot.child.send(m, () => undefined);
  }

  /** Starts worker `index`; resolves once it is ready, rejects when it fails to start. */
  function spawnWorker(index: number): Promise<Slot> {
    const run = `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
    // A process group of its own (stop-signals.ts): a terminal's Ctrl-C reaches the node only, and the
    // node stops its workers itself, calls first, before the engine they run on.
    const child = fork(CLI_BIN, ['worker'], { stdio: opts.output ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'], detached: true });
    if (opts.output) {
      // Whole lines only, so a worker's line never lands inside another process's.
      for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (l) => opts.output!.write(`${l}\n`));
    }
    let gone!: () => void;
    const slot: Slot = { index, run, child, asks: new Map(), exited: new Promise((r) => (gone = r)) };
    slots[index] = slot;
    // exited settles once the worker's calls have been taken over too.
    child.once('exit', (code, signal) => void died(slot, code, signal).finally(gone));
    child.on('message', (m: FromWorker) => {
      if (m.t === 'answer') {
        slot.asks.get(m.id)?.(m.value);
        slot.asks.delete(m.id);
      }
    });
    child.on('error', (err) => log.error({ worker: index + 1, err: err.message }, 'worker process error'));
    return new Promise<Slot>((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.t === 'ready') {
          slot.readyAt = Date.now();
          if (draining) send(slot, { t: 'drain' });
          resolve(slot);
        } else if (m.t === 'failed') reject(new StartFailure(m.message));
        if (m.t !== 'answer') child.off('message', onMessage);
      };
      child.on('message', onMessage);
      void slot.exited.then(() => reject(new StartFailure(`worker ${index + 1} exited before it was ready`)));
      send(slot, { t: 'init', config: opts.config, runtime: opts.runtime(index, run) });
    });
  }

  async function died(slot: Slot, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    for (const answer of slot.asks.values()) answer(undefined);
    const at = new Date();
    if (!stopping && slot.readyAt) log.error({ worker: slot.index + 1, run: slot.run, code, signal }, 'worker died; its calls are recorded and it is replaced');
    try {
      await opts.onDeath(slot.run, at);
    } catch (err) {
      log.error({ worker: slot.index + 1, err: (err as Error).message }, 'cannot take over the calls of the worker that died; its node lease will');
    }
    // One that never became ready failed to start: startWorkers or the restart says so.
    if (stopping || !slot.readyAt || slots[slot.index] !== slot) return;
    restarts?.inc();
    const young = Date.now() - slot.readyAt < YOUNG_MS;
    const delay = young ? delays[slot.index]! : baseDelay;
    delays[slot.index] = young ? Math.min(MAX_RESTART_DELAY_MS, delay * 2) : baseDelay;
    slots[slot.index] = undefined;
    setTimeout(() => {
      if (stopping) return;
      spawnWorker(slot.index).then(
        () => log.info({ worker: slot.index + 1 }, 'worker replaced'),
        (err: Error) => log.error({ worker: slot.index + 1, err: err.message }, 'replacement worker failed to start'),
      );
    }, delay).unref();
  }

  async function ask(slot: Slot, what: 'health' | 'metrics'): Promise<unknown> {
    if (!slot.child.connected) return undefined;
    const id = nextAsk++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        slot.asks.delete(id);
        resolve(undefined);
      }, ASK_TIMEOUT_MS);
      slot.asks.set(id, (v) => {
        clearTimeout(timer);
        resolve(v);
      });
      send(slot, { t: 'ask', id, what });
    });
  }

  async function stop(deadlineMs: number): Promise<void> {
    stopping = true;
    const live = slots.filter((s): s is Slot => !!s);
    for (const s of live) send(s, { t: 'stop' });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(live.map((s) => s.exited)), new Promise((r) => (timer = setTimeout(r, deadlineMs)))]);
    clearTimeout(timer);
    for (const s of live) {
      if (s.child.exitCode !== null || s.child.signalCode !== null) continue;
      log.error({ worker: s.index + 1 }, 'worker did not stop in time: killed, its calls taken over');
      s.child.kill('SIGKILL');
    }
    await Promise.all(live.map((s) => s.exited));
  }

  try {
    await Promise.all(slots.map((_, i) => spawnWorker(i)));
  } catch (err) {
    await stop(5_000);
    throw err;
  }
  log.info({ workers: opts.count }, 'workers ready');
  return {
    drain() {
      draining = true;
      for (const s of slots) if (s) send(s, { t: 'drain' });
    },
    stop,
    async health() {
      const out: Record<string, string> = {};
      await Promise.all(slots.map(async (s, i) => {
        if (!s?.readyAt) return void (out[`worker ${i + 1}`] = 'restarting');
        const checks = (await ask(s, 'health')) as Record<string, string> | undefined;
        const bad = checks ? Object.entries(checks).filter(([, v]) => v !== 'ok').map(([k, v]) => `${k}: ${v}`) : ['no answer'];
        out[`worker ${i + 1}`] = bad.length ? bad.join('; ') : 'ok';
      }));
      return out;
    },
    runs: () => new Set(slots.filter((s): s is Slot => !!s && s.child.exitCode === null && s.child.signalCode === null).map((s) => s.run)),
    async metrics() {
      const all = await Promise.all(slots.map((s) => (s?.readyAt ? ask(s, 'metrics') : undefined)));
      return all.filter((m) => m !== undefined);
    },
  };
}
