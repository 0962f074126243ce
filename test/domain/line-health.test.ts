import { describe, expect, it } from 'vitest';
import { afterResult, NEW_LINE, probeResult, type HealthChange, type LineHealth, type ProbeResult } from '../../src/domain/line-health.ts';

const RULES = { downAfter: 3, upAfter: 2, holdDownMs: 60_000 };
const T0 = Date.parse('2026-12-05T01:00:00Z');

/** Feeds results one second apart from `start` (seconds after T0); returns the changes in order and the last health. */
function run(results: ProbeResult[], from: LineHealth = NEW_LINE, start = 0): { changes: (HealthChange | undefined)[]; health: LineHealth } {
  let health = from;
  const changes = results.map((r, i) => {
    const step = afterResult(health, r, new Date(T0 + (start + i) * 1000), RULES);
    health = step.health;
    return step.change;
  });
  return { changes, health };
}

const up: LineHealth = { state: 'up', fails: 0, answers: 5, downAt: null, recovered: false };

describe('probe results', () => {
  it.each([
    [200, 'answered'],
    [405, 'answered'],
    [501, 'answered'],
    [486, 'answered'],
    [404, 'answered'],
    [480, 'answered'],
    [408, 'timeout'],
    [503, 'unavailable'],
    [undefined, 'timeout'],
  ] as const)('%s → %s for a SIP target', (status, result) => {
    expect(probeResult(status)).toBe(result);
  });

  it('at the next hop, the switch answering 404/480 for the line is a failure', () => {
    expect(probeResult(480, [404, 480])).toBe('unreachable_at_next_hop');
    expect(probeResult(404, [404, 480])).toBe('unreachable_at_next_hop');
    expect(probeResult(405, [404, 480])).toBe('answered');
  });
});

describe('故障 and 回復', () => {
  it('a new line that answers is seen up without a mail', () => {
    expect(run(['answered', 'answered']).changes).toEqual([undefined, 'seen']);
  });

  it('a new line that never answers is 故障 after downAfter failures', () => {
    expect(run(['timeout', 'unavailable', 'timeout']).changes).toEqual([undefined, undefined, 'down']);
  });

  it('故障 needs downAfter failures in a row; an answer starts the count again', () => {
    expect(run(['timeout', 'timeout', 'answered', 'timeout', 'timeout'], up).changes).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(run(['timeout', 'timeout', 'timeout'], up).changes).toEqual([undefined, undefined, 'down']);
  });

  it('a failed call counts as a failed probe', () => {
    expect(run(['call_failed', 'timeout', 'call_failed'], up).changes.at(-1)).toBe('down');
  });

  it('回復 needs upAfter answers in a row after 故障', () => {
    const down = run(['timeout', 'timeout', 'timeout'], up).health;
    expect(down.state).toBe('down');
    expect(run(['answered', 'timeout', 'answered', 'answered'], down, 10).changes).toEqual([undefined, undefined, undefined, 'up']);
  });

  it('a line already down stays down without another 故障', () => {
    const down = run(['timeout', 'timeout', 'timeout'], up).health;
    expect(run(['timeout', 'timeout', 'timeout', 'timeout'], down, 3).changes).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe('hold-down: one 故障/回復 pair per period', () => {
  it('a second 故障 inside the period is held back, then declared once the period is over if the line still fails', () => {
    // 故障 at 2 s, 回復 at 4 s, failing again from 5 s: held until 62 s (the period from the 故障 at 2 s).
    const first = run(['timeout', 'timeout', 'timeout', 'answered', 'answered'], up);
    expect(first.changes).toEqual([undefined, undefined, 'down', undefined, 'up']);
    const again = run(['timeout', 'timeout', 'timeout', 'timeout'], first.health, 5);
    expect(again.changes).toEqual([undefined, undefined, 'held', 'held']);
    expect(again.health.state).toBe('up');
    const later = afterResult(again.health, 'timeout', new Date(T0 + 62_000), RULES);
    expect(later.change).toBe('down');
  });

  it('a held-back 故障 that recovers inside the period is never told', () => {
    const first = run(['timeout', 'timeout', 'timeout', 'answered', 'answered'], up);
    const flap = run(['timeout', 'timeout', 'timeout', 'answered', 'answered', 'timeout', 'timeout', 'timeout'], first.health, 5);
    expect(flap.changes.filter((c) => c === 'down' || c === 'up')).toEqual([]);
  });

  it('the 回復 of a 故障 is never held back', () => {
    const down = run(['timeout', 'timeout', 'timeout'], up).health;
    expect(run(['answered', 'answered'], down, 3).changes).toEqual([undefined, 'up']);
  });
});
