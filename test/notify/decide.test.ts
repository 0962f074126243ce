import { describe, expect, it } from 'vitest';
import type { Classification } from '../../src/notify/classify.ts';
import { mailDecision, refusal } from '../../src/notify/decide.ts';
import type { CallerId } from '../../src/domain/caller-id.ts';

const shown: CallerId = { number: '0612345678', absentReason: null };
const withheld: CallerId = { number: null, absentReason: '非通知' };
const payphone: CallerId = { number: null, absentReason: '公衆' };
const missed: Classification = { status: '応答なし', ringSeconds: 5, forwardFailed: false };
const answered: Classification = { status: '通話', ringSeconds: 5, forwardFailed: false };
const forwarded: Classification = { status: '転送', ringSeconds: 5, forwardFailed: false };
const profile = {
  services: ['chakushin_mail'],
  started: true,
  designatedOnly: false,
  unansweredOnly: false,
  destinations: [
    { address: 'pc@example.jp', send: true },
    { address: 'phone@example.jp', send: false },
    { address: 'pc@example.jp', send: true },
  ],
  callerDesignated: false,
  callerBlocked: false,
};

describe('refusal at the INVITE', () => {
  it('ナンバー・リクエスト refuses 非通知 only', () => {
    const p = { services: ['chakushin_mail', 'number_request'], callerBlocked: false };
    expect(refusal(p, withheld)).toEqual({ by: 'number_request', status: 433, reason: 'Anonymity Disallowed' });
    expect(refusal(p, payphone)).toBeUndefined();
    expect(refusal(p, shown)).toBeUndefined();
    expect(refusal({ services: ['chakushin_mail'], callerBlocked: false }, withheld)).toBeUndefined();
  });

  it('迷惑電話おことわり refuses listed callers when subscribed', () => {
    expect(refusal({ services: ['nuisance_block'], callerBlocked: true }, shown)).toEqual({ by: 'nuisance_block', status: 603, reason: 'Decline' });
    expect(refusal({ services: [], callerBlocked: true }, shown)).toBeUndefined();
  });
});

describe('who gets a mail', () => {
  it('every destination with send on, once each', () => {
    expect(mailDecision(profile, shown, missed)).toEqual({ send: true, to: ['pc@example.jp'] });
  });

  it('nothing when stopped or no destination is on', () => {
    expect(mailDecision({ ...profile, started: false }, shown, missed)).toEqual({ send: false, why: 'service stopped' });
    expect(mailDecision({ ...profile, destinations: [{ address: 'a@example.jp', send: false }] }, shown, missed).send).toBe(false);
  });

  it('designated only: flagged callers only, never a withheld number', () => {
    const p = { ...profile, designatedOnly: true };
    expect(mailDecision({ ...p, callerDesignated: true }, shown, missed).send).toBe(true);
    expect(mailDecision(p, shown, missed)).toEqual({ send: false, why: 'caller not designated' });
    expect(mailDecision({ ...p, callerDesignated: true }, withheld, missed).send).toBe(false);
  });

  it('unanswered only: 応答なし and 転送 pass, 通話 does not', () => {
    const p = { ...profile, unansweredOnly: true };
    expect(mailDecision(p, shown, missed).send).toBe(true);
    expect(mailDecision(p, shown, forwarded).send).toBe(true);
    expect(mailDecision(p, shown, answered)).toEqual({ send: false, why: 'answered' });
  });

  it('a failed ボイスワープ forward sends nothing', () => {
    expect(mailDecision(profile, shown, { ...missed, forwardFailed: true })).toEqual({ send: false, why: 'forward failed' });
  });
});
