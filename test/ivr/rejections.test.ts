// Calls the temp-password IVR must refuse: withheld callers and numbers that may not use the
// dialled access number get a guidance and the IVR's BYE; calls it cannot carry get 488.
import { describe, expect, it } from 'vitest';
import { ACCESS, ivrTestFile } from './harness.ts';

const h = ivrTestFile();
/** A call from `caller` that types no key (the SIPp scenario is checked to type none). */
const call = (scenario: string, caller: string, dialled: string) => h.call(scenario, { caller, dialled, typed: [] });

describe.concurrent('temp-password IVR, refused calls', () => {
  // not_in_service (13.9 s) is the longest guidance: those calls go first.
  it('a caller that is no contract number: not_in_service', async ({ expect }) => {
    const record = await call('ivr-reject-announce.xml', '09012345678', ACCESS.A_WEST);
    expect(record).toMatchObject({ outcome: 'rejected', pattern: 'A', caller: '09012345678', reason: 'not_a_contract_number', unit: null, target: null });
    expect(await h.tempPasswordState('09012345678')).toBe('none');
  });

  it('a pattern B contract dialling the pattern A number: not_in_service', async ({ expect }) => {
    const record = await call('ivr-reject-announce.xml', '0722221111', ACCESS.A_WEST);
    expect(record).toMatchObject({ outcome: 'rejected', pattern: 'A', caller: '0722221111', reason: 'wrong_access_number', unit: null, target: null });
    expect(await h.tempPasswordState('0722221111')).toBe('none');
  });

  it('a west contract dialling the east number: not_in_service', async ({ expect }) => {
    const record = await call('ivr-reject-announce.xml', '0611112222', ACCESS.A_EAST);
    expect(record).toMatchObject({
      outcome: 'rejected', pattern: 'A', caller: '0611112222', access_number: ACCESS.A_EAST, reason: 'wrong_access_number', unit: null, target: null,
    });
    expect(await h.tempPasswordState('0611112222')).toBe('none');
  });

  it('a pattern A contract dialling the pattern B number: not_in_service', async ({ expect }) => {
    const record = await call('ivr-reject-announce.xml', '0611113333', ACCESS.B);
    expect(record).toMatchObject({ outcome: 'rejected', pattern: 'B', caller: '0611113333', reason: 'wrong_access_number', unit: null, target: null });
    expect(await h.tempPasswordState('0611113333')).toBe('none');
  });

  it('a pattern B number without 着信/FAXお知らせメール: not_in_service', async ({ expect }) => {
    const record = await call('ivr-reject-announce.xml', '0722224444', ACCESS.B);
    expect(record).toMatchObject({ outcome: 'rejected', pattern: 'B', caller: '0722224444', reason: 'no_mail_service', unit: null, target: null });
    expect(await h.tempPasswordState('0722224444')).toBe('none');
  });

  it('a withheld caller (Privacy: id, From anonymous): answered, withheld_caller, BYE', async ({ expect }) => {
    const record = await call('ivr-reject-withheld.xml', '0611114444', ACCESS.A_WEST);
    // PAI named 0611114444, but the caller asked for privacy: the number is not used, nor recorded.
    expect(record).toMatchObject({ outcome: 'rejected', pattern: 'A', caller: null, reason: 'withheld', unit: null, target: null });
    expect(await h.tempPasswordState('0611114444')).toBe('none');
  });

  it('a data-only offer (video + application): 488, never answered', async ({ expect }) => {
    const record = await call('ivr-reject-data-only.xml', '0611115555', ACCESS.A_WEST);
    expect(record).toMatchObject({ outcome: 'rejected', pattern: 'A', caller: '0611115555', reason: 'data_only', unit: null, target: null });
    expect(await h.tempPasswordState('0611115555')).toBe('none');
  });

  it.each([
    ['a multicast address', '224.0.0.1', '40000', '0612340001'],
    ['the broadcast address', '255.255.255.255', '40000', '0612340002'],
    ['a port above 65535', '127.0.0.1', '70000', '0612340003'],
  ])('an audio stream at %s: 488 with Warning 301, never answered', async (_what, address, port, caller) => {
    const record = await h.call('ivr-reject-media-address.xml', { caller, dialled: ACCESS.A_WEST, typed: [], keys: { audio_address: address, audio_port: port } });
    expect(record).toMatchObject({ outcome: 'rejected', pattern: 'A', caller, reason: 'unsupported_media', unit: null, target: null });
  });

  it('an offer with G.729 only: 488, never answered', async ({ expect }) => {
    const record = await call('ivr-reject-g729.xml', '0611116666', ACCESS.A_WEST);
    expect(record).toMatchObject({ outcome: 'rejected', pattern: 'A', caller: '0611116666', reason: 'unsupported_media', unit: null, target: null });
    expect(await h.tempPasswordState('0611116666')).toBe('none');
  });
});

// After the calls above (a sequential test waits for the concurrent group before it).
h.closingChecks({ nothingTyped: true });
