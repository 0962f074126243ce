// 故障・回復通知: how what a line says to probes (and to calls) becomes 故障 and 回復. Pure; the
// prober (src/failure/) feeds it each result under the line's row lock, so every instance applies
// the same rule to the same committed state.
//
// - A line is 故障 after `downAfter` consecutive failures and 回復 after `upAfter` consecutive
//   answers (Kamailio's dispatcher counts the same way: ds_probing_threshold / ds_inactive_threshold).
// - An answer is any final response but 408 and 503: many phones answer OPTIONS 405 or 501, and
//   they are there. 408 (a timeout, usually made by our own stack) and 503 are failures, as is no
//   final response within the probe timeout. At notify.nextHop the switch answers for a line it
//   cannot reach (404, 480 for a subscriber not registered): those count as failures there too.
// - A call to the line that times out or gets 503 counts as one failed probe at once.
// - Hold-down: at most one 故障/回復 pair per line per hold-down period. The period starts at a
//   故障; its 回復 is always declared (the customer wants to know it is back), but a second 故障
//   inside the period is held back until the period is over and declared then if the line is
//   still failing. So mails lag a flapping line by at most the period, and the last state is
//   always told.

export const LINE_STATES = ['unknown', 'up', 'down'] as const;
/** unknown: probed, no verdict yet (a new line); up: there; down: 故障. */
export type LineState = (typeof LINE_STATES)[number];

/**
 * What one probe or call said. answered: a final response that shows the line is there;
 * timeout: no final response in time, or 408; unavailable: 503; unreachable_at_next_hop: the
 * switch answered for the line that it cannot reach it; call_failed: a call to the line timed
 * out or got 503.
 */
export const PROBE_RESULTS = ['answered', 'timeout', 'unavailable', 'unreachable_at_next_hop', 'call_failed'] as const;
export type ProbeResult = (typeof PROBE_RESULTS)[number];

/** Statuses of a call to the line that count as a failed probe. */
export function isLineFailureStatus(status: number): boolean {
  return status === 408 || status === 503;
}

/**
 * The result of one OPTIONS probe: `status` is its final response (undefined: none within the
 * probe timeout). `nextHopFailures`: statuses the switch at notify.nextHop answers for a line it
 * cannot reach (only for lines reached there).
 */
export function probeResult(status: number | undefined, nextHopFailures: readonly number[] = []): ProbeResult {
  if (status === undefined || status === 408) return 'timeout';
  if (status === 503) return 'unavailable';
  if (nextHopFailures.includes(status)) return 'unreachable_at_next_hop';
  return 'answered';
}

export interface LineHealth {
  state: LineState;
  /** Consecutive failures / answers up to now. */
  fails: number;
  answers: number;
  /** The last 故障 declared (the hold-down period runs from it); null before the first. */
  downAt: Date | null;
  /** A 回復 has been declared since downAt: the period's pair is complete. */
  recovered: boolean;
}

export interface HealthRules {
  downAfter: number;
  upAfter: number;
  holdDownMs: number;
}

/**
 * down: 故障 (mailed); up: 回復 (mailed); seen: a new line's first verdict is "there" (no mail:
 * nothing happened to it); held: 故障 is due but held back by the hold-down period.
 */
export type HealthChange = 'down' | 'up' | 'seen' | 'held';

export const NEW_LINE: LineHealth = { state: 'unknown', fails: 0, answers: 0, downAt: null, recovered: false };

/** The line after one more result, and what it changed. */
export function afterResult(h: LineHealth, result: ProbeResult, at: Date, rules: HealthRules): { health: LineHealth; change?: HealthChange } {
  const answered = result === 'answered';
  const next: LineHealth = { ...h, fails: answered ? 0 : h.fails + 1, answers: answered ? h.answers + 1 : 0 };
  if (!answered && next.fails >= rules.downAfter && h.state !== 'down') {
    const holding = h.downAt !== null && h.recovered && at.getTime() < h.downAt.getTime() + rules.holdDownMs;
    if (holding) return { health: next, change: 'held' };
    return { health: { ...next, state: 'down', downAt: at, recovered: false }, change: 'down' };
  }
  if (answered && next.answers >= rules.upAfter && h.state !== 'up') {
    if (h.state === 'down') return { health: { ...next, state: 'up', recovered: true }, change: 'up' };
    return { health: { ...next, state: 'up' }, change: 'seen' };
  }
  return { health: next };
}
