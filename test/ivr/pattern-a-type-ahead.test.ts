// 仮パスワード設定 pattern A, callers who do not wait: each entry typed 1 s after the
// previous one (during the next prompt), by SIP INFO and by RFC 2833, on every path; and a
// caller who presses '#' by habit after every entry. Production timeouts (3 s between keys)
// and ivr.maxAttempts 1, so a single key counted into the wrong step fails the call.
import { describe, it } from 'vitest';
import { ACCESS, ivrTestFile } from './harness.ts';

const h = ivrTestFile({ ivr: { firstDigitTimeoutMs: 5000, interDigitTimeoutMs: 3000, maxAttempts: 1 } });

/** A call from `caller` typing `typed`, entry by entry (the SIPp scenario is checked to type exactly these). */
const call = (scenario: string, caller: string, typed: readonly string[]) => h.call(scenario, { caller, dialled: ACCESS.A_WEST, typed });

// The temp password is typed without '#': pattern A's 8-digit entries end at the 8th key.
const PATHS = [
  { path: 'line', caller: '0611112222', typed: ['1', '13572468', '13572468'], unit: 'line', target: '0611112222' },
  { path: 'number', caller: '0611112222', typed: ['2', '0611113333#', '97531864', '97531864'], unit: 'number', target: '0611113333' },
  { path: 'admin-main', caller: '0611112222', typed: ['3', '0611115555#', '31415926', '31415926'], unit: 'admin_user', target: '0611115555' },
  { path: 'admin-additional', caller: '0611116666', typed: ['3', '27182818', '27182818'], unit: 'admin_user', target: '0611116666' },
] as const;

describe.concurrent('temp-password IVR, pattern A, callers who type ahead', () => {
  for (const via of ['info', 'rfc2833'] as const) {
    for (const p of PATHS) {
      it(`${p.path} by ${via}: each entry 1 s after the previous one completes`, async ({ expect }) => {
        const record = await call(`ivr-a-typeahead-${p.path}-${via}.xml`, p.caller, p.typed);
        expect(record).toMatchObject({ outcome: 'completed', pattern: 'A', unit: p.unit, target: p.target, caller: p.caller, reason: null });
        expect(await h.tempPasswordState(p.target)).toBe(`realm=site unit=${p.unit} state=valid`);
      });
    }
  }

  it('a # by habit after every entry is dropped, never counted against the next step', async ({ expect }) => {
    const record = await call('ivr-a-hash-after-entries.xml', '0611112222', ['1#', '86420864#', '86420864#']);
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'A', unit: 'line', target: '0611112222', reason: null });
  });
});

// After the calls above (a sequential test waits for the concurrent group before it).
h.closingChecks();
