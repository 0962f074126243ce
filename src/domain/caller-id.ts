// 発信者番号 or 非通知理由 of one INVITE: the one rule the IVR (whose line is calling to set a temp
// password) and the notify path (what the 着信お知らせメール shows) apply, so they never disagree
// about a call. Pure: header values in, whatever the SIP stack; whether the source is a trusted
// trunk peer is decided by the injected matcher (trusted-peers.ts) and passed in.
import type { AbsentReason } from './incoming-call.ts';
import { isNationalNumber } from './phone-number.ts';

/**
 * 非通知理由 rules (`notify.absentReasonRules`), first match wins; a match hides the number even when
 * the trunk asserted it. privacy: a token of the Privacy header; cpc: the cpc= parameter on the
 * PAI/From URI; displayName: the PAI/From display name (interworking gateways put the ISUP cause there).
 */
export const ABSENT_REASON_MATCHES = ['privacy', 'cpc', 'displayName'] as const;
export interface AbsentReasonRule {
  match: (typeof ABSENT_REASON_MATCHES)[number];
  values: readonly string[];
  reason: AbsentReason;
}

export const DEFAULT_ABSENT_REASON_RULES: readonly AbsentReasonRule[] = [
  { match: 'cpc', values: ['payphone'], reason: '公衆' },
  { match: 'privacy', values: ['id', 'user', 'header'], reason: '非通知' },
  { match: 'displayName', values: ['Coin line/payphone'], reason: '公衆' },
];

export interface CallerIdHeaders {
  from?: string | null;
  /** P-Asserted-Identity: each header value, or one comma-joined value (a trunk may send a sip: and a tel: one). */
  pAssertedIdentity?: string | readonly string[] | null;
  privacy?: string | null;
}

export interface CallerId {
  /** National (0…), dial-back international (010…) or other digits as sent; null when absent or withheld. */
  number: string | null;
  /** 非通知理由; null exactly when the number is shown. */
  absentReason: AbsentReason | null;
}

interface NameAddr {
  displayName: string;
  uri: string;
}

function parseNameAddr(value: string): NameAddr {
  const angle = /^\s*(?:"((?:[^"\\]|\\.)*)"|([^<]*?))\s*<([^>]*)>/.exec(value);
  if (angle) return { displayName: (angle[1] ?? angle[2] ?? '').replace(/\\(.)/g, '$1').trim(), uri: angle[3]!.trim() };
  // addr-spec form: header parameters follow the first ';'.
  return { displayName: '', uri: value.trim().split(';')[0]!.trim() };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a malformed escape is kept as sent and then fails as a number, never fatal
  }
}

/** The user part of a sip:/sips:/tel: URI (or of a bare user), %-decoded, visual separators (- . ( ) space) removed. */
function userOf(uri: string): string {
  const user = /^(?:sips?:|tel:)?([^@;?]*)/i.exec(uri.trim().replace(/^<|>$/g, ''))?.[1] ?? '';
  return safeDecode(user).replace(/[-.() ]/g, '');
}

/** +81 numbers become national (0…); other countries the way they are dialled back from Japan (010…). */
function displayNumber(user: string): string | null {
  if (/^\+81\d{9,10}$/.test(user)) return `0${user.slice(3)}`;
  if (/^\+\d{6,15}$/.test(user)) return `010${user.slice(1)}`;
  if (/^\d{3,20}$/.test(user)) return user;
  return null;
}

/**
 * The national number (0 + 9–10 digits) a URI, its user part or typed digits name: +81 becomes 0,
 * separators and %-escapes go; anything else (another country, letters) is null. For Request-URIs
 * (the dialled subscriber or access number).
 */
export function nationalNumberOf(uri: string): string | null {
  const user = userOf(uri);
  if (user.startsWith('+') && !user.startsWith('+81')) return null;
  const n = displayNumber(user);
  return isNationalNumber(n) ? n : null;
}

function cpcOf(value: string): string | undefined {
  return /[;?&]cpc=([^;>@?&\s]+)/i.exec(value)?.[1]?.toLowerCase();
}

/** Privacy tokens: `;` separates them (RFC 3323), `,` joins repeated headers; a space is taken as a separator too (never show a number whose caller asked otherwise). */
function privacyTokens(value: string | null | undefined): string[] {
  return (value ?? '').split(/[;,\s]+/).map((t) => t.toLowerCase()).filter(Boolean);
}

/** Splits comma-joined header values (as SIP stacks merge repeated headers) into their entries, keeping commas inside quotes and <>. */
export function splitHeaderValues(value: string | readonly string[] | null | undefined): string[] {
  if (!value) return [];
  if (typeof value !== 'string') return value.flatMap((v) => splitHeaderValues(v));
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && ch === '<') depth++;
    else if (!quoted && ch === '>') depth = Math.max(0, depth - 1);
    else if (!quoted && depth === 0 && ch === ',') {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter(Boolean);
}

/**
 * Who called. P-Asserted-Identity is believed only from a trusted trunk peer (`trustedSource`):
 * anyone else could write any number there, so From is used. The first identity with a number gives
 * it; then the rules decide whether (and why) it is hidden. No rule matched and no number: 表示圏外.
 */
export function callerId(headers: CallerIdHeaders, trustedSource: boolean, rules: readonly AbsentReasonRule[]): CallerId {
  const asserted = trustedSource ? splitHeaderValues(headers.pAssertedIdentity) : [];
  const sources = asserted.length > 0 ? asserted : headers.from ? [headers.from] : [];
  const identities = sources.map(parseNameAddr);
  const number = identities.map((i) => displayNumber(userOf(i.uri))).find((n) => n !== null) ?? null;
  const seen: Record<AbsentReasonRule['match'], string[]> = {
    privacy: privacyTokens(headers.privacy),
    cpc: sources.map(cpcOf).filter((c): c is string => !!c),
    displayName: identities.map((i) => i.displayName.toLowerCase()),
  };
  for (const rule of rules) {
    const values = rule.values.map((v) => v.toLowerCase());
    if (seen[rule.match].some((s) => values.includes(s))) return { number: null, absentReason: rule.reason };
  }
  return number ? { number, absentReason: null } : { number: null, absentReason: '表示圏外' };
}
