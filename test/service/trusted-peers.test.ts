// One trusted-peer matcher for admission, the IVR and notify: the same peer however its address is written.
import { describe, expect, it } from 'vitest';
import { trustedPeerMatcher } from '../../src/domain/trusted-peers.ts';
import { parseConfig } from '../../src/config.ts';
import { callerId } from '../../src/domain/caller-id.ts';
import { callerOf } from '../../src/ivr/caller-check.ts';

describe('trustedPeerMatcher', () => {
  const isTrunk = trustedPeerMatcher(['192.0.2.10', '2001:DB8::1', ' [2001:db8::2] ']);
  it.each([
    ['192.0.2.10', true],
    ['::ffff:192.0.2.10', true],
    ['::FFFF:192.0.2.10', true],
    ['[::ffff:192.0.2.10]', true],
    ['2001:db8::1', true],
    ['[2001:DB8::1]', true],
    ['2001:db8::2', true],
    ['192.0.2.11', false],
    ['::ffff:192.0.2.11', false],
    ['192.0.2.1', false],
    ['', false],
    [undefined, false],
  ] as const)('%s → %s', (address, trusted) => {
    expect(isTrunk(address)).toBe(trusted);
  });

  it('a trunk arriving as ::ffff:a.b.c.d has its P-Asserted-Identity believed on both paths', () => {
    const isTrustedPeer = trustedPeerMatcher(['192.0.2.10']);
    const invite = { sourceAddress: '::ffff:192.0.2.10', from: '<sip:09011112222@x>', pAssertedIdentity: '<tel:+81612340001>' };
    // The IVR (src/ivr/call.ts) and notify (src/notify/app.ts) both ask the service's one matcher, then the one caller-ID rule.
    const id = callerId(invite, isTrustedPeer(invite.sourceAddress), parseConfig({}).notify.absentReasonRules);
    expect(id).toEqual({ number: '0612340001', absentReason: null });
    expect(callerOf(id)).toEqual({ kind: 'number', number: '0612340001' });
  });
});
