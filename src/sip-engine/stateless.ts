// Responses the engine writes without a transaction: for a request it refuses before any state is
// kept for it (at capacity, or on a TCP stream it is about to close).
import { getHeader, getHeaders, parseVia, type Header, type SipRequest, type SipResponse } from './message.ts';
import { randomToken } from './random.ts';
import { REASONS } from './reasons.ts';

/** Whether a response can be built at all: the dialog headers and a readable top Via (§8.2.6.2). */
export function answerable(req: SipRequest): boolean {
  return req.method !== 'ACK' && ['from', 'to', 'call-id', 'cseq'].every((k) => !!getHeader(req, k))
    && !!parseVia(getHeaders(req, 'via')[0] ?? '');
}

export function statelessResponse(req: SipRequest, status: number, extra: Header[] = []): SipResponse {
  let to = getHeader(req, 'to') ?? '';
  if (!/;\s*tag=/i.test(to)) to += `;tag=${randomToken(6, 'hex')}`;
  const headers: Header[] = [
    ...req.headers.filter((h) => h.key === 'via'),
    { key: 'from', value: getHeader(req, 'from') ?? '' },
    { key: 'to', value: to },
    { key: 'call-id', value: getHeader(req, 'call-id') ?? '' },
    { key: 'cseq', value: getHeader(req, 'cseq') ?? '' },
    ...extra,
  ];
  return { kind: 'response', status, reason: REASONS[status] ?? 'Unknown', headers, body: Buffer.alloc(0) };
}

/** 503 for a request refused because the engine is at capacity (RFC 3261 §21.5.4: Retry-After). */
export function overloadedResponse(req: SipRequest, retryAfterSec: number): SipResponse {
  return statelessResponse(req, 503, [{ key: 'retry-after', value: String(retryAfterSec) }]);
}
