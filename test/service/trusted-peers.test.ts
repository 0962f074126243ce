// One trusted-peer matcher for admission, the IVR and notify: the same peer however its address is written.
import { describe, expect, it } from 'vitest';
import { trustedPeerMatcher } from '../../src/domain/trusted-peers.ts';
import { callerIdentity } from '../../src/notify/identity.ts';
import { callerNumberOf } from '../../src/ivr/caller-check.ts';

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
    const peers = ['192.0.2.10'];
    const invite = { sourceAddress: '::ffff:192.0.2.10', from: '<sip:09011112222@x>', pAssertedIdentity: '<tel:+81612340001>' };
    expect(callerNumberOf(invite, peers)).toEqual({ kind: 'number', number: '0612340001' });
    const notify = callerIdentity({ from: invite.from, pAssertedIdentity: [invite.pAssertedIdentity] }, trustedPeerMatcher(peers)(invite.sourceAddress), []);
    expect(notify).toEqual({ number: '0612340001', absentReason: null });
  });
});
