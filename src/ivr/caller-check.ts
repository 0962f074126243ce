// 契約電話番号の認証: may this call reach a temp-password flow, and as whom?
// Pure, in two halves around the one database lookup the glue does:
//   callerOf(callerId(headers, isTrustedPeer(source), rules)) → number | withheld | unknown
//   (glue: contract = lookup(number))
//   decide({ hasAudio, caller, access }, contract) → reject | announce | run flow A/B
import { parse as parseSdp } from 'sdp-transform';
import type { Config } from '../config.ts';
import { nationalNumberOf, type CallerId } from '../domain/caller-id.ts';
import { isNationalNumber } from '../domain/phone-number.ts';
import { MAIL_SERVICES, subscribesAny, type Contract, type NumberRole, type Region } from '../domain/subscriber.ts';

export type CallerNumber = { kind: 'number'; number: string } | { kind: 'withheld' } | { kind: 'unknown' };

export type AccessNumber = { pattern: 'A'; region: Region } | { pattern: 'B' };

export interface CallFacts {
  /** Whether the SDP offer has a usable audio stream (see offersAudio). */
  hasAudio: boolean;
  caller: CallerNumber;
  /**
   * The caller ID came from a trusted trunk peer (its P-Asserted-Identity, or its From when it sent
   * none: inside the trust domain the softswitch vouches for both). Only then may a flow set a password.
   */
  callerAsserted: boolean;
  /** The dialled 仮パスワード設定番号 (see accessNumberOf). */
  access: AccessNumber;
}

export type Decision =
  /** データコネクト and other non-voice calls: not answered. */
  | { action: 'reject'; status: 488; reason: 'data_only' }
  /** Answer, play the prompt, hang up. */
  | { action: 'announce'; prompt: 'withheld_caller'; reason: 'withheld' }
  | { action: 'announce'; prompt: 'not_in_service'; reason: 'not_a_contract_number' | 'wrong_access_number' | 'no_mail_service' | 'caller_not_asserted' }
  | { action: 'run'; pattern: 'A'; caller: { number: string; role: NumberRole }; contract: Contract }
  | { action: 'run'; pattern: 'B'; caller: { number: string; role: NumberRole | 'auth' }; contract: Contract };

/**
 * The caller as the IVR sees it, from the caller ID notify shows too (domain/caller-id.ts): a national
 * number; withheld (非通知: the caller can call again showing it); or unknown (公衆, 表示圏外, another
 * country: no contract's line).
 */
export function callerOf(id: CallerId): CallerNumber {
  if (id.number !== null && isNationalNumber(id.number)) return { kind: 'number', number: id.number };
  return id.absentReason === '非通知' ? { kind: 'withheld' } : { kind: 'unknown' };
}

/** Which 仮パスワード設定番号 was dialled (Request-URI user), or null when it is none of them. */
export function accessNumberOf(dialled: string, numbers: Config['ivr']['accessNumbers']): AccessNumber | null {
  const n = nationalNumberOf(dialled);
  if (n === null) return null;
  if (n === numbers.A.east) return { pattern: 'A', region: 'east' };
  if (n === numbers.A.west) return { pattern: 'A', region: 'west' };
  if (n === numbers.B) return { pattern: 'B' };
  return null;
}

/**
 * Whether an SDP offer can carry a voice call: an audio stream with a non-zero port.
 * データコネクト offers only application/video streams; an unparseable or empty offer counts as none.
 */
export function offersAudio(sdp: string): boolean {
  try {
    return parseSdp(sdp).media.some((m) => m.type === 'audio' && m.port !== 0);
  } catch {
    return false;
  }
}

const notInService = (reason: 'not_a_contract_number' | 'wrong_access_number' | 'no_mail_service' | 'caller_not_asserted'): Extract<Decision, { prompt: 'not_in_service' }> => ({
  action: 'announce',
  prompt: 'not_in_service',
  reason,
});

/**
 * What every IVR menu refuses before its own rules (the temp-password flows, the ボイスワープ menu):
 * a call without audio, a withheld caller, a caller that is no number of a contract, a caller ID no
 * trunk peer asserted. undefined: the caller is a number the contract knows (a line or 認証用番号).
 */
export function callerRefusal(facts: Omit<CallFacts, 'access'>, contract: Contract | null): Exclude<Decision, { action: 'run' }> | undefined {
  if (!facts.hasAudio) return { action: 'reject', status: 488, reason: 'data_only' };
  if (facts.caller.kind === 'withheld') return { action: 'announce', prompt: 'withheld_caller', reason: 'withheld' };
  if (facts.caller.kind === 'unknown' || contract === null) return notInService('not_a_contract_number');
  // A service opened to other sources for testing still never changes anything for a caller ID anyone could write.
  if (!facts.callerAsserted) return notInService('caller_not_asserted');
  return undefined;
}

/**
 * The decision for one call, given the contract the caller's number (or 認証用番号) belongs to,
 * or null when it belongs to none (mobile, other carrier).
 */
export function decide(facts: CallFacts, contract: Contract | null): Decision {
  const refused = callerRefusal(facts, contract);
  if (refused || facts.caller.kind !== 'number' || !contract) return refused ?? notInService('not_a_contract_number');
  const number = facts.caller.number;
  const own = contract.numbers.find((n) => n.number === number);
  const { access } = facts;

  if (access.pattern === 'A') {
    // Each region's number serves that region's pattern A contracts only; 認証用番号 are a pattern B notion.
    if (contract.pattern !== 'A' || contract.region !== access.region) return notInService('wrong_access_number');
    if (!own) return notInService('not_a_contract_number');
    return { action: 'run', pattern: 'A', caller: { number, role: own.role }, contract };
  }

  if (contract.pattern !== 'B') return notInService('wrong_access_number');
  if (own) {
    if (!subscribesAny(own, MAIL_SERVICES)) return notInService('no_mail_service');
    return { action: 'run', pattern: 'B', caller: { number, role: own.role }, contract };
  }
  if (contract.authNumbers.includes(number)) return { action: 'run', pattern: 'B', caller: { number, role: 'auth' }, contract };
  return notInService('not_a_contract_number');
}
