// The ボイスワープ phone menu over SIP: SIPp callers on the subscriber's own line dial the access
// number of the whole service (built-in engine, built-in RTP endpoint, PostgreSQL) and press keys by
// RFC 2833 and by SIP INFO. Checked: the ivr_call record, the settings as saved (and their audit
// row), and that a change is in effect for the next call to the number.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyProvisioning } from '../../src/store/provisioning.ts';
import { readVoiceWarpSettings } from '../../src/store/voice-warp-settings.ts';
import { startIvrHarness, type IvrHarness } from '../ivr/harness.ts';
import { freePort } from '../support/ports.ts';
import { runSipp, sippSummary, startSipp } from '../support/sipp.ts';
import { testDrachtio } from '../support/test-drachtio.ts';

const ACCESS = '142';
const DEST = '09012345678';
let h: IvrHarness;
let nextHopPort: number;

let numbers = 0;
/** A contract of its own per test: its main number with ボイスワープ (and a 転送先 when asked). */
async function line(voiceWarp?: Record<string, unknown>, services = ['voice_warp']): Promise<string> {
  const number = `06611100${String(++numbers).padStart(2, '0')}`;
  await applyProvisioning(h.db.pool, {
    contracts: [{ id: `VWM${number}`, region: 'west', pattern: 'A', authUnit: 'line', numbers: [{ number, role: 'main', services, ...(voiceWarp ? { voiceWarp } : {}) }] }],
  });
  return number;
}

const settings = (number: string) => readVoiceWarpSettings(h.db.pool, number, 20);

async function audit(number: string) {
  return (await h.db.pool.query(`select actor, action, detail from audit_log where subject = $1 and action like 'voice_warp.%' order by id`, [number])).rows;
}

beforeAll(async () => {
  nextHopPort = await freePort('udp');
  h = await startIvrHarness({ notify: { nextHop: `sip:127.0.0.1:${nextHopPort}` } });
});
afterAll(async () => {
  await h?.stop();
});

describe('ボイスワープ by phone (RFC 2833)', () => {
  for (const [cond, condition] of [['1', 'unconditional'], ['2', 'busy'], ['3', 'no_answer'], ['4', 'busy_no_answer']] as const) {
    it(`1 開始 with 転送条件 ${cond}: started with ${condition}`, async () => {
      const number = await line({ destination: DEST });
      const { callId } = await h.call(`warp-menu-start-${cond}-rfc2833.xml`, { caller: number, dialled: ACCESS });
      expect(await h.ivrCall(callId)).toMatchObject({ outcome: 'completed', unit: 'start', target: number, pattern: null, access_number: ACCESS });
      expect(await settings(number)).toMatchObject({ started: true, condition, destination: DEST });
      expect(await audit(number)).toEqual([{ actor: 'ivr', action: 'voice_warp.start', detail: { started: true, condition, ringSeconds: 20, guidance: false } }]);
    });
  }

  it('2 転送先登録: the number, #, 1 at the read-back', async () => {
    const number = await line();
    const { callId } = await h.call('warp-menu-destination-rfc2833.xml', { caller: number, dialled: ACCESS });
    expect(await h.ivrCall(callId)).toMatchObject({ outcome: 'completed', unit: 'destination', target: number });
    expect((await settings(number)).destination).toBe(DEST);
  });

  it('3 呼出秒数: 15 #', async () => {
    const number = await line({ destination: DEST, started: true, condition: 'no_answer' });
    const { callId } = await h.call('warp-menu-ring-seconds-rfc2833.xml', { caller: number, dialled: ACCESS });
    expect(await h.ivrCall(callId)).toMatchObject({ outcome: 'completed', unit: 'ring_seconds' });
    expect(await settings(number)).toMatchObject({ ringSeconds: 15, started: true, condition: 'no_answer' });
  });

  it('8 現在の設定 is read back (the call lasts as long as the read-back), then 0 stops', async () => {
    const number = await line({ destination: DEST, started: true, condition: 'busy', ringSeconds: 30 });
    const { callId } = await h.call('warp-menu-status-rfc2833.xml', { caller: number, dialled: ACCESS });
    const record = await h.ivrCall(callId);
    expect(record).toMatchObject({ outcome: 'completed', unit: 'stop' });
    // 現在の設定をお知らせします。ボイスワープは開始しています。転送条件は、話中時転送です。転送先は、0 9 0 …番です。呼出秒数は、3 0 秒です。
    expect(record.duration_ms).toBeGreaterThan(15_000);
    expect(await settings(number)).toMatchObject({ started: false, condition: 'busy', ringSeconds: 30 });
  }, 90_000);
});

describe('ボイスワープ by phone (SIP INFO)', () => {
  it('1 開始 with a 転送条件 key (the first and the last; RFC 2833 above takes each)', async () => {
    for (const [cond, condition] of [['1', 'unconditional'], ['4', 'busy_no_answer']] as const) {
      const number = await line({ destination: DEST });
      const { callId } = await h.call('warp-menu-start-info.xml', { caller: number, dialled: ACCESS, keys: { cond } });
      expect(await h.ivrCall(callId)).toMatchObject({ outcome: 'completed', unit: 'start' });
      expect((await settings(number)).condition).toBe(condition);
    }
  }, 90_000);

  it('2 転送先登録 with a second try after the read-back', async () => {
    const number = await line();
    const { callId } = await h.call('warp-menu-destination-info.xml', { caller: number, dialled: ACCESS });
    expect(await h.ivrCall(callId)).toMatchObject({ outcome: 'completed', unit: 'destination' });
    expect((await settings(number)).destination).toBe(DEST);
  }, 60_000);

  it('bad 転送先 refused (フリーダイヤル, 110, a carrier prefix): three strikes, nothing saved', async () => {
    const number = await line({ destination: '0698765432' });
    const { callId } = await h.call('warp-menu-destination-refused-info.xml', { caller: number, dialled: ACCESS });
    expect(await h.ivrCall(callId)).toMatchObject({ outcome: 'failed_3_strikes', reason: 'destination', unit: null });
    expect((await settings(number)).destination).toBe('0698765432');
    expect(await audit(number)).toEqual([]);
  }, 60_000);

  it('three keys the menu does not offer: three strikes', async () => {
    const number = await line({ destination: DEST });
    const { callId } = await h.call('warp-menu-three-strikes-info.xml', { caller: number, dialled: ACCESS });
    expect(await h.ivrCall(callId)).toMatchObject({ outcome: 'failed_3_strikes', reason: 'menu' });
  }, 60_000);
});

describe('who may use it, and the next call', () => {
  it('a number without voice_warp hears not_in_service (the other refusals: menu-check.test.ts)', async () => {
    const without = await line(undefined, ['chakushin_mail']);
    const r = await h.call('ivr-reject-announce.xml', { caller: without, dialled: ACCESS });
    expect(await h.ivrCall(r.callId)).toMatchObject({ outcome: 'rejected', reason: 'no_voice_warp', pattern: null });
  });

  it('started by phone, the next call to the number is forwarded', async () => {
    const number = `06611199${String(++numbers).padStart(2, '0')}`;
    const linePort = await freePort('udp');
    await applyProvisioning(h.db.pool, {
      contracts: [{ id: `VWN${number}`, region: 'west', pattern: 'A', authUnit: 'line', numbers: [{
        number, role: 'main', services: ['voice_warp'], target: `sip:${number}@127.0.0.1:${linePort}`, voiceWarp: { destination: DEST },
      }] }],
    });
    await h.call('warp-menu-start-1-rfc2833.xml', { caller: number, dialled: ACCESS });
    const dest = await startSipp({ scenario: path.resolve('test/sipp/warp-dest-answer.xml'), localPort: nextHopPort, calls: 1, keys: { audio_port: '9' }, timeoutMs: 30_000, traceMessages: true });
    const caller = await runSipp({
      scenario: path.resolve('test/sipp/warp-uac-answer.xml'), remote: { port: h.service.sipAddress?.port ?? testDrachtio()!.sipPort }, service: number, calls: 1,
      keys: { from: '<sip:0612345678@127.0.0.1>', hdr1: 'X-Warp-Test: 1', hdr2: 'X-Warp-Test: 1', audio_port: '9' }, extraArgs: ['-d', '200'], timeoutMs: 30_000,
    });
    expect(caller.exitCode, sippSummary(caller)).toBe(0);
    const d = await dest.done;
    expect(d.exitCode, sippSummary(d)).toBe(0);
    expect(d.messages).toMatch(new RegExp(`^Diversion: <sip:${number}@[^>]+>;reason=unconditional;counter=1`, 'm'));
  }, 60_000);
});
