// The domain's own IPv6 reader (src/domain/line-info.ts; the domain imports no node: module) takes
// exactly the addresses Node's own parser takes: checked against node:net on edge cases and on
// addresses built at random from hextets, `::` and IPv4 tails.
import { isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { lineIdentifier, parsePrefix } from '../../src/domain/line-info.ts';

/** What the domain accepts as one address (no prefix length), as a yes/no; lineIdentifier trims spaces around it. */
const domainTakes = (text: string) => lineIdentifier(text) !== undefined;
/** node:net's answer for the same text; zones (`%eth0`) are refused by the domain on purpose. */
const nodeTakes = (text: string) => isIPv6(text) && !text.includes('%');

const EDGES = [
  '::', '::1', '1::', '1::1', '2001:db8::1', '2001:DB8:0:0:8:800:200C:417A', 'fe80::1%eth0',
  '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7::', '::1:2:3:4:5:6:7', '1::2:3:4:5:6:7:8',
  ':::', '1:::2', '2001:db8:::', ':1::', '1::2::3', ':1', '1:', '12345::', 'g::', '::ffff:192.0.2.1', '::192.0.2.1',
  '1:2:3:4:5:6:192.0.2.1', '1:2:3:4:5:6:7:192.0.2.1', '::ffff:192.0.2.256', '::ffff:192.0.2.01', '::ffff:1.2.3',
  '192.0.2.1', '[::1]', ':: 1', '', 'x', '0:0:0:0:0:0:0:0', '::0:0:0:0:0:0:0', '1.2.3.4::',
];

describe('IPv6 addresses without node:net', () => {
  it.each(EDGES)('%j: the same answer as node:net', (text) => {
    expect(domainTakes(text)).toBe(nodeTakes(text));
  });

  it('agrees with node:net on 5,000 addresses built at random (hextets, one or two `::`, IPv4 tails; some broken)', () => {
    // mulberry32: a fixed seed, so a failure names the same text on every run.
    let seed = 19;
    const rand = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
    };
    const hextet = () => Array.from({ length: 1 + rand(rand(8) === 0 ? 6 : 4) }, () => '0123456789abcdefABCDEF0g'[rand(rand(10) === 0 ? 24 : 22)]).join('');
    const tail = () => ['192.0.2.1', '0.0.0.0', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3'][rand(6)]!;
    const address = () => {
      const groups = Array.from({ length: rand(4) === 0 ? 8 : rand(10) }, hextet);
      if (rand(3) === 0) groups.push(tail());
      for (let zeros = rand(6) === 0 ? 2 : rand(4) === 0 ? 0 : 1; zeros > 0; zeros--) groups.splice(rand(groups.length + 1), 0, '');
      let text = groups.join(':');
      if (/^:[^:]/.test(text)) text = `:${text}`;
      if (/[^:]:$/.test(text)) text = `${text}:`;
      return text;
    };
    let valid = 0;
    for (let i = 0; i < 5000; i++) {
      const text = address();
      expect(domainTakes(text), text).toBe(nodeTakes(text));
      if (nodeTakes(text)) valid++;
    }
    // Both kinds are well represented, so the agreement means something.
    expect(valid).toBeGreaterThan(500);
    expect(valid).toBeLessThan(4500);
  });

  it('reads the value: prefixes keep their host bits honest', () => {
    expect(parsePrefix('::ffff:192.0.2.0/120')).toEqual({ network: 0xffffc0000200n, length: 120 });
    expect(parsePrefix('::ffff:192.0.2.1/120')).toBe('host_bits');
  });
});
