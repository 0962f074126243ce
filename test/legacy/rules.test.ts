// The legacy site's rules as variants of the shared ones: the 4–8 password (000 p.143/p.147) and
// the address rule whose left of '@' may not use ! $ % ' * + / ? ^ # (000 p.146).
import { describe, expect, it } from 'vitest';
import { legacyPasswordRefusal } from '../../src/domain/legacy-password.ts';
import { mailAddressRefusal } from '../../src/domain/mail-address.ts';
import { passwordRefusal } from '../../src/domain/password.ts';

describe('legacy password', () => {
  it.each([
    ['ab1', 'length'], ['ab12', undefined], ['abcd1234', undefined], ['abcd12345', 'length'],
    ['1234', 'digits_only'], ['12345678', 'digits_only'], ['ab-12', 'characters'], ['ａｂ１２', 'characters'], ['abcd', undefined],
  ])('%s → %s', (candidate, refusal) => {
    expect(legacyPasswordRefusal(candidate, false)).toBe(refusal);
  });
  it('not the current one', () => {
    expect(legacyPasswordRefusal('ab12', true)).toBe('same_as_current');
  });
  it('the new site keeps its own limits and extra rules', () => {
    expect(passwordRefusal('ab12', { sameAsCurrent: false, contractNumbers: [] })).toBe('length');
    expect(passwordRefusal('abcd1234', { sameAsCurrent: false, contractNumbers: [] })).toBe('sequence_run');
  });
});

describe('legacy mail address rule', () => {
  it.each([...'!$%\'*+/?^#'])('%s left of @: refused on the legacy site, accepted on the new one', (c) => {
    const address = `a${c}b@example.jp`;
    expect(mailAddressRefusal(address, 'legacy')).toBe('local_chars');
    expect(mailAddressRefusal(address)).toBeUndefined();
  });
  it.each([
    ['a.b_c-d@example.jp', undefined], ['a..b@example.jp', 'double_dot'], ['.ab@example.jp', 'dot_edge'],
    ['ab@example.jp.', 'domain_trailing_dot'], ['a@b@example.jp', 'at_count'], [`${'a'.repeat(64)}@example.jp`, 'local_too_long'],
    ['ab@exa!mple.jp', 'domain_chars'],
  ])('the shared rules still apply on the legacy site: %s → %s', (address, refusal) => {
    expect(mailAddressRefusal(address, 'legacy')).toBe(refusal);
  });
});
