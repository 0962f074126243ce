// One call on the built-in RTP endpoint: sends prompt or silence frames on the shared
// pacer, receives the caller's RTP (latching onto its real source), and turns
// telephone-events, INFO and optionally in-band tones into buffered keys.
import { randomInt } from 'node:crypto';
import type dgram from 'node:dgram';
import { DigitCollector, type DigitListener } from './collector.ts';
import type { DtmfSource } from './dtmf.ts';
import { decodeG711, SILENCE_BYTE, type G711Law } from './g711.ts';
import { GoertzelDetector } from './goertzel.ts';
import { parseInfoDtmf } from './info-dtmf.ts';
import type { MediaStats } from './metrics.ts';
import type { Pacer, PacedStream } from './pacer.ts';
import { HangupError, type CollectOptions, type CollectResult, type MediaBridge, type MediaSession, type PromptItem } from './port.ts';
import { FRAME_SAMPLES, type PromptClip, type PromptLibrary } from './prompts.ts';
import { Rfc4733Receiver } from './rfc4733.ts';
import { buildRtp, parseRtp } from './rtp.ts';
import { bridgeAnswerRemote, bridgeOffer, type Negotiated } from './sdp.ts';

interface Playback {
  clips: PromptClip[];
  clip: number;
  offset: number;
  bargeIn: boolean;
  resolve(): void;
  reject(e: Error): void;
}

export interface BuiltinSessionDeps {
  socket: dgram.Socket;
  localSdp: string;
  media: Negotiated;
  prompts: PromptLibrary;
  pacer: Pacer;
  stats: MediaStats;
  inbandDtmf: boolean;
  /** A second RTP socket for a bridge, on the session's address; release frees its port. */
  openBridgeSocket(): Promise<{ socket: dgram.Socket; address: string; release(): void }>;
  /** Called once when the session ends (frees the port). */
  onClose(): void;
}

/** The far party of an anchored call: its socket, where it wants audio, and where it really sends from. */
interface BridgeLeg {
  socket: dgram.Socket;
  release(): void;
  remote?: { address: string; port: number };
  latched?: { address: string; port: number };
}

export class BuiltinMediaSession implements MediaSession, PacedStream {
  readonly localSdp: string;
  private readonly deps: BuiltinSessionDeps;
  private readonly law: G711Law;
  private readonly silence: Buffer;
  private readonly collector = new DigitCollector();
  private readonly telephoneEvents = new Rfc4733Receiver();
  private inband: GoertzelDetector | undefined;
  private readonly pcmScratch = new Int16Array(FRAME_SAMPLES * 3);
  private playback: Playback | undefined;
  private latched: { address: string; port: number } | undefined;
  private readonly ssrc = randomInt(1, 2 ** 32 - 1);
  private sequence = randomInt(0, 65536);
  private timestamp = randomInt(0, 2 ** 32 - 1);
  private marker = true;
  private closed = false;
  private bridge: BridgeLeg | undefined;

  constructor(deps: BuiltinSessionDeps) {
    this.deps = deps;
    this.localSdp = deps.localSdp;
    this.law = deps.media.codec.law;
    this.silence = Buffer.alloc(FRAME_SAMPLES, SILENCE_BYTE[this.law]);
    if (deps.inbandDtmf) this.inband = new GoertzelDetector();
    deps.socket.on('message', (msg, rinfo) => this.receive(msg, rinfo));
    // Send errors (e.g. no route) must not take the process down; the call just goes quiet.
    deps.socket.on('error', () => undefined);
    this.collector.onDigit(() => {
      if (this.playback?.bargeIn) this.endPlayback();
    });
    deps.pacer.add(this);
  }

  play(items: PromptItem[], opts: { bargeIn?: boolean } = {}): Promise<void> {
    if (this.closed) return Promise.reject(new HangupError());
    let clips: PromptClip[];
    try {
      clips = this.deps.prompts.resolve(items);
    } catch (err) {
      return Promise.reject(err);
    }
    // A new prompt replaces one still playing.
    this.endPlayback();
    const bargeIn = opts.bargeIn ?? false;
    // Type-ahead: a caller who already pressed a key skips a barge-in prompt entirely.
    if (clips.length === 0 || (bargeIn && this.collector.hasBuffered())) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.playback = { clips, clip: 0, offset: 0, bargeIn, resolve, reject };
    });
  }

  collect(opts: CollectOptions): Promise<CollectResult> {
    return this.collector.collect(opts);
  }

  injectInfo(contentType: string | undefined, body: string | Buffer | undefined): boolean {
    const key = parseInfoDtmf(contentType, body);
    if (key) this.digit(key, 'info');
    return key !== undefined;
  }

  flushDigits(): void {
    this.collector.flush();
  }

  onDigit(listener: DigitListener): () => void {
    return this.collector.onDigit(listener);
  }

  /**
   * The far side of an anchored call (MediaBridge). Until connect() our frames (prompts, silence)
   * go to the caller; from then on RTP is relayed unchanged both ways — same codec, nothing decoded —
   * each side latched to where it really sends from, as the caller's side already is.
   */
  async openBridge(): Promise<MediaBridge> {
    if (this.closed) throw new HangupError();
    if (this.bridge) throw new Error('a media session has one bridge');
    const leg = await this.deps.openBridgeSocket();
    if (this.closed) {
      leg.socket.close(() => leg.release());
      throw new HangupError();
    }
    const bridge: BridgeLeg = { socket: leg.socket, release: leg.release };
    this.bridge = bridge;
    leg.socket.on('message', (msg, rinfo) => this.fromFarParty(bridge, msg, rinfo));
    leg.socket.on('error', () => undefined);
    return {
      offerSdp: bridgeOffer(this.deps.media, { address: leg.address, port: leg.socket.address().port }),
      connect: async (answerSdp: string) => {
        const remote = bridgeAnswerRemote(answerSdp, this.deps.media);
        if (this.closed) throw new HangupError();
        if (bridge.remote?.address !== remote.address || bridge.remote?.port !== remote.port) bridge.latched = undefined;
        bridge.remote = remote;
        this.endPlayback();
        this.deps.pacer.delete(this);
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deps.pacer.delete(this);
    const bridge = this.bridge;
    if (bridge) {
      bridge.socket.removeAllListeners('message');
      await new Promise<void>((resolve) => bridge.socket.close(() => resolve()));
      bridge.release();
    }
    const p = this.playback;
    this.playback = undefined;
    p?.reject(new HangupError());
    this.collector.close();
    this.deps.socket.removeAllListeners('message');
    await new Promise<void>((resolve) => this.deps.socket.close(() => resolve()));
    this.deps.onClose();
  }

  sendFrame(skipped: number): void {
    this.timestamp = (this.timestamp + skipped * FRAME_SAMPLES) >>> 0;
    const payload = this.nextFrame();
    const target = this.latched ?? this.deps.media.remote;
    const mayDeliver = this.deps.media.direction === 'sendrecv' || this.deps.media.direction === 'sendonly';
    if (mayDeliver && target.port > 0 && target.address !== '0.0.0.0') {
      const pkt = buildRtp({ marker: this.marker, payloadType: this.deps.media.codec.payloadType, sequence: this.sequence, timestamp: this.timestamp, ssrc: this.ssrc }, payload);
      this.deps.socket.send(pkt, target.port, target.address);
      this.deps.stats.packetsSent++;
      this.marker = false;
    }
    this.sequence = (this.sequence + 1) & 0xffff;
    this.timestamp = (this.timestamp + FRAME_SAMPLES) >>> 0;
  }

  private nextFrame(): Buffer {
    const p = this.playback;
    if (!p) return this.silence;
    const clip = p.clips[p.clip]!.encoded[this.law];
    const frame = clip.subarray(p.offset, p.offset + FRAME_SAMPLES);
    p.offset += FRAME_SAMPLES;
    if (p.offset >= clip.length) {
      p.clip++;
      p.offset = 0;
      if (p.clip >= p.clips.length) this.endPlayback();
    }
    return frame;
  }

  private endPlayback(): void {
    const p = this.playback;
    this.playback = undefined;
    p?.resolve();
  }

  private digit(key: string, source: DtmfSource): void {
    this.deps.stats.digits[source]++;
    this.collector.push(key, source);
  }

  /** RTP from the far party of a bridge: relayed to the caller from the caller's own port, unchanged. */
  private fromFarParty(bridge: BridgeLeg, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const stats = this.deps.stats;
    stats.packetsReceived++;
    const pkt = parseRtp(msg);
    if (!pkt || !bridge.remote) {
      stats.ignored.malformed++;
      return;
    }
    if (rinfo.port === 0 || (bridge.latched && (rinfo.address !== bridge.latched.address || rinfo.port !== bridge.latched.port))) {
      stats.ignored.unexpected_source++;
      return;
    }
    bridge.latched ??= { address: rinfo.address, port: rinfo.port };
    const target = this.latched ?? this.deps.media.remote;
    const mayDeliver = this.deps.media.direction === 'sendrecv' || this.deps.media.direction === 'sendonly';
    if (!mayDeliver || target.port === 0 || target.address === '0.0.0.0') return;
    this.deps.socket.send(msg, target.port, target.address);
    stats.packetsRelayed++;
  }

  private receive(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const stats = this.deps.stats;
    stats.packetsReceived++;
    const pkt = parseRtp(msg);
    if (!pkt) {
      stats.ignored.malformed++;
      return;
    }
    // Port 0 cannot be answered (raw-socket senders may leave it so); never latch onto it.
    if (rinfo.port === 0 || (this.latched && (rinfo.address !== this.latched.address || rinfo.port !== this.latched.port))) {
      stats.ignored.unexpected_source++;
      return;
    }
    const { codec, telephoneEventPt } = this.deps.media;
    if (pkt.payloadType !== codec.payloadType && pkt.payloadType !== telephoneEventPt) {
      stats.ignored.unknown_payload++;
      return;
    }
    // Symmetric RTP: the first good packet tells where the caller really is (NAT, SBC).
    this.latched ??= { address: rinfo.address, port: rinfo.port };
    const far = this.bridge?.remote && (this.bridge.latched ?? this.bridge.remote);
    if (far) {
      this.bridge!.socket.send(msg, far.port, far.address);
      stats.packetsRelayed++;
      return;
    }
    if (pkt.payloadType === telephoneEventPt) {
      // A caller sending telephone-events may also leave the tones in the audio; trust the events.
      this.inband = undefined;
      const key = this.telephoneEvents.receive(pkt);
      if (key) this.digit(key, 'rfc4733');
    } else if (this.inband && pkt.payload.length <= FRAME_SAMPLES * 3) {
      const pcm = decodeG711(this.law, pkt.payload, this.pcmScratch.subarray(0, pkt.payload.length));
      for (const key of this.inband.push(pcm)) this.digit(key, 'inband');
    }
  }
}
