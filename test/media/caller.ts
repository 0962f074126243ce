// A fake caller's media: a real UDP socket that records the RTP it receives and sends
// RTP (audio, RFC 4733 events) to the endpoint under test.
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { parse } from 'sdp-transform';
import { buildRtp, parseRtp, type RtpPacket } from '../../src/media/rtp.ts';

export interface Arrival {
  at: number;
  pkt: RtpPacket;
  from: number;
}

export class Caller {
  readonly arrivals: Arrival[] = [];
  private seq = 1;
  private ts = 8000;
  readonly ssrc = 0x1234abcd;

  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (msg, rinfo) => {
      const pkt = parseRtp(msg);
      if (pkt) this.arrivals.push({ at: performance.now(), pkt, from: rinfo.port });
    });
  }

  static async create(): Promise<Caller> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new Caller(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  offer(codecs = 'PCMU', pt = 0, tePt: number | undefined = 101): string {
    return [
      'v=0',
      'o=caller 1 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${this.port} RTP/AVP ${pt}${tePt === undefined ? '' : ` ${tePt}`}`,
      `a=rtpmap:${pt} ${codecs}/8000`,
      ...(tePt === undefined ? [] : [`a=rtpmap:${tePt} telephone-event/8000`, `a=fmtp:${tePt} 0-15`]),
      'a=ptime:20',
      '',
    ].join('\r\n');
  }

  static answerPort(sdp: string): number {
    return parse(sdp).media[0]!.port;
  }

  send(to: number, payloadType: number, payload: Uint8Array, marker = false, timestamp = this.ts): Promise<void> {
    const pkt = buildRtp({ marker, payloadType, sequence: this.seq++, timestamp, ssrc: this.ssrc }, payload);
    return new Promise((resolve) => this.socket.send(pkt, to, '127.0.0.1', () => resolve()));
  }

  sendRaw(to: number, data: Uint8Array): Promise<void> {
    return new Promise((resolve) => this.socket.send(data, to, '127.0.0.1', () => resolve()));
  }

  /** One RFC 4733 press: start (marker), two updates, three ends, 20 ms apart like a phone. */
  async press(to: number, key: string, pt = 101): Promise<void> {
    const code = '0123456789*#ABCD'.indexOf(key);
    const ts = (this.ts += 1600);
    const ev = (duration: number, end: boolean) => Buffer.from([code, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff]);
    await this.send(to, pt, ev(0, false), true, ts);
    for (const d of [160, 320]) {
      await sleep(5);
      await this.send(to, pt, ev(d, false), false, ts);
    }
    for (let i = 0; i < 3; i++) await this.send(to, pt, ev(480, true), false, ts);
  }

  close(): void {
    this.socket.close();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}
