// The SIP side of a node and of its apps: the node starts the built-in engine unless a real
// drachtio-server is configured, and each app worker connects to one or the other with drachtio-srf.
// The app code cannot tell which.
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import Srf from 'drachtio-srf';
import type { Config } from './config.ts';
import type { TrustedPeerMatcher } from './domain/trusted-peers.ts';
import type { Logger } from './logger.ts';
import { DRACHTIO_DEFAULT_SECRET, startEngine, type Engine } from './sip-engine/index.ts';

/** Where apps connect: the built-in engine this node started, or drachtio-server. */
export interface SipTarget {
  host: string;
  port: number;
  secret: string;
  /** The built-in engine, when the node runs one. */
  engine?: Engine;
}

/**
 * The node's SIP engine. Built-in: its admin socket on ENGINE_ADMIN, else on a free port of 127.0.0.1
 * (only this node's workers connect, and they are told where), with a secret new at every start unless
 * ENGINE_SECRET is set. `isTrustedPeer`: the engine keeps TCP room for the trunk peers whatever else fills its cap.
 */
export async function sipTarget(config: Config, logger: Logger, isTrustedPeer?: TrustedPeerMatcher): Promise<SipTarget> {
  const drachtio = config.sip.drachtio;
  if (drachtio) {
    if (drachtio.secret === DRACHTIO_DEFAULT_SECRET) {
      logger.warn('DRACHTIO_SECRET is drachtio-server\'s published default: anyone who reaches its admin port can take calls; set a secret of your own');
    }
    return drachtio;
  }
  const secret = config.sip.engineSecret ?? randomBytes(32).toString('base64url');
  const engine = await startEngine({
    sip: config.sip.listen, admin: config.sip.engineAdmin ?? { host: '127.0.0.1', port: 0 }, secret, limits: config.sip.engineLimits, logger, isTrustedPeer,
  });
  return { ...engine.adminAddress, secret, engine };
}

export interface SipConnection {
  srf: Srf;
  /** Authenticated to drachtio right now (drachtio-srf reconnects by itself after a loss). */
  isConnected(): boolean;
  close(): Promise<void>;
}

/** Connects to the admin socket at `target`; resolves once authenticated. */
export async function connectSip(target: { host: string; port: number; secret: string }, logger: Logger): Promise<SipConnection> {
  const srf = new Srf();
  // drachtio-srf emits 'error' on lost connections (it reconnects by itself); unhandled it would kill the process.
  srf.on('error', (err: Error) => logger.warn({ err: err.message }, 'drachtio connection error'));
  let connected = false;
  let closing = false;
  srf.on('connect', (err: Error | null) => {
    connected = !err;
    if (err) logger.error({ err: err.message }, 'drachtio refused the connection');
  });
  // 'close' is emitted by drachtio-srf but missing from its type declarations.
  (srf as unknown as EventEmitter).on('close', () => {
    connected = false;
    if (!closing) logger.warn('drachtio connection closed');
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer from drachtio at ${target.host}:${target.port}`)), 10_000);
      srf.once('connect', (err: Error | null) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      });
      srf.connect({ host: target.host, port: target.port, secret: target.secret });
    });
  } catch (err) {
    srf.disconnect();
    throw err;
  }
  logger.debug({ drachtio: `${target.host}:${target.port}` }, 'sip connected');
  return {
    srf,
    isConnected: () => connected,
    async close() {
      closing = true;
      srf.disconnect();
    },
  };
}
