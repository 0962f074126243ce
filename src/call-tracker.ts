// The calls in progress on one path (the IVR or the 着信お知らせメール B2BUA): how many there are,
// whether there is room for one more, the one place where an exception in a call's handling is
// contained (logged with the Call-ID, counted, the call released), and the shutdown drain.
// Injected into each app: no module state, so tests and several apps in one process never share it.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from './logger.ts';

/** Why the tracker itself ends a call; each kind of call adds its own reasons. */
export type TrackerReleaseReason = 'service_stopping' | 'internal_error';

export interface TrackedCall {
  readonly callId: string;
  /** Ends the call now and records it; the first release wins, later ones change nothing. */
  release(reason: TrackerReleaseReason, at: Date): void;
  /** Settles once the call is released and its record handed over. */
  readonly ended: Promise<void>;
}

export interface CallTracker {
  /** False when the configured maximum of concurrent calls is reached (the caller gets 503). */
  hasRoom(): boolean;
  /**
   * Tracks the call until it has ended and runs its handling. An exception there ends this call
   * only (release 'internal_error'), is logged with the Call-ID and counted; the process goes on.
   */
  run(call: TrackedCall, handle: () => Promise<void>): void;
  activeCalls(): number;
  /** Waits up to graceMs for the calls in progress to end, then releases the rest ('service_stopping') and waits for them. */
  drain(graceMs: number): Promise<void>;
}

/** Waits for the promises to settle, but no longer than ms (the one bounded wait used at shutdown). */
export async function settledWithin(promises: Iterable<Promise<unknown>>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled(promises), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

export interface CallTrackerOptions {
  /** 'ivr' or 'notify': names the metrics (chakushin_<kind>_active_calls, …) and the log lines. */
  kind: string;
  maxCalls: number;
  logger: Logger;
  registry?: Registry;
}

export function createCallTracker(opts: CallTrackerOptions): CallTracker {
  const { kind, maxCalls } = opts;
  const log = opts.logger.child({ part: kind });
  const calls = new Set<TrackedCall>();
  let errors: Counter | undefined;
  let refused: Counter | undefined;
  if (opts.registry) {
    new Gauge({
      name: `chakushin_${kind}_active_calls`, help: `Calls on the ${kind} path now`, registers: [opts.registry],
      collect() { this.set(calls.size); },
    });
    errors = new Counter({ name: `chakushin_${kind}_call_errors_total`, help: `Calls on the ${kind} path ended by an exception in their handling`, registers: [opts.registry] });
    refused = new Counter({ name: `chakushin_${kind}_calls_over_capacity_total`, help: `Calls refused with 503: ${kind} path at its maximum of concurrent calls`, registers: [opts.registry] });
  }

  function fail(call: TrackedCall, err: unknown): void {
    errors?.inc();
    log.error({ callId: call.callId, err: (err as Error)?.message ?? String(err), stack: (err as Error)?.stack }, 'call failed: ended');
    try {
      call.release('internal_error', new Date());
    } catch (again) {
      log.error({ callId: call.callId, err: (again as Error)?.message }, 'call release failed');
    }
  }

  return {
    hasRoom() {
      if (calls.size < maxCalls) return true;
      refused?.inc();
      log.warn({ calls: calls.size, maxCalls }, 'at the maximum of concurrent calls: 503');
      return false;
    },
    run(call, handle) {
      calls.add(call);
      void call.ended.catch((err) => fail(call, err)).finally(() => calls.delete(call));
      let running: Promise<void>;
      try {
        running = handle();
      } catch (err) {
        running = Promise.reject(err);
      }
      running.catch((err) => fail(call, err));
    },
    activeCalls: () => calls.size,
    async drain(graceMs) {
      await settledWithin([...calls].map((c) => c.ended), graceMs);
      if (calls.size) {
        log.warn({ calls: calls.size }, 'stopping with calls still up: hanging up, recorded as ended now');
        const now = new Date();
        for (const call of [...calls]) {
          try {
            call.release('service_stopping', now);
          } catch (err) {
            fail(call, err);
          }
        }
      }
      await Promise.allSettled([...calls].map((c) => c.ended));
    },
  };
}
