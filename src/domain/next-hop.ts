// Application-server mode of 着信お知らせメール: a number without a SIP target of its own is reached
// through the switch the call came from (notify.nextHop). The B leg is addressed to the called
// number *at that switch*. Keeping the original Request-URI is not an option: it names this
// server, and a request to one's own address is a loop (drachtio-server refuses to send it:
// "can not send request to myself"; RFC 3261 §16.3 loop detection at the switch would catch it
// otherwise). The user part, and `user=phone` with it, are the called party's; host, port and
// transport parameters are the next hop's.

/** `sip:host[:port][;params]`, optionally in angle brackets; a user part is allowed and ignored. */
const NEXT_HOP = /^<?(sips?):(?:[^@;>\s]+@)?([^@;>\s]+)((?:;[^;>\s]+)*)>?$/i;
const REQUEST_URI = /^(?:sips?):([^@;>\s]+)@[^;>\s]+((?:;[^;>\s]+)*)$/i;

export function isNextHopUri(s: string): boolean {
  return NEXT_HOP.test(s.trim());
}

/** The Request-URI of a call sent on to `nextHop`; undefined when requestUri has no user part. */
export function requestUriAtNextHop(requestUri: string, nextHop: string): string | undefined {
  const hop = NEXT_HOP.exec(nextHop.trim());
  const original = REQUEST_URI.exec(requestUri.trim());
  if (!hop || !original) return undefined;
  const [, scheme, hostport, hopParams = ''] = hop;
  const [, user, originalParams = ''] = original;
  const params = hopParams.split(';').filter(Boolean);
  if (/(^|;)user=phone(;|$)/i.test(originalParams) && !params.some((p) => /^user=/i.test(p))) params.push('user=phone');
  return `${scheme!.toLowerCase()}:${user}@${hostport}${params.map((p) => `;${p}`).join('')}`;
}

/**
 * Where a call to a subscriber's line goes: its own SIP target, else the called number at the next
 * hop; or, when neither can be, what is missing, in words an operator can act on.
 */
export function lineRoute(target: string | null | undefined, requestUri: string, nextHop: string | undefined): { uri: string } | { unreachable: string } {
  if (target) return { uri: target };
  if (!nextHop) return { unreachable: 'the number has no SIP target (provisioning: target) and notify.nextHop is not set' };
  const uri = requestUriAtNextHop(requestUri, nextHop);
  if (uri) return { uri };
  return { unreachable: `the number has no SIP target, and the Request-URI ${requestUri} has no user part to address the called number at notify.nextHop (expected sip:NUMBER@host)` };
}
