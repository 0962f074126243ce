// What an IVR access number offers once the caller is checked: the 仮パスワード設定 flows
// (temp-password-menu.ts) or the ボイスワープ phone menu (voice-warp-menu.ts). The call (call.ts)
// is the same for both — answering, the ACK, DTMF by RFC 2833 and INFO, the record, the end — and
// asks its menu two things: what to do with this caller, and (if it is a flow) to run it.
import type { Contract } from '../domain/subscriber.ts';
import type { MediaSession } from '../media/port.ts';
import type { CallerNumber } from './caller-check.ts';

export interface MenuFacts {
  /** The SDP offer has a usable audio stream. */
  hasAudio: boolean;
  caller: CallerNumber;
  /** The caller ID came from a trusted trunk peer: only then may a flow change anything. */
  callerAsserted: boolean;
}

/** A flow's outcome as the ivr_call record keeps it. */
export interface MenuOutcome {
  outcome: 'completed' | 'failed_3_strikes' | 'store_failed' | 'caller_hung_up';
  /** What was chosen: the 認証単位 (pattern A), the service (pattern B), what was changed (ボイスワープ). */
  unit?: string;
  target?: string;
  failedStep?: string;
}

export type MenuDecision =
  /** データコネクト and other non-voice calls: not answered. */
  | { action: 'reject'; status: 488; reason: 'data_only' }
  /** Answer, play the prompt, hang up. */
  | { action: 'announce'; prompt: string; reason: string }
  /** Answer and run the menu's flow on the call's media. */
  | { action: 'run'; run(session: MediaSession): Promise<MenuOutcome> };

export interface IvrMenu {
  /** The settings pattern the record names (A, B), or null for a menu that is not a temp-password flow. */
  pattern: 'A' | 'B' | null;
  /** The decision for one caller, given the contract its number (or 認証用番号) belongs to, if any. */
  decide(facts: MenuFacts, contract: Contract | null): MenuDecision;
}
