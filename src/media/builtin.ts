// The built-in media server: G.711 RTP endpoints in this process, for embedded mode and
// tests (FreeSWITCH is the production alternative, see freeswitch.ts).
import type { Registry } from 'prom-client';
import { BuiltinMediaSession } from './builtin-session.ts';
import { MediaStats, registerMediaMetrics } from './metrics.ts';
import { Pacer } from './pacer.ts';
import { PortPool } from './port-pool.ts';
import { FaxUnavailableError, PortsExhaustedError, type FaxReceiver, type FaxSession, type MediaServer } from './port.ts';
import { openBuiltinFax, type BuiltinFaxOptions } from './fax/receiver.ts';
import type { PromptLibrary } from './prompts.ts';
import { negotiate } from './sdp.ts';
import type { MediaLogger } from './logger.ts';
import { silentLogger } from './logger.ts';

export interface BuiltinMediaServerOptions {
  /** Address RTP sockets bind to and the SDP answer advertises. */
  host: string;
  /** RTP port range; 0..0 means an ephemeral port per session. */
  portMin: number;
  portMax: number;
  prompts: PromptLibrary;
  /** Also detect DTMF tones inside the audio (media.inbandDtmf). */
  inbandDtmf?: boolean;
  /** FAX reception (spandsp); without it receive() refuses every FAX call. */
  fax?: BuiltinFaxOptions;
  logger?: MediaLogger;
}

export interface BuiltinMediaServer extends MediaServer, FaxReceiver {
  open(offerSdp: string, opts: { callId: string }): Promise<BuiltinMediaSession>;
  registerMetrics(registry: Registry): void;
  readonly stats: MediaStats;
}

export async function createBuiltinMediaServer(opts: BuiltinMediaServerOptions): Promise<BuiltinMediaServer> {
  const log = opts.logger ?? silentLogger;
  const pool = new PortPool(opts.portMin, opts.portMax);
  const pacer = new Pacer();
  const stats = new MediaStats();
  const sessions = new Set<BuiltinMediaSession>();
  const faxSessions = new Set<FaxSession>();

  return {
    stats,
    async open(offerSdp, { callId }) {
      let media;
      try {
        media = negotiate(offerSdp);
      } catch (err) {
        stats.offersRejected++;
        log.info({ callId, err: (err as Error).message }, 'media offer refused');
        throw err;
      }
      let socket;
      try {
        socket = await pool.open(opts.host);
      } catch (err) {
        if (err instanceof PortsExhaustedError) stats.portsExhausted++;
        log.error({ callId, err: (err as Error).message }, 'no RTP port for call');
        throw err;
      }
      const port = socket.address().port;
      stats.sessionsOpened++;
      stats.sessionsActive++;
      const session: BuiltinMediaSession = new BuiltinMediaSession({
        socket,
        localSdp: media.answer({ address: opts.host, port }),
        media,
        prompts: opts.prompts,
        pacer,
        stats,
        inbandDtmf: opts.inbandDtmf ?? false,
        openBridgeSocket: async () => {
          const bridgeSocket = await pool.open(opts.host);
          const bridgePort = bridgeSocket.address().port;
          return { socket: bridgeSocket, address: opts.host, release: () => pool.release(bridgePort) };
        },
        onClose: () => {
          sessions.delete(session);
          pool.release(port);
          stats.sessionsActive--;
          log.debug({ callId, port }, 'media session closed');
        },
      });
      sessions.add(session);
      log.debug({ callId, port, codec: media.codec.name, telephoneEvent: media.telephoneEventPt }, 'media session opened');
      return session;
    },
    async receive(offerSdp, fax) {
      if (!opts.fax) throw new FaxUnavailableError('FAX reception is not configured');
      const media = negotiate(offerSdp);
      const socket = await pool.open(opts.host);
      const port = socket.address().port;
      let session: FaxSession | undefined;
      try {
        session = openBuiltinFax(opts.fax, { socket, pacer, host: opts.host, media, ...fax, onClose: () => {
          faxSessions.delete(session!);
          pool.release(port);
        } });
      } catch (err) {
        pool.release(port);
        socket.close();
        throw err;
      }
      faxSessions.add(session);
      log.debug({ callId: fax.callId, port, codec: media.codec.name }, 'FAX session opened');
      return session;
    },
    async close() {
      await Promise.all([...sessions].map((s) => s.close()));
      await Promise.all([...faxSessions].map((s) => s.close()));
    },
    registerMetrics(registry) {
      registerMediaMetrics(registry, stats, pacer);
    },
  };
}
