// Who called: the caller's number as the mail shows it, or the 非通知理由 when it must not or
// cannot be shown. Pure: works on header values, so it is the same for any SIP stack.
import type { Config } from '../config.ts';
import { isNationalNumber } from '../domain/phone-number.ts';

import type { AbsentReason } from '../domain/incoming-call.ts';

export type AbsentReasonRule = Config['notify']['absentReasonRules'][number];

export interface CallerHeaders {
  from?: string;
  /** Every P-Asserted-Identity value (a trunk may send a sip: and a tel: one). */
  pAssertedIdentity?: string[];
  privacy?: string;
}

export interface CallerIdentity {
  /** National (0…) or dial-back international (010…) digits; null when absent or withheld. */
  number: string | null;
  /** null exactly when number is shown. */
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

/** The user part of a sip:/sips:/tel: URI, with visual separators removed. */
function uriUser(uri: string): string {
  const m = /^(?:sips?:([^@;?]*)|tel:([^;?]*))/i.exec(uri);
  const user = m?.[1] ?? m?.[2] ?? '';
  return safeDecode(user).replace(/[-.() ]/g, '');
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a malformed escape from a trunk is kept as sent, never fatal
  }
}

/** +81 numbers become national (0…); other countries the way they are dialled back from Japan (010…). */
export function displayNumber(user: string): string | null {
  if (/^\+81\d{9,10}$/.test(user)) return `0${user.slice(3)}`;
  if (/^\+\d{6,15}$/.test(user)) return `010${user.slice(1)}`;
  if (/^\d{3,20}$/.test(user)) return user;
  return null;
}

function cpcOf(value: string): string | undefined {
  return /[;?&]cpc=([^;>@?&\s]+)/i.exec(value)?.[1]?.toLowerCase();
}

function privacyTokens(value: string | undefined): string[] {
  return (value ?? '').split(/[;,]/).map((t) => t.trim().toLowerCase()).filter(Boolean);
}

/**
 * Trust P-Asserted-Identity only from a trusted trunk peer; from anyone else it could be forged,
 * so From is used. The rules decide whether (and why) the number is hidden.
 */
export function callerIdentity(headers: CallerHeaders, trustedSource: boolean, rules: readonly AbsentReasonRule[]): CallerIdentity {
  const sources = trustedSource && headers.pAssertedIdentity?.length ? headers.pAssertedIdentity : headers.from ? [headers.from] : [];
  const identities = sources.map(parseNameAddr);
  const number = identities.map((i) => displayNumber(uriUser(i.uri))).find((n) => n !== null) ?? null;
  const privacy = privacyTokens(headers.privacy);
  const cpcs = sources.map(cpcOf).filter((c): c is string => !!c);
  const names = identities.map((i) => i.displayName.toLowerCase());
  for (const rule of rules) {
    const values = rule.values.map((v) => v.toLowerCase());
    const seen = rule.match === 'privacy' ? privacy : rule.match === 'cpc' ? cpcs : names;
    if (seen.some((s) => values.includes(s))) return { number: null, absentReason: rule.reason };
  }
  return number ? { number, absentReason: null } : { number: null, absentReason: '表示圏外' };
}

/** The subscriber number a Request-URI is for, in national format, or null when it names none. */
export function calledNumberOf(requestUri: string): string | null {
  const n = displayNumber(uriUser(requestUri.trim()));
  return n && isNationalNumber(n) ? n : null;
}

/** Splits a comma-joined header value (as SIP stacks merge repeated headers) into its entries. */
export function splitHeaderValues(value: string | undefined): string[] {
  if (!value) return [];
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
