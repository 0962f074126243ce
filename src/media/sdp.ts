// Offer/answer (RFC 3264) for the built-in endpoint: pick the caller's first G.711 codec,
// echo its telephone-event payload type, and reject every other stream with port 0.
import { randomInt } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { parse } from 'sdp-transform';
import type { G711Law } from './g711.ts';
import { UnsupportedMediaError } from './port.ts';

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface Negotiated {
  remote: { address: string; port: number };
  codec: { name: 'PCMU' | 'PCMA'; payloadType: number; law: G711Law };
  telephoneEventPt: number | undefined;
  /** Our direction (the mirror of the caller's). */
  direction: Direction;
  answer(local: { address: string; port: number }): string;
}

const STATIC_CODECS: Record<number, 'PCMU' | 'PCMA'> = { 0: 'PCMU', 8: 'PCMA' };
const MIRROR: Record<Direction, Direction> = { sendrecv: 'sendrecv', sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive' };

// RFC 3261 warn-codes: 301 incompatible network address formats, 304 media type not
// available, 305 incompatible media format.
const warn = (code: 301 | 304 | 305, text: string) => new UnsupportedMediaError(`${code} chakushin "${text}"`);

/**
 * Why the audio stream's transport address cannot be where the caller's phone listens, or
 * undefined when it can. A caller chooses where our guidance is sent; an address no phone
 * can have (multicast, broadcast, reserved, a name we would have to resolve) or a port out
 * of range would make us send RTP at someone else, so the offer is refused instead.
 * 0.0.0.0 is the RFC 2543 hold idiom (RFC 3264 §8.4): accepted only when the stream's
 * direction also says the caller receives nothing (sendonly, inactive); then nothing is
 * sent until the caller's own RTP shows where it is.
 */
function unusableAddress(ip: string, port: number, offered: Direction): string | undefined {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `audio port ${port} out of range`;
  if (!isIPv4(ip)) return `audio address ${ip} is not a numeric IPv4 address`;
  const [a] = ip.split('.').map(Number) as [number];
  if (ip === '0.0.0.0') return offered === 'sendonly' || offered === 'inactive' ? undefined : 'audio address 0.0.0.0 cannot receive the guidance';
  if (a === 0) return `audio address ${ip} is not a host address`;
  if (a >= 224 && a <= 239) return `multicast audio address ${ip} not served`;
  if (a >= 240) return `audio address ${ip} is broadcast or reserved`;
  return undefined;
}

export function negotiate(offerSdp: string): Negotiated {
  const offer = parse(offerSdp);
  const media = offer.media ?? [];
  const index = media.findIndex((m) => m.type === 'audio' && m.port > 0);
  const audio = media[index];
  if (!audio) throw warn(304, media.length ? `no audio stream (offered: ${media.map((m) => m.type).join(', ')})` : 'no media in offer');
  if (audio.protocol !== 'RTP/AVP' && audio.protocol !== 'RTP/AVPF') throw warn(305, `transport ${audio.protocol} not supported`);
  const connection = audio.connection ?? offer.connection;
  if (!connection || connection.version !== 4) throw warn(305, 'only IPv4 audio is supported');
  const offered = (audio.direction ?? offer.direction ?? 'sendrecv') as Direction;
  const unusable = unusableAddress(connection.ip, audio.port, offered);
  if (unusable) throw warn(301, unusable);

  const rtpmaps = new Map((audio.rtp ?? []).map((r) => [r.payload, r]));
  const payloads = String(audio.payloads ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
  let codec: Negotiated['codec'] | undefined;
  let telephoneEventPt: number | undefined;
  for (const pt of payloads) {
    const map = rtpmaps.get(pt);
    const name = map ? map.codec.toUpperCase() : STATIC_CODECS[pt];
    const rate = map ? map.rate : 8000;
    if (rate !== 8000) continue;
    if (!codec && (name === 'PCMU' || name === 'PCMA')) codec = { name, payloadType: pt, law: name === 'PCMU' ? 'ulaw' : 'alaw' };
    if (telephoneEventPt === undefined && name === 'TELEPHONE-EVENT') telephoneEventPt = pt;
  }
  if (!codec) throw warn(305, 'no supported codec (PCMU or PCMA at 8000 Hz)');

  const direction = MIRROR[offered] ?? 'sendrecv';
  const chosen = codec;
  const sessionId = randomInt(1, 2 ** 47);
  return {
    remote: { address: connection.ip, port: audio.port },
    codec: chosen,
    telephoneEventPt,
    direction,
    answer(local) {
      const fmts = [chosen.payloadType, ...(telephoneEventPt === undefined ? [] : [telephoneEventPt])];
      const lines = [
        'v=0',
        `o=chakushin ${sessionId} 1 IN IP4 ${local.address}`,
        's=chakushin',
        `c=IN IP4 ${local.address}`,
        't=0 0',
      ];
      media.forEach((m, i) => {
        if (i !== index) {
          lines.push(`m=${m.type} 0 ${m.protocol} ${String(m.payloads ?? '0').trim() || '0'}`);
          return;
        }
        lines.push(`m=audio ${local.port} ${m.protocol} ${fmts.join(' ')}`);
        lines.push(`a=rtpmap:${chosen.payloadType} ${chosen.name}/8000`);
        if (telephoneEventPt !== undefined) {
          lines.push(`a=rtpmap:${telephoneEventPt} telephone-event/8000`, `a=fmtp:${telephoneEventPt} 0-15`);
        }
        lines.push('a=ptime:20', `a=${direction}`);
      });
      return `${lines.join('\r\n')}\r\n`;
    },
  };
}

/**
 * Our offer to the far party of an anchored call (MediaBridge): one audio stream with the codec
 * the caller's offer chose, and telephone-event with the caller's payload type if it offered one, so
 * packets can be relayed both ways unchanged.
 */
export function bridgeOffer(caller: Pick<Negotiated, 'codec' | 'telephoneEventPt'>, local: { address: string; port: number }): string {
  const { codec, telephoneEventPt: te } = caller;
  const lines = [
    'v=0',
    `o=chakushin ${randomInt(1, 2 ** 47)} 1 IN IP4 ${local.address}`,
    's=chakushin',
    `c=IN IP4 ${local.address}`,
    't=0 0',
    `m=audio ${local.port} RTP/AVP ${[codec.payloadType, ...(te === undefined ? [] : [te])].join(' ')}`,
    `a=rtpmap:${codec.payloadType} ${codec.name}/8000`,
    ...(te === undefined ? [] : [`a=rtpmap:${te} telephone-event/8000`, `a=fmtp:${te} 0-15`]),
    'a=ptime:20',
    'a=sendrecv',
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * Where the far party wants the relayed audio, from its answer to bridgeOffer: it must keep the
 * caller's codec (packets are relayed unchanged, nothing is transcoded) at a usable address.
 */
export function bridgeAnswerRemote(answerSdp: string, caller: Pick<Negotiated, 'codec'>): { address: string; port: number } {
  const answer = parse(answerSdp);
  const audio = (answer.media ?? []).find((m) => m.type === 'audio' && m.port > 0);
  if (!audio) throw warn(304, 'the far party answered without audio');
  const connection = audio.connection ?? answer.connection;
  if (!connection || connection.version !== 4) throw warn(305, 'only IPv4 audio is supported');
  const direction = (audio.direction ?? answer.direction ?? 'sendrecv') as Direction;
  const unusable = unusableAddress(connection.ip, audio.port, direction === 'sendonly' || direction === 'inactive' ? direction : 'sendrecv');
  if (unusable) throw warn(301, unusable);
  const payloads = String(audio.payloads ?? '').trim().split(/\s+/).map(Number);
  if (!payloads.includes(caller.codec.payloadType)) throw warn(305, `the far party did not keep ${caller.codec.name}`);
  return { address: connection.ip, port: audio.port };
}
