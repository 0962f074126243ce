import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { callerIdentity } from '../../src/notify/identity.ts';

const rules = parseConfig({}).notify.absentReasonRules;
const id = (h: Parameters<typeof callerIdentity>[0], trusted = true) => callerIdentity(h, trusted, rules);

describe('caller identity and 非通知理由', () => {
  it('shows the number from a trusted P-Asserted-Identity', () => {
    expect(id({ from: '<sip:0699999999@x>;tag=1', pAssertedIdentity: ['<sip:0612345678@trunk;user=phone>'] })).toEqual({ number: '0612345678', absentReason: null });
  });

  it('ignores P-Asserted-Identity from an untrusted source and uses From', () => {
    expect(id({ from: '"Bob" <sip:0699999999@x>;tag=1', pAssertedIdentity: ['<sip:0612345678@trunk>'] }, false)).toEqual({ number: '0699999999', absentReason: null });
  });

  it('turns +81 into national format and tel: URIs work', () => {
    expect(id({ pAssertedIdentity: ['<tel:+81-6-1234-5678>'] })).toEqual({ number: '0612345678', absentReason: null });
    expect(id({ from: 'sip:+12125551234@x;tag=9' })).toEqual({ number: '01012125551234', absentReason: null });
  });

  it('非通知 when the caller asked for privacy, even though the trunk asserted the number', () => {
    expect(id({ from: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1', pAssertedIdentity: ['<sip:0612345678@trunk>'], privacy: 'id' })).toEqual({ number: null, absentReason: '非通知' });
    expect(id({ from: '<sip:0612345678@x>', privacy: 'header; user' })).toEqual({ number: null, absentReason: '非通知' });
  });

  it('a Privacy of none or session alone does not hide the number', () => {
    expect(id({ from: '<sip:0612345678@x>', privacy: 'none' })).toEqual({ number: '0612345678', absentReason: null });
  });

  it('公衆 for cpc=payphone on PAI or From, and for the interworking display name', () => {
    expect(id({ pAssertedIdentity: ['<sip:+81612345678;cpc=payphone@trunk;user=phone>'] })).toEqual({ number: null, absentReason: '公衆' });
    expect(id({ from: '<tel:0612345678;cpc=payphone>;tag=2' })).toEqual({ number: null, absentReason: '公衆' });
    expect(id({ from: '"Coin line/payphone" <sip:anonymous@anonymous.invalid>;tag=3' })).toEqual({ number: null, absentReason: '公衆' });
  });

  it('表示圏外 for an anonymous or unavailable identity without a privacy request', () => {
    expect(id({ from: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1' })).toEqual({ number: null, absentReason: '表示圏外' });
    expect(id({ from: '<sip:unavailable@unknown.invalid>;tag=1', pAssertedIdentity: [] })).toEqual({ number: null, absentReason: '表示圏外' });
    expect(id({})).toEqual({ number: null, absentReason: '表示圏外' });
  });

  it('survives garbage', () => {
    expect(id({ from: '<sip:%zz%@x', pAssertedIdentity: ['<<<', ''], privacy: ';;,' })).toEqual({ number: null, absentReason: '表示圏外' });
  });

  it('follows a configured mapping', () => {
    const custom = parseConfig({ notify: { absentReasonRules: [{ match: 'displayName', values: ['Anonymous'], reason: '非通知' }] } }).notify.absentReasonRules;
    expect(callerIdentity({ from: '"Anonymous" <sip:anonymous@anonymous.invalid>' }, true, custom)).toEqual({ number: null, absentReason: '非通知' });
  });
});
