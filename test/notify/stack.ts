// The 着信お知らせメール path of one process for SIPp tests: the built-in engine on free loopback ports,
// and the notify B2BUA connected to it the way drachtio-srf connects to drachtio-server.
import Srf from 'drachtio-srf';
import { trustedPeerMatcher } from '../../src/domain/trusted-peers.ts';
import { startNotifyApp, type NotifyApp, type NotifyAppOptions } from '../../src/notify/app.ts';
import { dispatchInvites } from '../../src/sip-dispatch.ts';
import { startEngine, type Engine, type EngineOptions } from '../../src/sip-engine/index.ts';
import { quietLogger } from '../mail/mailbox.ts';
import { freePort } from '../support/ports.ts';

/** `over`: e.g. a logger to read, or timers scaled down for a test of 64·T1. */
export async function startTestEngine(secret: string, over: Partial<EngineOptions> = {}): Promise<Engine> {
  return startEngine({
    sip: { host: '127.0.0.1', port: await freePort() }, admin: { host: '127.0.0.1', port: await freePort('tcp') }, secret, logger: quietLogger, ...over,
  });
}

/** A notify app taking the engine's INVITEs; resolves once drachtio-srf is connected. Trunk peers: config.sip.trustedPeers, as the service builds them. */
export async function connectNotifyApp(
  engine: Engine,
  secret: string,
  opts: Omit<NotifyAppOptions, 'srf' | 'logger' | 'isTrustedPeer'> & Partial<Pick<NotifyAppOptions, 'logger' | 'isTrustedPeer'>>,
): Promise<{ srf: Srf; app: NotifyApp }> {
  const srf = new Srf();
  const app = startNotifyApp({ ...opts, srf, logger: opts.logger ?? quietLogger, isTrustedPeer: opts.isTrustedPeer ?? trustedPeerMatcher(opts.config.sip.trustedPeers) });
  dispatchInvites(srf, [app.handleNotifyInvite], { logger: quietLogger });
  await new Promise<void>((resolve, reject) => {
    srf.connect({ host: '127.0.0.1', port: engine.adminAddress.port, secret });
    srf.once('connect', (err: Error | null) => (err ? reject(err) : resolve()));
  });
  return { srf, app };
}
