// One call's trouble stays that call's: beyond ivr.maxCalls a caller gets 503 (Retry-After) and the
// calls in progress go on; an exception in one call's handling ends that call with a clean answer,
// is logged with its Call-ID and counted in /metrics, and the next call is served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sippSummary } from '../support/sipp.ts';
import { ACCESS, startIvrHarness, type IvrHarness } from './harness.ts';

let h: IvrHarness;
beforeAll(async () => {
  h = await startIvrHarness({ ivr: { maxCalls: 1, shutdownGraceSec: 1 } });
});
afterAll(async () => {
  await h?.stop();
});

const FAIL_KEYS = { from: '<sip:0611112222@127.0.0.1>', hdr1: 'P-Asserted-Identity: <tel:0611112222>', hdr2: 'X-Test: 1' };
const finalTo = (messages: string) => [...messages.matchAll(/^SIP\/2\.0 (\d{3}) /gm)].map((m) => Number(m[1])).find((c) => c >= 200);

describe('temp-password IVR under load and faults', () => {
  it('at ivr.maxCalls, the next caller gets 503 with Retry-After; the call in progress is untouched', async () => {
    const first = h.call('ivr-silent-caller.xml', { caller: '0611115555', dialled: ACCESS.A_WEST });
    await new Promise((r) => setTimeout(r, 1_500));
    const { sipp } = await h.call('notify-uac-fail.xml', { caller: '0611112222', dialled: ACCESS.A_WEST, keys: FAIL_KEYS });
    expect(finalTo(sipp.messages), sippSummary(sipp)).toBe(503);
    expect(sipp.messages).toMatch(/^Retry-After: 5/m);
    expect(await h.metrics()).toMatch(/^chakushin_ivr_calls_over_capacity_total 1$/m);
    await h.service.stop();
    expect((await h.ivrCall((await first).callId)).outcome).toBe('cut_off');
  }, 60_000);
});

describe('an exception in one call', () => {
  let broken: IvrHarness;
  beforeAll(async () => {
    broken = await startIvrHarness();
  });
  afterAll(async () => {
    await broken?.stop();
  });

  it('ends that call with 500, logged with its Call-ID and counted; the service takes the next call', async () => {
    // The caller check's contract lookup now fails inside the call's handling.
    await broken.db.pool.query('alter table contract rename to contract_away');
    const { callId, sipp } = await broken.call('notify-uac-fail.xml', { caller: '0611112222', dialled: ACCESS.A_WEST, keys: FAIL_KEYS });
    expect(finalTo(sipp.messages), sippSummary(sipp)).toBe(500);
    expect(await broken.ivrCall(callId)).toMatchObject({ outcome: 'rejected', reason: 'internal_error' });
    expect(broken.logs.filter((l) => l.includes(callId) && l.includes('call failed: ended'))).toHaveLength(1);
    expect(await broken.metrics()).toMatch(/^chakushin_ivr_call_errors_total 1$/m);

    await broken.db.pool.query('alter table contract_away rename to contract');
    const next = await broken.call('ivr-reject-withheld.xml', { caller: '0611112222', dialled: ACCESS.A_WEST });
    expect(await broken.ivrCall(next.callId)).toMatchObject({ outcome: 'rejected', reason: 'withheld' });
  }, 60_000);
});
