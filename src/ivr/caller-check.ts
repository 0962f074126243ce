// 契約電話番号の認証: may this call reach a temp-password flow, and as whom?
// Pure, in two halves around the one database lookup the glue does:
//   callerNumberOf(invite, trustedPeers) → number | withheld | unknown
//   (glue: contract = lookup(number))
//   decide({ hasAudio, caller, access }, contract) → reject | announce | run flow A/B
import { parse as parseSdp } from 'sdp-transform';
import type { Config } from '../config.ts';
import { MAIL_SERVICES, subscribesAny, type Contract, type NumberRole, type Region } from '../domain/subscriber.ts';
import { isNationalNumber } from '../domain/phone-number.ts';
import { trustedPeerMatcher } from '../domain/trusted-peers.ts';

/** The identity-bearing parts of the INVITE, as header values. */
export interface InviteIdentity {
  /** Address the request came from (the peer's IP). */
  sourceAddress: string;
  /** The From URI or just its user part. */
  from: string | null;
  /** P-Asserted-Identity value(s); a trunk may send a sip: and a tel: one. */
  pAssertedIdentity?: string | readonly string[] | null;
  privacy?: string | null;
}

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

const WITHHOLDING_PRIVACY = ['id', 'user', 'header'];

/**
 * A national number (0 + 9–10 digits) from a tel:/sip: URI, its user part or plain digits:
 * +81 becomes 0, visual separators (- . ( ) space) go. Anything else: null.
 */
export function normaliseNumber(raw: string): string | null {
  let user = raw.trim().replace(/^<|>$/g, '');
  user = user.replace(/^(?:sips?|tel):/i, '').split(/[@;?]/)[0] ?? '';
  user = safeDecode(user).replace(/[-.() ]/g, '');
  if (user.startsWith('+81')) user = `0${user.slice(3)}`;
  return isNationalNumber(user) ? user : null;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a malformed escape is taken as sent and then fails validation, never fatal
  }
}

/** URIs of a name-addr list: `"A" <sip:…>, <tel:…>`; an addr-spec without brackets is taken whole. */
function urisOf(value: string): string[] {
  const bracketed = [...value.matchAll(/<([^>]*)>/g)].map((m) => m[1] ?? '');
  return bracketed.length > 0 ? bracketed : value.split(',').map((v) => v.trim());
}

function isAnonymous(uri: string): boolean {
  const user = uri.trim().replace(/^<|>$/g, '').replace(/^(?:sips?|tel):/i, '').split(/[@;?]/)[0] ?? '';
  return user.toLowerCase() === 'anonymous' || /@anonymous\.invalid\b/i.test(uri);
}

/**
 * The caller's number. P-Asserted-Identity is believed only from a trusted trunk peer:
 * anyone else could write any number there, so From is used. A Privacy request for the
 * identity (id/user/header) or an anonymous URI means 非通知.
 */
export function callerNumberOf(invite: InviteIdentity, trustedPeers: readonly string[]): CallerNumber {
  const privacy = (invite.privacy ?? '').split(/[;,\s]+/).map((t) => t.toLowerCase());
  if (privacy.some((t) => WITHHOLDING_PRIVACY.includes(t))) return { kind: 'withheld' };

  if (invite.pAssertedIdentity && trustedPeerMatcher(trustedPeers)(invite.sourceAddress)) {
    const values = typeof invite.pAssertedIdentity === 'string' ? [invite.pAssertedIdentity] : invite.pAssertedIdentity;
    const uris = values.flatMap(urisOf);
    if (uris.some(isAnonymous)) return { kind: 'withheld' };
    const number = uris.map(normaliseNumber).find((n) => n !== null);
    if (number) return { kind: 'number', number };
  }

  const from = urisOf(invite.from ?? '')[0] ?? '';
  if (isAnonymous(from)) return { kind: 'withheld' };
  const number = normaliseNumber(from);
  return number ? { kind: 'number', number } : { kind: 'unknown' };
}

/** Which 仮パスワード設定番号 was dialled (Request-URI user), or null when it is none of them. */
export function accessNumberOf(dialled: string, numbers: Config['ivr']['accessNumbers']): AccessNumber | null {
  const n = normaliseNumber(dialled);
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

const notInService = (reason: 'not_a_contract_number' | 'wrong_access_number' | 'no_mail_service' | 'caller_not_asserted'): Decision => ({
  action: 'announce',
  prompt: 'not_in_service',
  reason,
});

/**
 * The decision for one call, given the contract the caller's number (or 認証用番号) belongs to,
 * or null when it belongs to none (mobile, other carrier).
 */
export function decide(facts: CallFacts, contract: Contract | null): Decision {
  if (!facts.hasAudio) return { action: 'reject', status: 488, reason: 'data_only' };
  if (facts.caller.kind === 'withheld') return { action: 'announce', prompt: 'withheld_caller', reason: 'withheld' };
  if (facts.caller.kind === 'unknown' || contract === null) return notInService('not_a_contract_number');
  // A service opened to other sources for testing still never sets a password on a caller ID anyone could write.
  if (!facts.callerAsserted) return notInService('caller_not_asserted');
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
