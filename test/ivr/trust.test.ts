// Caller ID trust: P-Asserted-Identity names the caller only when it comes from a trusted
// trunk peer. The same call (PAI = a contract number, From = a mobile number, keys for
// 回線単位) is made to a service that trusts 127.0.0.1 and to one that does not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS, startIvrHarness, type IvrHarness } from './harness.ts';

let trusting: IvrHarness;
let distrusting: IvrHarness;
beforeAll(async () => {
  [trusting, distrusting] = await Promise.all([
    startIvrHarness(),
    // Only 192.0.2.1 (TEST-NET) is a trusted peer, so SIPp on 127.0.0.1 is not.
    startIvrHarness({ sip: { trustedPeers: ['192.0.2.1'] } }),
  ]);
});
afterAll(async () => {
  await Promise.all([trusting?.stop(), distrusting?.stop()]);
});

const SPOOF = { caller: '0611112222', dialled: ACCESS.A_WEST, keys: { from: '09012345678' } };

describe.concurrent('temp-password IVR, caller ID trust', () => {
  it('an untrusted peer claiming a contract number in PAI cannot set a password', async ({ expect }) => {
    const { callId } = await distrusting.call('ivr-trust-pai.xml', SPOOF);
    expect(await distrusting.ivrCall(callId)).toMatchObject({
      outcome: 'rejected', pattern: 'A', caller: '09012345678', reason: 'not_a_contract_number', unit: null, target: null,
    });
    expect(await distrusting.tempPasswordState('0611112222')).toBe('none');
  });

  it('a trusted peer’s PAI names the caller, whatever From says: the flow runs', async ({ expect }) => {
    const { callId } = await trusting.call('ivr-trust-pai.xml', SPOOF);
    expect(await trusting.ivrCall(callId)).toMatchObject({
      outcome: 'completed', pattern: 'A', caller: '0611112222', unit: 'line', target: '0611112222', reason: null,
    });
    expect(await trusting.tempPasswordState('0611112222')).toBe('realm=site unit=line state=valid');
  });
});

it('never logs the password the callers typed', () => {
  for (const h of [trusting, distrusting]) {
    expect(h.logs.filter((l) => l.includes('ivr call ended'))).toHaveLength(1);
    expect(h.problems()).toEqual([]);
    expect(h.linesContaining(['12345678'])).toEqual([]);
  }
});
