// `chakushin engine`: the built-in SIP engine on its own, in the foreground, for any drachtio-srf app.
import { UsageError, type Command } from '../command.ts';
import { DRACHTIO_DEFAULT_SECRET } from '../../sip-engine/app-link.ts';

const HELP = `Usage: chakushin engine [--sip HOST:PORT] [--admin HOST:PORT] --secret SECRET [--allow-default-secret]

Runs the built-in SIP engine in the foreground. It speaks drachtio-server's wire protocol,
so any drachtio-srf app can connect to it with srf.connect({host, port, secret}).

  --sip HOST:PORT     where to listen for SIP over UDP and TCP (default 127.0.0.1:5060)
  --admin HOST:PORT   where drachtio-srf apps connect (default 127.0.0.1:9022)
  --secret SECRET     shared secret apps must present (required; or ENGINE_SECRET in the environment,
                      which keeps it out of the process list)
  --allow-default-secret
                      accept drachtio's published default secret "${DRACHTIO_DEFAULT_SECRET}" (only for a
                      throw-away test setup: anyone who reaches the admin port can take the calls)
  --log-level LEVEL   pino level (default info)

Limits (connections, transactions, admin socket) come from sip.engineLimits in the
CHAKUSHIN_CONFIG file, as for the service; the trunk peers the TCP total cap never locks out
come from sip.trustedPeers (or TRUSTED_PEERS). SIGTERM or SIGINT stops it cleanly.`;

function hostPort(flag: string, value: string | undefined): { host: string; port: number } {
  const m = value ? /^(.+):(\d{1,5})$/.exec(value) : null;
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || port > 65535) throw new UsageError(`${flag} expects HOST:PORT, got ${JSON.stringify(value ?? '')}`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

export const engineCommand: Command = {
  name: 'engine',
  summary: 'run the built-in SIP engine (drachtio-server compatible) in the foreground',
  help: HELP,
  async run(args) {
    let sip = { host: '127.0.0.1', port: 5060 };
    let admin = { host: '127.0.0.1', port: 9022 };
    let secret = process.env.ENGINE_SECRET || undefined;
    let allowDefaultSecret = false;
    let level = 'info';
    for (let i = 0; i < args.length; i++) {
      const flag = args[i];
      const value = args[i + 1];
      switch (flag) {
        case '--sip': sip = hostPort(flag, value); i++; break;
        case '--admin': admin = hostPort(flag, value); i++; break;
        case '--secret': secret = value; i++; break;
        case '--allow-default-secret': allowDefaultSecret = true; break;
        case '--log-level': level = value ?? 'info'; i++; break;
        default: throw new UsageError(`unknown option ${flag}`);
      }
    }
    if (!secret) throw new UsageError('--secret is required (or ENGINE_SECRET)');
    if (secret === DRACHTIO_DEFAULT_SECRET && !allowDefaultSecret) {
      throw new UsageError(`--secret ${DRACHTIO_DEFAULT_SECRET} is drachtio's published default: choose your own, or pass --allow-default-secret for a test setup`);
    }
    if (Buffer.byteLength(secret) > 256) throw new UsageError('--secret must be at most 256 bytes');
    const [{ default: pino }, { loadConfig }, { trustedPeerMatcher }, { startEngine }, { listenForStop }] = await Promise.all([
      import('pino'), import('../../config.ts'), import('../../domain/trusted-peers.ts'), import('../../sip-engine/index.ts'), import('../../stop-signals.ts'),
    ]);
    const logger = pino({ level });
    const config = loadConfig();
    const stop = listenForStop(logger);
    const engine = await startEngine({ sip, admin, secret, limits: config.sip.engineLimits, isTrustedPeer: trustedPeerMatcher(config.sip.trustedPeers), logger });
    logger.info({ sip: engine.sipAddress, admin: engine.adminAddress }, 'SIP engine listening');
    await stop.requested;
    logger.info('stopping SIP engine');
    await engine.close();
    return 0;
  },
};
