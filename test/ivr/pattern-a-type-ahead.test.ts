// 仮パスワード設定 pattern A, callers who do not wait: each entry typed 1 s after the
// previous one (during the next prompt), by SIP INFO and by RFC 2833, on every path; and a
// caller who presses '#' by habit after every entry. Production timeouts (3 s between keys)
// and ivr.maxAttempts 1, so a single key counted into the wrong step fails the call.
import { describe, it } from 'vitest';
import { ACCESS, ivrTestFile } from './harness.ts';

const h = ivrTestFile({ ivr: { firstDigitTimeoutMs: 5000, interDigitTimeoutMs: 3000, maxAttempts: 1 } });

const call = (scenario: string, caller: string) => h.call(scenario, { caller, dialled: ACCESS.A_WEST });

const PATHS = [
  { path: 'line', caller: '0611112222', unit: 'line', target: '0611112222' },
  { path: 'number', caller: '0611112222', unit: 'number', target: '0611113333' },
  { path: 'admin-main', caller: '0611112222', unit: 'admin_user', target: '0611115555' },
  { path: 'admin-additional', caller: '0611116666', unit: 'admin_user', target: '0611116666' },
] as const;

describe.concurrent('temp-password IVR, pattern A, callers who type ahead', () => {
  for (const via of ['info', 'rfc2833'] as const) {
    for (const p of PATHS) {
      it(`${p.path} by ${via}: each entry 1 s after the previous one completes`, async ({ expect }) => {
        const record = await call(`ivr-a-typeahead-${p.path}-${via}.xml`, p.caller);
        expect(record).toMatchObject({ outcome: 'completed', pattern: 'A', unit: p.unit, target: p.target, caller: p.caller, reason: null });
        expect(await h.tempPasswordState(p.target)).toBe(`realm=site unit=${p.unit} state=valid`);
      });
    }
  }

  it('a # by habit after every entry is dropped, never counted against the next step', async ({ expect }) => {
    const record = await call('ivr-a-hash-after-entries.xml', '0611112222');
    expect(record).toMatchObject({ outcome: 'completed', pattern: 'A', unit: 'line', target: '0611112222', reason: null });
  });
});

// Runs after the calls above (a sequential test waits for the concurrent group before it).
it('logs every call and none of the typed passwords', () => {
  h.expectQuietLogs(9, ['13572468', '97531864', '31415926', '27182818', '86420864']);
});
