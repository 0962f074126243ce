// What goes on the wire for an app's message: the app's headers minus those the engine owns
// (drachtio-server policy), with the engine's Via, tags, Contact and `@localhost` made real.
import { randomInt, randomUUID } from 'node:crypto';
import { cseqOf, getHeader, getHeaders, tagOf, type Header, type SipMessage, type SipRequest, type SipResponse } from './message.ts';
import { newTag, type LocalAddress } from './local-address.ts';
import { REASONS } from './reasons.ts';
import { buildResponse } from './responses.ts';
import type { Protocol } from './transport.ts';

const ENGINE_OWNED = new Set(['via', 'record-route', 'content-length', 'max-forwards', 'from', 'to', 'call-id', 'cseq', 'route']);
const NEEDS_CONTACT = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY', 'UPDATE']);

export function appHeaders(m: SipMessage, local: LocalAddress, proto: Protocol): Header[] {
  return m.headers.filter((h) => !ENGINE_OWNED.has(h.key))
    .map((h) => ({ key: h.key, value: local.localize(h.value, h.key === 'contact' ? proto : undefined) }));
}

/** A request outside any dialog: the engine fills Call-ID, CSeq, From tag and Contact when the app leaves them out. */
export function requestFromApp(m: SipRequest, local: LocalAddress, proto: Protocol): SipRequest {
  let from = local.localize(getHeader(m, 'from') ?? `<sip:anonymous@${local.hostport()}>`);
  if (!tagOf(from)) from += `;tag=${newTag()}`;
  const extra = appHeaders(m, local, proto);
  if (NEEDS_CONTACT.has(m.method) && !extra.some((h) => h.key === 'contact')) extra.push({ key: 'contact', value: local.contact(proto) });
  const mf = getHeader(m, 'max-forwards') ?? '';
  return {
    kind: 'request', method: m.method, uri: m.uri, body: m.body,
    headers: [
      { key: 'via', value: local.via(proto) },
      { key: 'max-forwards', value: /^\d{1,3}$/.test(mf) ? mf : '70' },
      ...getHeaders(m, 'route').map((value) => ({ key: 'route', value })),
      { key: 'from', value: from },
      { key: 'to', value: local.localize(getHeader(m, 'to') ?? `<${m.uri}>`) },
      { key: 'call-id', value: getHeader(m, 'call-id') ?? `${randomUUID()}@${local.host}` },
      // A random first CSeq, as drachtio-server picks one: a peer that assumes 1 fails here too.
      { key: 'cseq', value: `${cseqOf(m)?.seq ?? randomInt(1, 2 ** 30)} ${m.method}` },
      ...extra,
    ],
  };
}

/** A request inside a dialog: the dialog writes the rest; a re-INVITE gets the engine's Contact if the app gave none. */
export function inDialogHeaders(m: SipRequest, local: LocalAddress, proto: Protocol): Header[] {
  const extra = appHeaders(m, local, proto);
  if (m.method === 'INVITE' && !extra.some((h) => h.key === 'contact')) extra.push({ key: 'contact', value: local.contact(proto) });
  return extra;
}

/**
 * The app's response to a network request. Only INVITE forms dialogs here: the engine keeps no
 * SUBSCRIBE dialogs, so a SUBSCRIBE 2xx goes out as the app wrote it. A dialog-forming response
 * to a new INVITE echoes its Record-Route (§12.1.1) and carries a Contact.
 */
export function responseFromApp(req: SipRequest, m: SipResponse, txn: { toTag?: string }, local: LocalAddress, proto: Protocol, inDialog: boolean): { res: SipResponse; dialogForming: boolean } {
  const appTag = tagOf(getHeader(m, 'to'));
  if (appTag && !tagOf(getHeader(req, 'to'))) txn.toTag ??= appTag;
  const res = buildResponse(req, m.status, txn, m.reason || REASONS[m.status]);
  res.body = m.body;
  const dialogForming = req.method === 'INVITE' && m.status > 100 && m.status < 300;
  if (dialogForming && !inDialog) res.headers.push(...req.headers.filter((h) => h.key === 'record-route'));
  res.headers.push(...appHeaders(m, local, proto));
  if (dialogForming && !getHeader(res, 'contact')) res.headers.push({ key: 'contact', value: local.contact(proto) });
  return { res, dialogForming };
}
