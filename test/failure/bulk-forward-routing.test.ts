// 一括転送 in the routing plan: ahead of ボイスワープ while on, with ボイスワープ's limits.
import { describe, expect, it } from 'vitest';
import { routingPlan, takesCalls, type RoutingFacts, type VoiceWarpRoute } from '../../src/notify/routing.ts';

const vw: VoiceWarpRoute = {
  started: true, condition: 'no_answer', destination: '09012345678', ringSeconds: 20, guidance: true, select: { started: true, mode: 'forward_listed' },
};
const LIMITS = { maxDiversions: 5, canForward: true };
const facts = (over: Partial<RoutingFacts> = {}): RoutingFacts => ({ bulkForward: '0312345678', voiceWarp: null, callerListed: false, diversions: 0, ...over });

describe('一括転送 in the routing plan', () => {
  it('takes every number of a contract with 一括転送, whatever the number subscribes', () => {
    expect(takesCalls([], ['bulk_forward'])).toBe(true);
    expect(takesCalls(['nuisance_block'], ['failure_notice'])).toBe(false);
  });

  it('while on: the line is never rung, the call goes to 一括転送\'s 転送先 unconditionally, without guidance', () => {
    expect(routingPlan(facts(), LIMITS)).toEqual({
      plan: { first: 'next', next: { kind: 'forward', by: 'bulk_forward', to: '0312345678', reason: 'unconditional', guidance: false } },
      why: 'bulk_forward',
    });
  });

  it('wins over the number\'s own ボイスワープ (its 転送条件, セレクト and 転送ガイダンス are not applied); off, ボイスワープ acts again', () => {
    expect(routingPlan(facts({ voiceWarp: vw, callerListed: false }), LIMITS).plan).toMatchObject({ first: 'next', next: { by: 'bulk_forward', to: '0312345678' } });
    expect(routingPlan(facts({ bulkForward: null, voiceWarp: vw, callerListed: true }), LIMITS).plan).toMatchObject({ first: 'line', onNoAnswer: { next: { by: 'voice_warp' } } });
  });

  it('keeps ボイスワープ\'s loop guard and needs the next hop', () => {
    expect(routingPlan(facts({ diversions: 5 }), LIMITS)).toEqual({ plan: { first: 'line' }, why: 'loop_guard' });
    expect(routingPlan(facts(), { maxDiversions: 5, canForward: false })).toEqual({ plan: { first: 'line' }, why: 'no_next_hop' });
  });
});

describe('一括転送 and a FAX number in ring-first mode', () => {
  it('the FAX plan stays ahead: the line rings first and the FAX receiver answers after its seconds, never a forward', () => {
    expect(routingPlan(facts({ faxRingFirstMs: 15_000 }), LIMITS)).toEqual({
      plan: { first: 'line', onBusy: { kind: 'fax' }, onNoAnswer: { afterMs: 15_000, next: { kind: 'fax' } } },
      why: 'fax_ring_first',
    });
  });
});
