// Where a SIP URI is reached: IP literals as they are, names by A/AAAA lookup (no NAPTR/SRV).
import dns from 'node:dns/promises';
import net from 'node:net';
import { parseUri } from './message.ts';
import type { Peer, Protocol } from './transport.ts';

export async function resolveUri(uri: string, fallback: Protocol): Promise<Peer | undefined> {
  const u = parseUri(uri);
  if (!u) return undefined;
  const tp = u.params.get('transport')?.toLowerCase();
  const protocol: Protocol = tp === 'tcp' ? 'tcp' : tp === 'udp' ? 'udp' : fallback;
  const host = u.host.replace(/^\[|\]$/g, '');
  const port = u.port ?? 5060;
  if (net.isIP(host)) return { protocol, address: host, port };
  try {
    const { address } = await dns.lookup(host);
    return { protocol, address, port };
  } catch {
    return undefined;
  }
}
