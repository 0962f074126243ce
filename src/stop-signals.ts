// SIGINT and SIGTERM, for the whole life of a process that stops in order (`chakushin start`,
// `chakushin engine`, and each process `npm start` runs).
//
// A terminal's Ctrl-C, systemd and `kill -- -PGID` signal the whole process group, and npm forwards
// what it receives to its child: one Ctrl-C reaches the service two times. A `process.once` listener
// leaves the second one to Node's default action, which kills the process before its drain, and the
// embedded PostgreSQL (its own session, out of the group's reach) keeps running. So every signal is
// handled as long as the process lives: the first asks for the stop, each later one is only logged
// (the stop is under way and bounded: calls get their grace, the database stops last). None ends the
// process: it exits when its stop is done.
// A process that starts children it must stop in order (an engine, workers) starts them in a process
// group of their own (`detached`), as the embedded PostgreSQL and its initdb are, so the group's signal
// reaches the parent only and the parent stops each child itself.
import type { Logger } from './logger.ts';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

export interface StopRequest {
  /** Settles with the first signal received. */
  readonly requested: Promise<StopSignal>;
}

/** Call once, before the process starts anything it must stop: from then on SIGINT and SIGTERM never kill it. */
export function listenForStop(logger: Logger): StopRequest {
  let ask!: (signal: StopSignal) => void;
  const requested = new Promise<StopSignal>((resolve) => (ask = resolve));
  let received = 0;
  const onSignal = (signal: StopSignal) => {
    received++;
    if (received === 1) ask(signal);
    else logger.info({ signal, received }, 'stop already under way');
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return { requested };
}

/** A command cut short by a signal: the CLI says so and exits 128 + the signal's number. */
export class Interrupted extends Error {
  constructor(readonly signal: StopSignal) {
    super(`interrupted by ${signal}`);
    this.name = 'Interrupted';
  }
}
