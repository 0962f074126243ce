// The one caller-ID rule (src/domain/caller-id.ts), case by case: what the 着信お知らせメール shows
// (発信者番号 or 非通知理由) and, from the same result, what the IVR makes of the caller.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { callerId, DEFAULT_ABSENT_REASON_RULES, nationalNumberOf, splitHeaderValues, type CallerIdHeaders } from '../../src/domain/caller-id.ts';
import { ABSENT_REASONS, type AbsentReason } from '../../src/domain/incoming-call.ts';
import { callerOf, type CallerNumber } from '../../src/ivr/caller-check.ts';

const TRUSTED = true;
const UNTRUSTED = false;

/** What the mail shows: the number, or the 非通知理由. */
type Shown = string | AbsentReason;

const cases: [name: string, headers: CallerIdHeaders, source: boolean, shown: Shown, ivr: CallerNumber['kind']][] = [
  // Where the number comes from
  ['a trusted peer’s PAI over From', { from: '<sip:0699999999@x>;tag=1', pAssertedIdentity: '<sip:0612345678@trunk;user=phone>' }, TRUSTED, '0612345678', 'number'],
  ['a display name and a tel: URI with +81 and separators', { from: null, pAssertedIdentity: '"Taro" <tel:+81-6-1234-0001>' }, TRUSTED, '0612340001', 'number'],
  ['an untrusted source’s PAI is ignored: From', { from: '"Bob" <sip:0699999999@x>;tag=1', pAssertedIdentity: '<sip:0612345678@trunk>' }, UNTRUSTED, '0699999999', 'number'],
  ['an untrusted forged PAI and an unusable From: never the PAI number', { from: 'sip:attacker@evil.example', pAssertedIdentity: '<tel:+81612340001>' }, UNTRUSTED, '表示圏外', 'unknown'],
  ['the first PAI value with a number', { pAssertedIdentity: ['<sip:trunk-user@x>', '<tel:+81-6-1234-0002>'] }, TRUSTED, '0612340002', 'number'],
  ['PAI values joined in one header, a comma inside the quotes', { pAssertedIdentity: '"A, B" <sip:ab@x>, <tel:+81612340002>' }, TRUSTED, '0612340002', 'number'],
  ['a trusted peer without PAI: From', { from: '<sip:0612340001@trunk>' }, TRUSTED, '0612340001', 'number'],
  ['a trusted peer with an empty PAI list: From', { from: '<sip:0612340001@trunk>', pAssertedIdentity: [] }, TRUSTED, '0612340001', 'number'],
  ['+81 in a sip: user part', { from: 'sip:+81612340001@trunk.example;user=phone' }, TRUSTED, '0612340001', 'number'],
  ['a %-escaped +81', { from: '<sip:%2B81612340001@x>' }, TRUSTED, '0612340001', 'number'],
  ['an 11-digit number', { pAssertedIdentity: '<tel:+815012340004>' }, TRUSTED, '05012340004', 'number'],
  ['another country: shown as dialled back (010…), no contract’s line', { from: 'sip:+12125551234@x;tag=9' }, TRUSTED, '01012125551234', 'unknown'],
  ['letters', { from: '<sip:alice@example.com>' }, TRUSTED, '表示圏外', 'unknown'],
  // 非通知: the caller asked for privacy
  ['Privacy: id over a number the trunk asserted', { from: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1', pAssertedIdentity: '<sip:0612345678@trunk>', privacy: 'id' }, TRUSTED, '非通知', 'withheld'],
  ['Privacy: user', { from: '<sip:0612345678@x>', privacy: 'user' }, TRUSTED, '非通知', 'withheld'],
  ['Privacy: header; user', { from: '<sip:0612345678@x>', privacy: 'header; user' }, TRUSTED, '非通知', 'withheld'],
  ['Privacy: id;critical', { pAssertedIdentity: '<tel:+81612340001>', privacy: 'id;critical' }, TRUSTED, '非通知', 'withheld'],
  ['Privacy joined from two headers, upper case', { pAssertedIdentity: '<tel:+81612340001>', privacy: 'none, Id' }, TRUSTED, '非通知', 'withheld'],
  ['Privacy tokens separated by a space', { pAssertedIdentity: '<tel:+81612340001>', privacy: 'id critical' }, TRUSTED, '非通知', 'withheld'],
  ['Privacy: none keeps the number', { pAssertedIdentity: '<tel:+81612340001>', privacy: 'none' }, TRUSTED, '0612340001', 'number'],
  ['Privacy: session keeps the number', { from: '<sip:0612345678@x>', privacy: 'session' }, TRUSTED, '0612345678', 'number'],
  // 公衆
  ['cpc=payphone on PAI', { pAssertedIdentity: '<sip:+81612345678;cpc=payphone@trunk;user=phone>' }, TRUSTED, '公衆', 'unknown'],
  ['cpc=payphone on a tel: From', { from: '<tel:0612345678;cpc=payphone>;tag=2' }, TRUSTED, '公衆', 'unknown'],
  ['the interworking display name', { from: '"Coin line/payphone" <sip:anonymous@anonymous.invalid>;tag=3' }, TRUSTED, '公衆', 'unknown'],
  // 表示圏外: nothing to show and nothing said why
  ['an anonymous From without a privacy request', { from: '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1' }, TRUSTED, '表示圏外', 'unknown'],
  ['an anonymous PAI from the trunk beside a From with a number', { from: '<sip:0612340001@x>', pAssertedIdentity: '<sip:anonymous@anonymous.invalid>' }, TRUSTED, '表示圏外', 'unknown'],
  ['unavailable', { from: '<sip:unavailable@unknown.invalid>;tag=1', pAssertedIdentity: [] }, TRUSTED, '表示圏外', 'unknown'],
  ['no identity at all', {}, TRUSTED, '表示圏外', 'unknown'],
  ['garbage', { from: '<sip:%zz%@x', pAssertedIdentity: ['<<<', ''], privacy: ';;,' }, TRUSTED, '表示圏外', 'unknown'],
];

const rules = parseConfig({}).notify.absentReasonRules;
const asCallerId = (shown: Shown) =>
  (ABSENT_REASONS as readonly string[]).includes(shown) ? { number: null, absentReason: shown } : { number: shown, absentReason: null };

describe('callerId: 発信者番号 or 非通知理由, and the IVR’s view of the same result', () => {
  it('the config’s default rules are the domain’s', () => {
    expect(rules).toEqual(DEFAULT_ABSENT_REASON_RULES);
  });

  it.each(cases)('%s', (_name, headers, trusted, shown, ivr) => {
    const id = callerId(headers, trusted, rules);
    expect(id).toEqual(asCallerId(shown));
    expect(callerOf(id).kind).toBe(ivr);
  });

  it('the rules alone decide what hides a number: a configured mapping, and none at all', () => {
    const anonymousIsWithheld = parseConfig({ notify: { absentReasonRules: [{ match: 'displayName', values: ['Anonymous'], reason: '非通知' }] } }).notify.absentReasonRules;
    const anonymous = callerId({ from: '"Anonymous" <sip:anonymous@anonymous.invalid>' }, TRUSTED, anonymousIsWithheld);
    expect(anonymous).toEqual({ number: null, absentReason: '非通知' });
    expect(callerOf(anonymous)).toEqual({ kind: 'withheld' });
    expect(callerId({ from: '<sip:0612345678@x>', privacy: 'id' }, TRUSTED, [])).toEqual({ number: '0612345678', absentReason: null });
  });
});

describe('nationalNumberOf (Request-URIs: the dialled subscriber or access number)', () => {
  it.each([
    ['0612340001', '0612340001'],
    ['06-1234-0001', '0612340001'],
    ['tel:+81-6-1234-0001', '0612340001'],
    ['tel:+81612340001;phone-context=example.net', '0612340001'],
    ['sip:+81612340001@trunk.example;user=phone', '0612340001'],
    ['sip:0611112222@127.0.0.1:5060', '0611112222'],
    ['<sips:0612340001@example>', '0612340001'],
    ['%2B81612340001', '0612340001'],
    ['+815012340004', '05012340004'],
    ['(06) 1234.0001', '0612340001'],
  ])('%s → %s', (raw, expected) => {
    expect(nationalNumberOf(raw)).toBe(expected);
  });

  it.each(['', 'anonymous', 'sip:alice@example.com', '+12125550100', '+1234567', '612340001', '061234000123', '%E0%A4%A'])('%s → null', (raw) => {
    expect(nationalNumberOf(raw)).toBeNull();
  });
});

describe('splitHeaderValues', () => {
  it('splits merged headers at commas outside quotes and <>', () => {
    expect(splitHeaderValues('"A, B" <sip:ab@x;p=a,b>, <tel:+81612340002>')).toEqual(['"A, B" <sip:ab@x;p=a,b>', '<tel:+81612340002>']);
    expect(splitHeaderValues(['<sip:a@x>, <sip:b@x>', '<tel:1>'])).toEqual(['<sip:a@x>', '<sip:b@x>', '<tel:1>']);
    expect(splitHeaderValues(undefined)).toEqual([]);
    expect(splitHeaderValues(' , ')).toEqual([]);
  });
});
