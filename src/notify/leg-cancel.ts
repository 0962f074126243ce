// CANCEL for an INVITE another process sent: when a node (or a worker) dies, the lines it was ringing
// keep ringing, and whoever takes its calls over stops them. RFC 3261 §9.1: the CANCEL repeats the
// INVITE's Request-URI, Call-ID, From, To, CSeq number, Route set and top Via (branch included), so the
// line matches it to the INVITE's server transaction although it comes from another address; its
// answers go to the Via's address, the dead one, and nobody waits for them. Over UDP it is sent with
// timer E's first retransmissions (the line absorbs the repeats); over TCP on a new connection.
import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import net from 'node:net';
import type Srf from 'drachtio-srf';

/** An outgoing INVITE as it went on the wire: what its CANCEL must repeat. */
export interface OutgoingInvite {
  uri: string;
  /** The top Via, branch included. */
  via: string;
  from: string;
  to: string;
  callId: string;
  cseq: number;
  /** Route headers, in order. */
  route: string[];
  /** Where the INVITE went: the top Route's URI, else the Request-URI (RFC 3263 without NAPTR/SRV). */
  dest: { protocol: 'udp' | 'tcp'; host: string; port: number };
}

const URI = /^<?sips?:(?:[^@;>]*@)?(\[[^\]]+\]|[^:;>]+)(?::(\d+))?([^>]*)>?/i;

/** Where a request to this URI (or Route) goes. */
export function destinationOf(uri: string): OutgoingInvite['dest'] | undefined {
  const m = URI.exec(uri.trim());
  if (!m) return undefined;
  const transport = /;transport=(\w+)/i.exec(m[3] ?? '')?.[1]?.toLowerCase();
  return { protocol: transport === 'tcp' ? 'tcp' : 'udp', host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2] ?? 5060) };
}

/** The INVITE drachtio reports it sent (drachtio-srf's cbRequest), as a CANCEL needs it. */
export function outgoingInviteOf(sent: Srf.SrfRequest): OutgoingInvite | undefined {
  const via = sent.get('Via');
  const cseq = /^\s*(\d+)/.exec(sent.get('CSeq') ?? '')?.[1];
  const routes = sent.has('Route') ? sent.get('Route').split(/,(?=\s*<)/).map((r) => r.trim()).filter(Boolean) : [];
  const dest = destinationOf(routes[0] ?? sent.uri);
  if (!via || !cseq || !dest) return undefined;
  return {
    uri: sent.uri, via: via.split(/,(?=\s*SIP\/)/i)[0]!.trim(), from: sent.get('From'), to: sent.get('To'), callId: sent.get('Call-ID'),
    cseq: Number(cseq), route: routes, dest,
  };
}

export function buildCancel(invite: OutgoingInvite, reason: string): string {
  return [
    `CANCEL ${invite.uri} SIP/2.0`,
    `Via: ${invite.via}`,
    'Max-Forwards: 70',
    `From: ${invite.from}`,
    `To: ${invite.to}`,
    `Call-ID: ${invite.callId}`,
    `CSeq: ${invite.cseq} CANCEL`,
    ...invite.route.map((r) => `Route: ${r}`),
    `Reason: ${reason}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Timer E's first sends (T1 = 500 ms): the line may lose one datagram; its answers never reach us. */
const UDP_SENDS_MS = [0, 500, 1_500];
const TCP_LINGER_MS = 2_000;

/** Sends the CANCEL; resolves once it has gone (over UDP: every repeat). */
export async function sendCancel(invite: OutgoingInvite, reason: string): Promise<void> {
  const text = Buffer.from(buildCancel(invite, reason), 'utf8');
  const host = net.isIP(invite.dest.host) ? invite.dest.host : (await dns.lookup(invite.dest.host)).address;
  if (invite.dest.protocol === 'tcp') {
    await new Promise<void>((resolve, reject) => {
      const sock = net.connect({ host, port: invite.dest.port }, () => {
        sock.write(text, () => resolve());
        // The line's answers are not ours to read; let it take the request, then go.
        setTimeout(() => sock.destroy(), TCP_LINGER_MS).unref();
      });
      sock.on('data', () => undefined);
      sock.once('error', reject);
    });
    return;
  }
  const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  sock.on('message', () => undefined);
  try {
    let last = 0;
    for (const at of UDP_SENDS_MS) {
      await new Promise((r) => setTimeout(r, at - last));
      last = at;
      await new Promise<void>((resolve, reject) => sock.send(text, invite.dest.port, host, (err) => (err ? reject(err) : resolve())));
    }
  } finally {
    sock.close();
  }
}
