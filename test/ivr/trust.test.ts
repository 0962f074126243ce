// Caller ID trust and admission. By default only trunk peers (sip.trustedPeers) get in at all:
// anyone else's requests outside a dialog get 403, before the IVR or notify sees them. A service
// opened for testing (sip.admitUntrustedSources) lets them in, believes P-Asserted-Identity only from
// a trusted peer, and still sets no password on a caller ID no trusted peer asserted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { ACCESS, startIvrHarness, type IvrHarness } from './harness.ts';

/** A 着信お知らせメール number with a mail destination: a call that got through would be mailed. */
const NOTIFY_NUMBER = '0633330001';

let trusting: IvrHarness;
let open: IvrHarness;
let closed: IvrHarness;
beforeAll(async () => {
  [trusting, open, closed] = await Promise.all([
    startIvrHarness(),
    // Only 192.0.2.1 (TEST-NET) is a trusted peer, so SIPp on 127.0.0.1 is not; the service is opened for testing.
    startIvrHarness({ sip: { trustedPeers: ['192.0.2.1'], admitUntrustedSources: true } }),
    // The default: 127.0.0.1 is the trunk; SIPp on 127.0.0.2 stands in for anyone else.
    startIvrHarness(),
  ]);
  await applyProvisioning(closed.db.pool, {
    contracts: [{
      id: 'NOTIFY1', region: 'west', pattern: 'A', authUnit: 'line',
      numbers: [{
        number: NOTIFY_NUMBER, role: 'main', services: ['chakushin_mail'], target: 'sip:0633330001@127.0.0.1:9',
        notify: { started: true, destinations: [{ address: 'a@example.jp', send: true }], designatedOnly: false, unansweredOnly: false, designated: [] },
      }],
    }],
  });
});
afterAll(async () => {
  await Promise.all([trusting?.stop(), open?.stop(), closed?.stop()]);
});

// Each call of ivr-trust-pai.xml types 回線単位 and a temp password, whether or not the IVR listens.
const TYPED = ['1', '12345678#', '12345678#'];
const SPOOF = { caller: '0611112222', dialled: ACCESS.A_WEST, typed: TYPED, keys: { from: '09012345678' } };

describe.concurrent('temp-password IVR, caller ID trust', () => {
  it('an untrusted peer claiming a contract number in PAI cannot set a password', async ({ expect }) => {
    const { callId } = await open.call('ivr-trust-pai.xml', SPOOF);
    expect(await open.ivrCall(callId)).toMatchObject({
      outcome: 'rejected', pattern: 'A', caller: '09012345678', reason: 'not_a_contract_number', unit: null, target: null,
    });
    expect(await open.tempPasswordState('0611112222')).toBe('none');
  });

  it('opened for testing: a contract number in an untrusted From sets no password, and the log says why', async ({ expect }) => {
    const { callId } = await open.call('ivr-trust-pai.xml', { caller: '0611113333', dialled: ACCESS.A_WEST, typed: TYPED, keys: { from: '0611113333' } });
    expect(await open.ivrCall(callId)).toMatchObject({
      outcome: 'rejected', pattern: 'A', caller: '0611113333', reason: 'caller_not_asserted', unit: null, target: null,
    });
    expect(await open.tempPasswordState('0611113333')).toBe('none');
    expect(open.logs.filter((l) => l.includes(callId) && l.includes('the caller ID was not asserted by a trusted peer'))).toHaveLength(1);
  });

  it('a trusted peer’s PAI names the caller, whatever From says: the flow runs', async ({ expect }) => {
    const { callId } = await trusting.call('ivr-trust-pai.xml', SPOOF);
    expect(await trusting.ivrCall(callId)).toMatchObject({
      outcome: 'completed', pattern: 'A', caller: '0611112222', unit: 'line', target: '0611112222', reason: null,
    });
    expect(await trusting.tempPasswordState('0611112222')).toBe('realm=site unit=line state=valid');
  });
});

describe('admission (default): only trunk peers get in', () => {
  it('from 127.0.0.2 with a spoofed From: OPTIONS and INVITE get 403, no password, no 着信, no mail; counted', async () => {
    for (const dialled of [ACCESS.A_WEST, NOTIFY_NUMBER]) {
      const { callId } = await closed.call('admission-refused.xml', { caller: '0611112222', dialled, localIp: '127.0.0.2' });
      expect(closed.logs.filter((l) => l.includes(callId) && l.includes('ivr call'))).toEqual([]);
    }
    for (const transport of ['tcp'] as const) {
      await closed.call('admission-refused.xml', { caller: '0611112222', dialled: ACCESS.A_WEST, localIp: '127.0.0.2', transport });
    }
    expect(await closed.tempPasswordState('0611112222')).toBe('none');
    const { rows } = await closed.db.pool.query(
      'select (select count(*)::int from ivr_call) as ivr, (select count(*)::int from incoming_call) as calls, (select count(*)::int from mail_outbox) as mails',
    );
    expect(rows[0]).toEqual({ ivr: 0, calls: 0, mails: 0 });
    const metrics = await closed.metrics();
    expect(metrics).toMatch(/^chakushin_sip_requests_refused_total\{method="INVITE"\} 3$/m);
    expect(metrics).toMatch(/^chakushin_sip_requests_refused_total\{method="OPTIONS"\} 3$/m);
  });
});

it('never logs the password the callers typed', () => {
  for (const h of [trusting, open]) {
    expect(h.problems().filter((l) => !l.includes('caller ID was not asserted'))).toEqual([]);
    expect(h.linesContaining(['12345678'])).toEqual([]);
  }
  expect(trusting.logs.filter((l) => l.includes('ivr call ended'))).toHaveLength(1);
  expect(open.logs.filter((l) => l.includes('ivr call ended'))).toHaveLength(2);
});
