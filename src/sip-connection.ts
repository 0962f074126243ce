// The app's one drachtio-srf connection: to a real drachtio-server when configured, else to
// the built-in engine, which this process then starts. The app code cannot tell which.
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import Srf from 'drachtio-srf';
import type { Config } from './config.ts';
import type { TrustedPeerMatcher } from './domain/trusted-peers.ts';
import type { Logger } from './logger.ts';
import { DRACHTIO_DEFAULT_SECRET, startEngine, type Engine } from './sip-engine/index.ts';

export interface SipConnection {
  srf: Srf;
  /** The built-in engine, when this process runs it. */
  engine?: Engine;
  /** Authenticated to drachtio right now (drachtio-srf reconnects by itself after a loss). */
  isConnected(): boolean;
  close(): Promise<void>;
}

/** `isTrustedPeer`: the built-in engine keeps TCP room for the trunk peers whatever else fills its cap. */
export async function connectSip(config: Config, logger: Logger, isTrustedPeer?: TrustedPeerMatcher): Promise<SipConnection> {
  let engine: Engine | undefined;
  let target = config.sip.drachtio;
  if (!target) {
    // Only this process needs the secret, so unless one is configured it is new at every start.
    const secret = config.sip.engineSecret ?? randomBytes(32).toString('base64url');
    engine = await startEngine({ sip: config.sip.listen, admin: config.sip.engineAdmin, secret, limits: config.sip.engineLimits, logger, isTrustedPeer });
    target = { host: engine.adminAddress.host, port: engine.adminAddress.port, secret };
  } else if (target.secret === DRACHTIO_DEFAULT_SECRET) {
    logger.warn('DRACHTIO_SECRET is drachtio-server\'s published default: anyone who reaches its admin port can take calls; set a secret of your own');
  }
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
    await engine?.close();
    throw err;
  }
  logger.info({ drachtio: `${target.host}:${target.port}`, builtin: !!engine, sip: engine?.sipAddress }, 'sip connected');
  return {
    srf,
    engine,
    isConnected: () => connected,
    async close() {
      closing = true;
      srf.disconnect();
      await engine?.close();
    },
  };
}
