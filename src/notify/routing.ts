// What happens to a call to a number on the notify path, decided before anything is sent and
// again when the line gives its outcome. Pure: the routing plan comes from the number's settings
// (as read once per call), the caller and the Diversion history; the call object (call.ts) executes
// it. One mechanism, "line outcome → next leg", serves every service that acts after the line:
//
//   routingPlan(facts) → { first: 'line', onBusy?, onNoAnswer? }   ring the line; maybe more after
//                      → { first: 'next', next }                   do not ring the line at all
//   nextAfterLine(plan, 'busy' | 'no_answer') → NextLeg | undefined
//
// A NextLeg is what the call does instead of relaying the line's outcome. Today: forward to a
// 転送先 (ボイスワープ). 一括転送 (issue 21) is a `first: 'next'` forward with reason unconditional
// decided ahead of ボイスワープ (it wins while it is on); the FAX receiver's ring-first mode (issue
// 22) is a NextLeg of its own kind on busy and on no-answer after its own seconds.
import {
  forwardsOnBusy,
  forwardsOnNoAnswer,
  selectAllowsForward,
  type ForwardCondition,
  type SelectMode,
} from '../domain/voice-warp.ts';
import type { ServiceName } from '../domain/subscriber.ts';
import type { DiversionReason } from './diversion.ts';

/** Services whose numbers the notify B2BUA takes calls for (the rest are left to other handlers). */
export const NOTIFY_PATH_SERVICES = ['chakushin_mail', 'voice_warp', 'fax_mail'] as const satisfies readonly ServiceName[];

export function takesCalls(services: readonly string[]): boolean {
  return NOTIFY_PATH_SERVICES.some((s) => services.includes(s));
}

/** A number's ボイスワープ as the call path needs it (read with the call's profile). */
export interface VoiceWarpRoute {
  started: boolean;
  condition: ForwardCondition;
  destination: string | null;
  ringSeconds: number;
  guidance: boolean;
  select: { started: boolean; mode: SelectMode };
}

export interface RoutingFacts {
  /** null: the number does not subscribe voice_warp. */
  voiceWarp: VoiceWarpRoute | null;
  /** The caller's number is on the セレクト機能 list (always false for a caller without a number). */
  callerListed: boolean;
  /** Diversions the call has been through already (diversionCount of its Diversion headers). */
  diversions: number;
  /** FAXお知らせメール started with fax.ringLineFirstSec > 0: the line rings this long before the FAX receiver answers. */
  faxRingFirstMs?: number;
}

export interface RoutingLimits {
  /** voiceWarp.maxDiversions */
  maxDiversions: number;
  /** A forward can be sent (notify.nextHop is set). */
  canForward: boolean;
}

/** Send the call on to a 転送先 (a new INVITE at notify.nextHop with Diversion). */
export interface ForwardLeg {
  kind: 'forward';
  to: string;
  reason: DiversionReason;
  /** Play 転送ガイダンス as early media first (media anchored for the rest of the call). */
  guidance: boolean;
}

/** The FAX receiver answers the caller (FAXお知らせメール's ring-first mode). */
export interface FaxLeg {
  kind: 'fax';
}

/** What the call does instead of relaying the line's outcome. */
export type NextLeg = ForwardLeg | FaxLeg;

export type RoutingPlan =
  | { first: 'line'; onBusy?: NextLeg; onNoAnswer?: { afterMs: number; next: NextLeg } }
  | { first: 'next'; next: NextLeg };

/** Why the plan is what it is, for the log line of each call. */
export type RoutingWhy =
  | 'no_voice_warp' | 'stopped' | 'no_destination' | 'select_not_matched' | 'loop_guard' | 'no_next_hop' | 'voice_warp' | 'fax_ring_first';

const LINE_ONLY: RoutingPlan = { first: 'line' };

export function routingPlan(facts: RoutingFacts, limits: RoutingLimits): { plan: RoutingPlan; why: RoutingWhy } {
  // A FAX number rings its line first and then answers with the FAX receiver: the document is the
  // subscriber's, so it wins over a forward (the FAX would not reach a 転送先's voice line either).
  if (facts.faxRingFirstMs !== undefined) {
    const fax: FaxLeg = { kind: 'fax' };
    return { plan: { first: 'line', onBusy: fax, onNoAnswer: { afterMs: facts.faxRingFirstMs, next: fax } }, why: 'fax_ring_first' };
  }
  const vw = facts.voiceWarp;
  if (!vw) return { plan: LINE_ONLY, why: 'no_voice_warp' };
  if (!vw.started) return { plan: LINE_ONLY, why: 'stopped' };
  if (!vw.destination) return { plan: LINE_ONLY, why: 'no_destination' };
  if (!selectAllowsForward(vw.select, facts.callerListed)) return { plan: LINE_ONLY, why: 'select_not_matched' };
  // A call already diverted this often is delivered here, never forwarded again: loops end.
  if (facts.diversions >= limits.maxDiversions) return { plan: LINE_ONLY, why: 'loop_guard' };
  if (!limits.canForward) return { plan: LINE_ONLY, why: 'no_next_hop' };
  const forward = (reason: DiversionReason): ForwardLeg => ({ kind: 'forward', to: vw.destination!, reason, guidance: vw.guidance });
  if (vw.condition === 'unconditional') return { plan: { first: 'next', next: forward('unconditional') }, why: 'voice_warp' };
  const plan: RoutingPlan = { first: 'line' };
  if (forwardsOnBusy(vw.condition)) plan.onBusy = forward('user-busy');
  if (forwardsOnNoAnswer(vw.condition)) plan.onNoAnswer = { afterMs: vw.ringSeconds * 1000, next: forward('no-answer') };
  return { plan, why: 'voice_warp' };
}

/** A line that is busy: 486 Busy Here or 600 Busy Everywhere. */
export function isBusy(status: number): boolean {
  return status === 486 || status === 600;
}

/** The next leg after the line was busy or rang past its seconds; undefined: relay the line's outcome. */
export function nextAfterLine(plan: RoutingPlan, outcome: { busy: number } | 'no_answer'): NextLeg | undefined {
  if (plan.first !== 'line') return undefined;
  if (outcome === 'no_answer') return plan.onNoAnswer?.next;
  return isBusy(outcome.busy) ? plan.onBusy : undefined;
}

/** Whether the line's answer may still be followed by another leg: its 18x then carry no SDP to the caller. */
export function mayLeaveLine(plan: RoutingPlan): boolean {
  return plan.first === 'line' && (plan.onBusy !== undefined || plan.onNoAnswer !== undefined);
}
