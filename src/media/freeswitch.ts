// Production media: FreeSWITCH through drachtio-fsmrf. FreeSWITCH does RTP, codecs,
// jitter and DTMF detection; this adapter maps the same MediaSession contract onto one
// fsmrf endpoint per call. Keys come from fsmrf 'dtmf' events into the same DigitCollector
// as the built-in endpoint, so type-ahead and collect() behave identically on both.
import Mrf from 'drachtio-fsmrf';
import type Srf from 'drachtio-srf';
import { DigitCollector } from './collector.ts';
import { normaliseKey, type DtmfSource } from './dtmf.ts';
import { parseInfoDtmf } from './info-dtmf.ts';
import { silentLogger, type MediaLogger } from './logger.ts';
import { openFreeswitchFax, type FreeswitchFaxDirs } from './freeswitch-fax.ts';
import { HangupError, type CollectOptions, type CollectResult, FaxUnavailableError, type FaxReceiver, type FaxSession, type MediaBridge, type MediaServer, type MediaSession, type PromptItem } from './port.ts';
import type { PromptLibrary } from './prompts.ts';
import { negotiate } from './sdp.ts';

export interface FreeswitchMediaServerOptions {
  /** A drachtio-srf instance connected to the drachtio-server that FreeSWITCH's sofia profile talks to. */
  srf: Srf;
  /** Event socket of FreeSWITCH (config media.freeswitch). */
  address: string;
  port: number;
  secret: string;
  /**
   * Address this process listens on for FreeSWITCH's outbound event socket. Without it
   * fsmrf picks the first non-loopback interface, which FreeSWITCH on 127.0.0.1 cannot reach.
   */
  listenAddress: string;
  /** Sofia profile fsmrf endpoints are created on (docker/freeswitch: drachtio_mrf). */
  profile?: string;
  prompts: PromptLibrary;
  /** Where FreeSWITCH finds a prompt file (its own filesystem); identity when both share a path. */
  promptPath?: (localFile: string) => string;
  /** Run FreeSWITCH's in-band detector (start_dtmf) too (media.inbandDtmf). */
  inbandDtmf?: boolean;
  /** Where rxfax writes received FAXes, as FreeSWITCH and as this process see the folder; without it FAX calls are refused. */
  fax?: FreeswitchFaxDirs;
  logger?: MediaLogger;
}

const SOURCES: Record<string, DtmfSource> = { RTP: 'rfc4733', INBAND_AUDIO: 'inband' };

class FreeswitchMediaSession implements MediaSession {
  private readonly collector = new DigitCollector();
  private closed = false;
  private playing: { bargeIn: boolean; stop(): void; abort(e: Error): void } | undefined;
  private far: Mrf.Endpoint | undefined;

  constructor(
    private readonly ms: Mrf.MediaServer,
    private readonly ep: Mrf.Endpoint,
    private readonly opts: FreeswitchMediaServerOptions,
    private readonly onEnd: () => void,
  ) {
    ep.on('dtmf', (evt) => {
      const key = normaliseKey(String(evt.dtmf ?? ''));
      if (key) this.collector.push(key, SOURCES[evt.source ?? ''] ?? 'info');
    });
    // FreeSWITCH hung up the leg (or died): end the session like a caller hangup.
    ep.on('destroy', () => void this.close());
    this.collector.onDigit(() => {
      if (this.playing?.bargeIn) this.playing.stop();
    });
  }

  get localSdp(): string {
    return this.ep.local.sdp;
  }

  async play(items: PromptItem[], opts: { bargeIn?: boolean } = {}): Promise<void> {
    if (this.closed) throw new HangupError();
    const files = this.opts.prompts.resolve(items).map((c) => (this.opts.promptPath ?? ((f: string) => f))(c.file));
    this.playing?.stop();
    const bargeIn = opts.bargeIn ?? false;
    if (files.length === 0 || (bargeIn && this.collector.hasBuffered())) return;
    await new Promise<void>((resolve, reject) => {
      const entry = {
        bargeIn,
        // uuid_break stops the playback application; its completion then resolves play().
        stop: () => void this.ep.api('uuid_break', this.ep.uuid).catch(() => undefined),
        abort: reject,
      };
      this.playing = entry;
      this.ep.play(files).then(
        () => resolve(),
        (err: Error) => reject(this.closed ? new HangupError() : err),
      );
    }).finally(() => {
      this.playing = undefined;
    });
  }

  collect(opts: CollectOptions): Promise<CollectResult> {
    return this.collector.collect(opts);
  }

  injectInfo(contentType: string | undefined, body: string | Buffer | undefined): boolean {
    const key = parseInfoDtmf(contentType, body);
    if (key) this.collector.push(key, 'info');
    return key !== undefined;
  }

  flushDigits(): void {
    this.collector.flush();
  }

  onDigit(listener: (digit: string) => void): () => void {
    return this.collector.onDigit(listener);
  }

  /**
   * A second FreeSWITCH endpoint for the far party (created without a remote SDP, so FreeSWITCH
   * offers), bridged to the caller's with uuid_bridge once the far party answered: FreeSWITCH relays
   * (and transcodes if the far party chose another codec).
   */
  async openBridge(): Promise<MediaBridge> {
    if (this.closed) throw new HangupError();
    if (this.far) throw new Error('a media session has one bridge');
    const far = await this.ms.createEndpoint();
    if (this.closed) {
      await far.destroy().catch(() => undefined);
      throw new HangupError();
    }
    this.far = far;
    let bridged = false;
    return {
      offerSdp: far.local.sdp,
      connect: async (answerSdp: string) => {
        await far.modify(answerSdp);
        if (bridged) return;
        bridged = true;
        this.playing?.stop();
        await this.ep.bridge(far);
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.playing?.abort(new HangupError());
    this.collector.close();
    this.onEnd();
    if (this.far?.connected) await this.far.destroy().catch(() => undefined);
    if (this.ep.connected) await this.ep.destroy().catch(() => undefined);
  }
}

export async function createFreeswitchMediaServer(opts: FreeswitchMediaServerOptions): Promise<MediaServer & FaxReceiver> {
  const log = opts.logger ?? silentLogger;
  const mrf = new Mrf(opts.srf);
  const ms = await mrf.connect({
    address: opts.address,
    port: opts.port,
    secret: opts.secret,
    listenAddress: opts.listenAddress,
    profile: opts.profile ?? 'drachtio_mrf',
  });
  ms.on('error', (err: Error) => log.error({ err: err.message }, 'FreeSWITCH connection error'));
  const sessions = new Set<FreeswitchMediaSession>();
  const faxes = new Set<FaxSession>();
  return {
    async receive(offerSdp, fax) {
      if (!opts.fax) throw new FaxUnavailableError('FAX reception is not configured');
      negotiate(offerSdp);
      const session = await openFreeswitchFax(ms, opts.fax, offerSdp, fax, log);
      faxes.add(session);
      void session.done.then(() => faxes.delete(session));
      return session;
    },
    async open(offerSdp, { callId }) {
      // Same acceptance rules as the built-in endpoint, so the 488 cases do not depend on the mode.
      negotiate(offerSdp);
      const ep = await ms.createEndpoint({ remoteSdp: offerSdp });
      if (opts.inbandDtmf) await ep.execute('start_dtmf');
      const session: FreeswitchMediaSession = new FreeswitchMediaSession(ms, ep, opts, () => sessions.delete(session));
      sessions.add(session);
      log.debug({ callId, uuid: ep.uuid }, 'FreeSWITCH endpoint opened');
      return session;
    },
    async close() {
      await Promise.all([...sessions].map((s) => s.close()));
      await Promise.all([...faxes].map((s) => s.close()));
      ms.disconnect();
    },
  };
}
