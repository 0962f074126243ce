// Responses the engine writes itself, and where responses to a request go.
import { formatVia, getHeader, getHeaders, parseVia, tagOf, type Header, type SipRequest, type SipResponse } from './message.ts';
import { newTag } from './local-address.ts';
import { REASONS } from './reasons.ts';
import type { Peer } from './transport.ts';

/** The request's Via and dialog headers (those it has); the To tag is fixed per transaction when one is given. */
export function buildResponse(req: SipRequest, status: number, txn?: { toTag?: string }, reason = REASONS[status] ?? 'Unknown'): SipResponse {
  const headers: Header[] = req.headers.filter((h) => h.key === 'via');
  let to = getHeader(req, 'to');
  if (to && status > 100 && !tagOf(to)) to += `;tag=${txn ? (txn.toTag ??= newTag()) : newTag()}`;
  for (const [key, value] of [['from', getHeader(req, 'from')], ['to', to], ['call-id', getHeader(req, 'call-id')], ['cseq', getHeader(req, 'cseq')]] as const) {
    if (value) headers.push({ key, value });
  }
  return { kind: 'response', status, reason, headers, body: Buffer.alloc(0) };
}

/** For the app, when the network gave no final response (timeout, fault): as sofia does, a response made locally. */
export function localResponse(req: SipRequest, status: number): SipResponse {
  const headers = (['via', 'from', 'to', 'call-id', 'cseq'] as const)
    .map((key) => ({ key, value: (key === 'via' ? getHeaders(req, key)[0] : getHeader(req, key)) ?? '' }));
  return { kind: 'response', status, reason: REASONS[status] ?? 'Unknown', headers, body: Buffer.alloc(0) };
}

/** Where responses to this request go (§18.2.2 with RFC 3581 rport). */
export function responsePeer(req: SipRequest, peer: Peer): Peer {
  if (peer.protocol === 'tcp') return peer;
  const via = parseVia(getHeaders(req, 'via')[0] ?? '');
  const port = via?.params.has('rport') ? peer.port : (via?.port ?? 5060);
  return { protocol: 'udp', address: peer.address, port };
}

/** Adds received/rport to the top Via so the app and later hops see the real source (RFC 3581). */
export function stampVia(req: SipRequest, peer: Peer): void {
  const h = req.headers.find((x) => x.key === 'via');
  if (!h) return;
  const [top, ...rest] = getHeaders({ headers: [h] }, 'via');
  const via = parseVia(top ?? '');
  if (!via) return;
  if (via.host.replace(/^\[|\]$/g, '') !== peer.address) via.params.set('received', peer.address);
  if (via.params.has('rport')) via.params.set('rport', String(peer.port));
  h.value = [formatVia(via), ...rest].join(', ');
}
