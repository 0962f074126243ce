// A service stopping with a caller in the IVR: it waits ivr.shutdownGraceSec, then hangs up
// on the call (BYE on the wire) and records it as cut_off; nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS, startIvrHarness, type IvrHarness } from './harness.ts';

let h: IvrHarness;
beforeAll(async () => {
  h = await startIvrHarness({ ivr: { shutdownGraceSec: 1 } });
});
afterAll(async () => {
  await h?.stop();
});

describe('temp-password IVR at shutdown', () => {
  it('hangs up on a call still in the flow after the grace and records it as cut_off', async () => {
    const call = h.call('ivr-silent-caller.xml', { caller: '0611112222', dialled: ACCESS.A_WEST });
    // Let the call get into the unit menu (an 18 s guidance) before stopping.
    await new Promise((r) => setTimeout(r, 2000));
    const stoppedAt = Date.now();
    await h.service.stop();
    const { callId } = await call;
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    const { rows } = await h.db.pool.query('select outcome, reason, target from ivr_call where call_id = $1', [callId]);
    expect(rows).toEqual([{ outcome: 'cut_off', reason: 'service_stopping', target: null }]);
  });
});
