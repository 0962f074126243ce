// The ワンタイムパスワード rules behind its pages (the browser suites cover the screens; the form's
// maxlength keeps a person from typing 13 characters, so the server's own limit is checked here).
import { describe, expect, it } from 'vitest';
import { checkIdRefusal, checkPasswordRefusal } from '../../src/domain/otp.ts';

describe('確認用ID / 確認用パスワード', () => {
  it('refuses 13 characters and accepts 8 and 12', () => {
    expect(checkIdRefusal('Abcdefgh12345')).toBe('length');
    expect(checkPasswordRefusal('abcd12345678x')).toBe('length');
    expect(checkIdRefusal('Abcdefgh')).toBeUndefined();
    expect(checkIdRefusal('abcdefgh1234')).toBeUndefined();
    expect(checkPasswordRefusal('abcdefgh1234')).toBeUndefined();
    expect(checkIdRefusal('ａｂｃｄｅｆｇ１')).toBe('characters');
  });
});

