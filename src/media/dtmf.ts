// DTMF key names shared by every detector: 0-9, *, #, A-D (RFC 4733 event codes 0-15).

const EVENT_KEYS = '0123456789*#ABCD';

export type DtmfSource = 'rfc4733' | 'info' | 'inband';

/** RFC 4733 event code → key; undefined for non-DTMF events (flash, tones). */
export function eventToKey(code: number): string | undefined {
  return code >= 0 && code < 16 ? EVENT_KEYS[code] : undefined;
}

/** Normalise a key ('a' → 'A'); undefined when it is not a DTMF key. */
export function normaliseKey(key: string): string | undefined {
  const k = key.toUpperCase();
  return k.length === 1 && EVENT_KEYS.includes(k) ? k : undefined;
}
