// The headers a forwarded leg carries, built from header values only (pure, any SIP stack):
// Diversion (RFC 5806) and, by config, History-Info (RFC 7044, with the cause= of RFC 4458 as
// RFC 7544 maps Diversion reasons to it). And the loop guard's count of earlier diversions.
import { splitHeaderValues } from '../domain/caller-id.ts';

/** Why the call was diverted, in Diversion's words (RFC 5806 §3: diversion-reason). */
export type DiversionReason = 'unconditional' | 'user-busy' | 'no-answer';

/** RFC 7544 §3 (Table 1): the History-Info cause= (RFC 4458) of each Diversion reason. */
const HISTORY_CAUSE: Record<DiversionReason, { cause: number; text: string }> = {
  unconditional: { cause: 302, text: 'Moved Temporarily' },
  'user-busy': { cause: 486, text: 'Busy Here' },
  'no-answer': { cause: 408, text: 'Request Timeout' },
};

/** A header's entries, whether the stack gave them as one comma-joined value or several. */
function entries(values: string | readonly string[] | undefined): string[] {
  if (values === undefined) return [];
  return (typeof values === 'string' ? [values] : values).flatMap((v) => splitHeaderValues(v));
}

/** The parameters after the name-addr of one entry (`<uri>;a=b;c`), lower-cased names. */
function entryParams(entry: string): Map<string, string> {
  const after = entry.slice(entry.lastIndexOf('>') + 1);
  const params = new Map<string, string>();
  for (const p of after.split(';').slice(1)) {
    const [k, v = ''] = p.split('=');
    if (k) params.set(k.trim().toLowerCase(), v.trim().replace(/^"|"$/g, ''));
  }
  return params;
}

/**
 * How many times the call has been diverted already: the sum of counter= over every Diversion
 * entry, an entry without a counter counting 1 (RFC 5806 §3). The loop guard compares it with
 * voiceWarp.maxDiversions.
 */
export function diversionCount(diversion: string | readonly string[] | undefined): number {
  return entries(diversion).reduce((sum, e) => {
    const counter = Number(entryParams(e).get('counter') ?? '1');
    return sum + (Number.isInteger(counter) && counter > 0 ? counter : 1);
  }, 0);
}

/**
 * The Diversion value of the forwarded leg: this diversion first (the diverting subscriber, the
 * reason, counter=1), then the entries the call came with, so the next hop sees the whole history.
 */
export function diversionValue(divertingUri: string, reason: DiversionReason, incoming: string | readonly string[] | undefined): string {
  return [`<${divertingUri}>;reason=${reason};counter=1`, ...entries(incoming)].join(', ');
}

function escapedReason(reason: DiversionReason): string {
  const { cause, text } = HISTORY_CAUSE[reason];
  return encodeURIComponent(`SIP;cause=${cause};text="${text}"`);
}

/**
 * The History-Info value of the forwarded leg (RFC 7044): the entries the call came with (or, when
 * it came with none, one for the subscriber, index 1), the last of them given the Reason it was
 * retargeted for, then the 転送先 with cause= (RFC 4458 values, mapped per RFC 7544) and mp= (the
 * target user changed) pointing at the entry it was retargeted from.
 */
export function historyInfoValue(
  divertingUri: string,
  targetUri: string,
  reason: DiversionReason,
  incoming: string | readonly string[] | undefined,
): string {
  const list = entries(incoming);
  if (list.length === 0) list.push(`<${divertingUri}>;index=1`);
  const lastIndex = entryParams(list[list.length - 1]!).get('index') ?? '1';
  const last = list[list.length - 1]!;
  // The Reason is carried as a header of the retargeted-from URI, unless that URI has headers already.
  const close = last.indexOf('>');
  if (close > 0 && !last.slice(0, close).includes('?')) list[list.length - 1] = `${last.slice(0, close)}?Reason=${escapedReason(reason)}${last.slice(close)}`;
  const target = `<${targetUri};cause=${HISTORY_CAUSE[reason].cause}>;index=${lastIndex}.1;mp=${lastIndex}`;
  return [...list, target].join(', ');
}
