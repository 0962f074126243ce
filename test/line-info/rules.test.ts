// The pure rules of 回線情報通知機能: prefixes and line identifiers, the 受付 formats.
import { describe, expect, it } from 'vitest';
import { lineIdentifier, normalizeCustomerId, parsePrefix, prefixesOverlap, receiptNumber, receiptTime, settingDate, type Ipv6Prefix } from '../../src/domain/line-info.ts';

const p = (t: string) => parsePrefix(t) as Ipv6Prefix;

describe('IPv6 prefixes', () => {
  it('parses prefixes and refuses host bits and non-IPv6', () => {
    expect(p('2001:db8:1234:5600::/56')).toEqual({ network: 0x20010db8123456000000000000000000n, length: 56 });
    expect(p('::/0')).toEqual({ network: 0n, length: 0 });
    expect(p('::ffff:192.0.2.0/120').network).toBe(0xffffc0000200n);
    expect(parsePrefix('2001:db8:1234:5601::/56')).toBe('host_bits');
    for (const bad of ['2001:db8::/129', '192.0.2.0/24', '2001:db8::', 'fe80::1%eth0/64', '2001:db8:::/48']) expect(parsePrefix(bad), bad).toBe('syntax');
  });
  it('overlap means one contains the other', () => {
    expect(prefixesOverlap(p('2001:db8:1234:5600::/56'), p('2001:db8:1234:5680::/58'))).toBe(true);
    expect(prefixesOverlap(p('2001:db8:1234:5600::/56'), p('2001:db8:1234:5700::/56'))).toBe(false);
    expect(prefixesOverlap(p('2001:db8::/32'), p('2001:db8:1234:5700::/56'))).toBe(true);
  });
  it('a line identifier is an IPv6 address or a valid prefix', () => {
    expect(lineIdentifier(' 2001:db8::1 ')).toBe('2001:db8::1');
    expect(lineIdentifier('2001:db8::/48')).toBe('2001:db8::/48');
    for (const bad of ['192.0.2.1', '2001:db8::1/48', 'x', '']) expect(lineIdentifier(bad), bad).toBeUndefined();
  });
});

describe('受付', () => {
  it('date-time and 設定日 in Japan time', () => {
    expect(receiptTime(new Date('2026-12-01T10:05:17Z'))).toBe('2026年12月01日 19時05分17秒');
    expect(receiptTime(new Date('2026-12-31T15:00:00Z'))).toBe('2027年01月01日 00時00分00秒');
    expect(settingDate(new Date('2026-11-30T15:00:00Z'))).toBe('2026/12/01');
  });
  it('受付番号: Japan date and an 8-digit sequence', () => {
    expect(receiptNumber(new Date('2026-12-01T10:05:17Z'), 17)).toBe('2026120100000017');
  });
  it('お客さまID as typed: full-width and lower case forgiven', () => {
    expect(normalizeCustomerId(' caf０１２３４５６７８９ ')).toBe('CAF0123456789');
  });
});
