// Trunk peers (the carrier's softswitch): the only sources whose caller ID is believed and, unless
// the service is explicitly opened for testing, the only sources let in at all. One matcher for
// the admission check, the IVR and the notify path, so an address written one way in the config
// and arriving another way on the socket (`::ffff:192.0.2.1`, `[::1]`, upper-case hex) is the same peer.

/** An address as compared: no brackets, no IPv4-mapped IPv6 prefix, lower case. */
export function canonicalAddress(address: string): string {
  return address.trim().replace(/^\[|\]$/g, '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').toLowerCase();
}

/** Whether a request's source address is one of the configured trunk peers. */
export type TrustedPeerMatcher = (sourceAddress: string | undefined) => boolean;

export function trustedPeerMatcher(peers: readonly string[]): TrustedPeerMatcher {
  const set = new Set(peers.map(canonicalAddress));
  return (sourceAddress) => !!sourceAddress && set.has(canonicalAddress(sourceAddress));
}
