import { describe, expect, it } from 'vitest';
import { isNextHopUri, lineRoute, requestUriAtNextHop } from '../../src/domain/next-hop.ts';
import { parseConfig } from '../../src/config.ts';

describe('notify.nextHop', () => {
  it('addresses the called number at the next hop, never at this server', () => {
    expect(requestUriAtNextHop('sip:0612345678@192.0.2.5:5060', 'sip:192.0.2.10:5070')).toBe('sip:0612345678@192.0.2.10:5070');
    expect(requestUriAtNextHop('sip:0612345678@as.example.jp;user=phone', '<sip:switch.example.jp;transport=tcp>')).toBe('sip:0612345678@switch.example.jp;transport=tcp;user=phone');
    expect(requestUriAtNextHop('sip:+81612345678@as.example.jp;user=phone', 'sip:ss@192.0.2.10;user=ip')).toBe('sip:+81612345678@192.0.2.10;user=ip');
    expect(requestUriAtNextHop('sip:as.example.jp', 'sip:192.0.2.10')).toBeUndefined();
  });

  it('routes to the line\'s own target, else to the next hop, else says what is missing', () => {
    expect(lineRoute('sip:0612345678@192.0.2.7', 'sip:0612345678@as.example.jp', 'sip:192.0.2.10')).toEqual({ uri: 'sip:0612345678@192.0.2.7' });
    expect(lineRoute(null, 'sip:0612345678@as.example.jp', 'sip:192.0.2.10')).toEqual({ uri: 'sip:0612345678@192.0.2.10' });
    expect(lineRoute(null, 'sip:0612345678@as.example.jp', undefined)).toEqual({ unreachable: expect.stringMatching(/no SIP target .*notify\.nextHop is not set/) });
    // The number came from a Request-URI the next hop cannot be addressed with: the log says so,
    // rather than claiming notify.nextHop is unset.
    for (const requestUri of ['tel:0612345678', 'sip:0612345678']) {
      const r = lineRoute(null, requestUri, 'sip:192.0.2.10');
      expect(r).toEqual({ unreachable: expect.stringContaining(`Request-URI ${requestUri} has no user part`) });
    }
  });

  it('is refused at start unless it is a SIP URI, naming the field', () => {
    for (const good of ['sip:192.0.2.10', 'sip:192.0.2.10:5060', 'sips:switch.example.jp;transport=tls', '<sip:[2001:db8::1]:5060>']) expect(isNextHopUri(good), good).toBe(true);
    for (const bad of ['192.0.2.10:5060', 'http://switch', 'sip:', 'sip:a b']) expect(isNextHopUri(bad), bad).toBe(false);
    expect(() => parseConfig({ notify: { nextHop: '192.0.2.10:5060' } })).toThrow(/notify\.nextHop/);
  });
});
