// T.38 over UDPTL in SDP (RFC 3362 media type image/t38; ITU-T T.38 Annex D attributes): the
// offer a FAX re-INVITEs with, and our answer. We answer T.38 version 0 with UDP redundancy,
// keep the offer's rate management (an answer may not change it), and never a datagram larger
// than the offer's.
import { randomInt } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { parse } from 'sdp-transform';
import { UnsupportedMediaError } from '../port.ts';

export type RateManagement = 'localTCF' | 'transferredTCF';

export interface T38Offer {
  remote: { address: string; port: number };
  version: number;
  rateManagement: RateManagement;
  maxDatagram: number;
  /** The offer's error correction: we always send redundancy, and read it or FEC's primary. */
  errorCorrection: string;
}

/** Our datagram limit (the largest UDPTL packet we build stays far below). */
export const OUR_MAX_DATAGRAM = 400;

const warn = (code: 304 | 305, text: string) => new UnsupportedMediaError(`${code} chakushin "${text}"`);

/** Is this offer a switch to T.38 (an `m=image … udptl t38` stream with a port)? */
export function isT38Offer(sdp: string): boolean {
  return (parse(sdp).media ?? []).some((m) => m.type === 'image' && m.port > 0 && /udptl/i.test(m.protocol));
}

export function parseT38Offer(sdp: string): T38Offer {
  const s = parse(sdp);
  const m = (s.media ?? []).find((x) => x.type === 'image' && x.port > 0);
  if (!m || !/^udptl$/i.test(m.protocol) || !/\bt38\b/i.test(String(m.payloads))) throw warn(304, 'no UDPTL T.38 stream in offer');
  const conn = m.connection ?? s.connection;
  if (!conn || conn.version !== 4 || !isIPv4(conn.ip) || conn.ip === '0.0.0.0') throw warn(305, 'T.38 stream needs a numeric IPv4 address');
  const attrs = new Map<string, string>();
  for (const a of (m as { invalid?: { value: string }[] }).invalid ?? []) {
    const [k, v] = a.value.split(':');
    if (k) attrs.set(k.toLowerCase(), v ?? '');
  }
  const rate = attrs.get('t38faxratemanagement')?.toLowerCase();
  return {
    remote: { address: conn.ip, port: m.port },
    version: Math.min(Number(attrs.get('t38faxversion') ?? 0) || 0, 0),
    rateManagement: rate === 'localtcf' ? 'localTCF' : 'transferredTCF',
    maxDatagram: Number(attrs.get('t38faxmaxdatagram') ?? attrs.get('t38maxdatagram') ?? OUR_MAX_DATAGRAM) || OUR_MAX_DATAGRAM,
    errorCorrection: attrs.get('t38faxudpec') ?? 't38UDPRedundancy',
  };
}

function t38Lines(port: number, address: string, rateManagement: RateManagement, maxDatagram: number): string[] {
  return [
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=image ${port} udptl t38`,
    'a=T38FaxVersion:0',
    'a=T38MaxBitRate:14400',
    `a=T38FaxRateManagement:${rateManagement}`,
    'a=T38FaxMaxBuffer:2000',
    `a=T38FaxMaxDatagram:${maxDatagram}`,
    'a=T38FaxUdpEC:t38UDPRedundancy',
  ];
}

function sdp(address: string, body: string[]): string {
  return `${['v=0', `o=chakushin ${randomInt(1, 2 ** 47)} 2 IN IP4 ${address}`, 's=chakushin', ...body].join('\r\n')}\r\n`;
}

/** Our answer to a T.38 offer, on our UDP port. */
export function answerT38(offer: T38Offer, local: { address: string; port: number }): string {
  return sdp(local.address, t38Lines(local.port, local.address, offer.rateManagement, Math.min(offer.maxDatagram, OUR_MAX_DATAGRAM)));
}

/** A T.38 offer (the test sender's re-INVITE). */
export function offerT38(local: { address: string; port: number }): string {
  return sdp(local.address, t38Lines(local.port, local.address, 'transferredTCF', OUR_MAX_DATAGRAM));
}

/** A G.711 offer (the test sender's INVITE): PCMU then PCMA, 20 ms. */
export function offerG711(local: { address: string; port: number }, law: 'ulaw' | 'alaw' = 'ulaw'): string {
  const pts = law === 'ulaw' ? [0, 8] : [8, 0];
  const names: Record<number, string> = { 0: 'PCMU', 8: 'PCMA' };
  return sdp(local.address, [
    `c=IN IP4 ${local.address}`, 't=0 0', `m=audio ${local.port} RTP/AVP ${pts.join(' ')}`,
    ...pts.map((pt) => `a=rtpmap:${pt} ${names[pt]}/8000`), 'a=ptime:20', 'a=sendrecv',
  ]);
}
