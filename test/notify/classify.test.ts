import { describe, expect, it } from 'vitest';
import { classifyCall, ringSeconds } from '../../src/notify/classify.ts';

const t0 = new Date('2026-11-22T00:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

describe('着信状態 and 呼出時間', () => {
  it('answered after ringing: 通話, seconds from first 18x to 200', () => {
    expect(classifyCall({ inviteAt: t0, ringAt: at(300), answerAt: at(10_200), endAt: at(60_000), finalStatus: 200, forwarded: false }))
      .toEqual({ status: '通話', ringSeconds: 10, forwardFailed: false });
  });

  it('rounds to the nearest second, half up', () => {
    expect(ringSeconds({ inviteAt: t0, ringAt: t0, endAt: at(9_499) })).toBe(9);
    expect(ringSeconds({ inviteAt: t0, ringAt: t0, endAt: at(9_500) })).toBe(10);
  });

  it('counts from the INVITE when the line never sent 18x', () => {
    expect(classifyCall({ inviteAt: t0, endAt: at(2_000), finalStatus: 486, forwarded: false })).toEqual({ status: '応答なし', ringSeconds: 2, forwardFailed: false });
  });

  it.each([487, 408, 480, 486, 603, 488, 500])('%i is 応答なし', (code) => {
    expect(classifyCall({ inviteAt: t0, ringAt: t0, endAt: at(1_000), finalStatus: code, forwarded: false }).status).toBe('応答なし');
  });

  it('302 from the line is 転送', () => {
    expect(classifyCall({ inviteAt: t0, ringAt: at(100), endAt: at(5_100), finalStatus: 302, forwarded: false })).toEqual({ status: '転送', ringSeconds: 5, forwardFailed: false });
  });

  it('ボイスワープ (181): answered or cancelled is 転送; a failed forward is marked', () => {
    const base = { inviteAt: t0, ringAt: t0, endAt: at(4_000), forwarded: true };
    expect(classifyCall({ ...base, finalStatus: 200, answerAt: at(4_000) }).status).toBe('転送');
    expect(classifyCall({ ...base, finalStatus: 487 }).status).toBe('転送');
    expect(classifyCall({ ...base, finalStatus: 486 })).toEqual({ status: '応答なし', ringSeconds: 4, forwardFailed: true });
  });
});
