import { describe, expect, it } from 'vitest';
import { diversionCount, diversionValue, historyInfoValue } from '../../src/notify/diversion.ts';
import { mayLeaveLine, nextAfterLine, routingPlan, takesCalls, type VoiceWarpRoute } from '../../src/notify/routing.ts';

const vw = (over: Partial<VoiceWarpRoute> = {}): VoiceWarpRoute => ({
  started: true, condition: 'unconditional', destination: '09012345678', ringSeconds: 20, guidance: false, select: { started: false, mode: 'forward_listed' }, ...over,
});
const LIMITS = { maxDiversions: 5, canForward: true };
const plan = (v: VoiceWarpRoute | null, over: { callerListed?: boolean; diversions?: number } = {}, limits = LIMITS) =>
  routingPlan({ voiceWarp: v, callerListed: over.callerListed ?? false, diversions: over.diversions ?? 0 }, limits);

describe('routing plan', () => {
  it('takes numbers with 着信お知らせメール, ボイスワープ or FAXお知らせメール', () => {
    expect(takesCalls(['chakushin_mail'])).toBe(true);
    expect(takesCalls(['voice_warp'])).toBe(true);
    expect(takesCalls(['fax_mail', 'nuisance_block'])).toBe(true);
    expect(takesCalls(['number_request', 'nuisance_block'])).toBe(false);
  });

  it('FAX ring-first: the line, then the FAX receiver on busy or after its seconds, ahead of ボイスワープ', () => {
    const fax = { kind: 'fax' };
    const expected = { plan: { first: 'line', onBusy: fax, onNoAnswer: { afterMs: 3000, next: fax } }, why: 'fax_ring_first' };
    expect(routingPlan({ voiceWarp: null, callerListed: false, diversions: 0, faxRingFirstMs: 3000 }, LIMITS)).toEqual(expected);
    expect(routingPlan({ voiceWarp: vw(), callerListed: false, diversions: 0, faxRingFirstMs: 3000 }, LIMITS)).toEqual(expected);
    expect(nextAfterLine(expected.plan as never, { busy: 486 })).toEqual(fax);
    expect(nextAfterLine(expected.plan as never, 'no_answer')).toEqual(fax);
  });

  it('rings the line only when ボイスワープ cannot act', () => {
    expect(plan(null)).toEqual({ plan: { first: 'line' }, why: 'no_voice_warp' });
    expect(plan(vw({ started: false }))).toEqual({ plan: { first: 'line' }, why: 'stopped' });
    expect(plan(vw({ destination: null }))).toMatchObject({ why: 'no_destination' });
    expect(plan(vw(), {}, { maxDiversions: 5, canForward: false })).toMatchObject({ why: 'no_next_hop' });
  });

  it('each 転送条件', () => {
    expect(plan(vw()).plan).toEqual({ first: 'next', next: { kind: 'forward', to: '09012345678', reason: 'unconditional', guidance: false } });
    expect(plan(vw({ condition: 'busy' })).plan).toEqual({ first: 'line', onBusy: { kind: 'forward', to: '09012345678', reason: 'user-busy', guidance: false } });
    expect(plan(vw({ condition: 'no_answer', ringSeconds: 7, guidance: true })).plan).toEqual({
      first: 'line', onNoAnswer: { afterMs: 7000, next: { kind: 'forward', to: '09012345678', reason: 'no-answer', guidance: true } },
    });
    const both = plan(vw({ condition: 'busy_no_answer' })).plan;
    expect(both).toMatchObject({ first: 'line', onBusy: { reason: 'user-busy' }, onNoAnswer: { afterMs: 20_000, next: { reason: 'no-answer' } } });
  });

  it('the line outcome picks the next leg: 486 and 600 are busy, other failures are relayed', () => {
    const p = plan(vw({ condition: 'busy_no_answer' })).plan;
    expect(nextAfterLine(p, { busy: 486 })).toMatchObject({ reason: 'user-busy' });
    expect(nextAfterLine(p, { busy: 600 })).toMatchObject({ reason: 'user-busy' });
    expect(nextAfterLine(p, { busy: 480 })).toBeUndefined();
    expect(nextAfterLine(p, { busy: 603 })).toBeUndefined();
    expect(nextAfterLine(p, 'no_answer')).toMatchObject({ reason: 'no-answer' });
    expect(nextAfterLine(plan(vw({ condition: 'busy' })).plan, 'no_answer')).toBeUndefined();
    expect(mayLeaveLine(p)).toBe(true);
    expect(mayLeaveLine({ first: 'line' })).toBe(false);
  });

  it('セレクト機能: listed or not, and callers without a number never listed', () => {
    const forwardListed = vw({ select: { started: true, mode: 'forward_listed' } });
    const ringListed = vw({ select: { started: true, mode: 'ring_listed' } });
    expect(plan(forwardListed, { callerListed: true }).why).toBe('voice_warp');
    expect(plan(forwardListed, { callerListed: false }).why).toBe('select_not_matched');
    expect(plan(ringListed, { callerListed: true }).why).toBe('select_not_matched');
    expect(plan(ringListed, { callerListed: false }).why).toBe('voice_warp');
  });

  it('loop guard: a call diverted maxDiversions times already rings the line', () => {
    expect(plan(vw(), { diversions: 4 }).why).toBe('voice_warp');
    expect(plan(vw(), { diversions: 5 })).toEqual({ plan: { first: 'line' }, why: 'loop_guard' });
  });
});

describe('Diversion (RFC 5806)', () => {
  it('counts earlier diversions over every entry, an entry without counter as 1', () => {
    expect(diversionCount(undefined)).toBe(0);
    expect(diversionCount('<sip:0611112222@a>;reason=unconditional;counter=1')).toBe(1);
    expect(diversionCount('<sip:0611112222@a>;reason=no-answer;counter=2, <sip:0622223333@b>;reason=user-busy')).toBe(3);
    expect(diversionCount(['<sip:1@a>;counter=3', '"Name, Inc" <sip:2@b>;reason=unknown;counter=1'])).toBe(4);
  });

  it('puts this diversion first and keeps the history', () => {
    expect(diversionValue('sip:0611112222@10.0.0.1;user=phone', 'no-answer', '<sip:0633334444@b>;reason=unconditional;counter=1'))
      .toBe('<sip:0611112222@10.0.0.1;user=phone>;reason=no-answer;counter=1, <sip:0633334444@b>;reason=unconditional;counter=1');
  });
});

describe('History-Info (RFC 7044, cause per RFC 7544)', () => {
  it('a call without History-Info: the subscriber at index 1 with the Reason, the 転送先 at 1.1 with cause and mp', () => {
    expect(historyInfoValue('sip:0611112222@10.0.0.1', 'sip:09012345678@192.0.2.1', 'user-busy', undefined)).toBe(
      '<sip:0611112222@10.0.0.1?Reason=SIP%3Bcause%3D486%3Btext%3D%22Busy%20Here%22>;index=1, <sip:09012345678@192.0.2.1;cause=486>;index=1.1;mp=1',
    );
    expect(historyInfoValue('sip:a@h', 'sip:b@h', 'unconditional', undefined)).toContain('<sip:b@h;cause=302>;index=1.1;mp=1');
    expect(historyInfoValue('sip:a@h', 'sip:b@h', 'no-answer', undefined)).toContain('<sip:b@h;cause=408>;index=1.1;mp=1');
  });

  it('a call with History-Info: the last entry retargeted, the 転送先 one level below it', () => {
    expect(historyInfoValue('sip:a@h', 'sip:c@h', 'no-answer', '<sip:x@h>;index=1, <sip:a@h;cause=302>;index=1.1;mp=1'))
      .toBe('<sip:x@h>;index=1, <sip:a@h;cause=302?Reason=SIP%3Bcause%3D408%3Btext%3D%22Request%20Timeout%22>;index=1.1;mp=1, <sip:c@h;cause=408>;index=1.1.1;mp=1.1');
  });
});
