// The call tracker on its own: capacity, containment of a call's exception (logged with the
// Call-ID, counted), and the shutdown drain (grace, then release, then wait).
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createCallTracker, type TrackedCall, type TrackerReleaseReason } from '../../src/call-tracker.ts';
import { createLogger } from '../../src/logger.ts';

function logged() {
  const lines: string[] = [];
  const logger = createLogger('info', new Writable({ write(c, _e, done) { lines.push(String(c)); done(); } }));
  return { lines, logger };
}

class FakeCall implements TrackedCall {
  releases: { reason: TrackerReleaseReason; at: Date }[] = [];
  readonly ended: Promise<void>;
  private end!: () => void;
  constructor(readonly callId: string) {
    this.ended = new Promise((r) => (this.end = r));
  }
  release(reason: TrackerReleaseReason, at: Date) {
    this.releases.push({ reason, at });
    this.end();
  }
  hangUp() {
    this.end();
  }
}

describe('call tracker', () => {
  it('has room up to maxCalls, counts the refusals, and frees a place when a call ends', async () => {
    const registry = new Registry();
    const t = createCallTracker({ kind: 'test', maxCalls: 2, logger: logged().logger, registry });
    const calls = [new FakeCall('a'), new FakeCall('b')];
    for (const c of calls) {
      expect(t.hasRoom()).toBe(true);
      t.run(c, async () => undefined);
    }
    expect(t.activeCalls()).toBe(2);
    expect(t.hasRoom()).toBe(false);
    expect(await registry.getSingleMetricAsString('chakushin_test_calls_over_capacity_total')).toMatch(/ 1$/m);
    calls[0]!.hangUp();
    await calls[0]!.ended;
    await new Promise((r) => setImmediate(r));
    expect(t.activeCalls()).toBe(1);
    expect(t.hasRoom()).toBe(true);
    expect(await registry.getSingleMetricAsString('chakushin_test_active_calls')).toMatch(/ 1$/m);
  });

  it('an exception in a call’s handling (thrown or rejected) releases that call only, logged with its Call-ID and counted', async () => {
    const registry = new Registry();
    const { lines, logger } = logged();
    const t = createCallTracker({ kind: 'test', maxCalls: 10, logger, registry });
    const thrower = new FakeCall('thrower@x');
    const rejecter = new FakeCall('rejecter@x');
    const fine = new FakeCall('fine@x');
    t.run(thrower, () => { throw new Error('boom'); });
    t.run(rejecter, async () => { throw new TypeError('bad'); });
    t.run(fine, async () => undefined);
    await Promise.all([thrower.ended, rejecter.ended]);
    expect(thrower.releases.map((r) => r.reason)).toEqual(['internal_error']);
    expect(rejecter.releases.map((r) => r.reason)).toEqual(['internal_error']);
    expect(fine.releases).toEqual([]);
    expect(await registry.getSingleMetricAsString('chakushin_test_call_errors_total')).toMatch(/ 2$/m);
    const failures = lines.filter((l) => l.includes('call failed: ended'));
    expect(failures.map((l) => JSON.parse(l).callId).sort()).toEqual(['rejecter@x', 'thrower@x']);
  });

  it('drain waits the grace for calls to end, then releases the rest at one moment and waits for them', async () => {
    const t = createCallTracker({ kind: 'test', maxCalls: 10, logger: logged().logger });
    const quick = new FakeCall('quick');
    const slow1 = new FakeCall('slow1');
    const slow2 = new FakeCall('slow2');
    for (const c of [quick, slow1, slow2]) t.run(c, async () => undefined);
    setTimeout(() => quick.hangUp(), 50);
    const started = Date.now();
    await t.drain(300);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(quick.releases).toEqual([]);
    expect(slow1.releases.map((r) => r.reason)).toEqual(['service_stopping']);
    expect(slow1.releases[0]!.at).toEqual(slow2.releases[0]!.at);
    expect(t.activeCalls()).toBe(0);
  });

  it('drain returns at once when every call ends within the grace', async () => {
    const t = createCallTracker({ kind: 'test', maxCalls: 10, logger: logged().logger });
    const c = new FakeCall('c');
    t.run(c, async () => undefined);
    setTimeout(() => c.hangUp(), 20);
    const started = Date.now();
    await t.drain(10_000);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(c.releases).toEqual([]);
  });
});
