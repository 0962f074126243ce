import type { Command } from '../command.ts';

export const startCommand: Command = {
  name: 'start',
  summary: 'run the service (embedded defaults for every part not configured)',
  help: `Usage: chakushin start

Runs the SIP application server in the foreground. Every external part not configured
runs embedded: PostgreSQL under var/, the SMTP catcher, the built-in SIP engine and RTP
endpoint. See the README for the environment variables. SIGTERM or Ctrl-C stops it
cleanly: no new calls, in-flight mails finished, database closed.`,
  async run() {
    const [{ loadConfig }, { createLogger }, { listenForStop }] = await Promise.all([import('../../config.ts'), import('../../logger.ts'), import('../../stop-signals.ts')]);
    const config = loadConfig();
    const logger = createLogger(config.log.level);
    // Listening before the parts start (and before the service's modules load): a signal while they
    // start (a process manager giving up early) must still stop them in order, database last.
    const stop = listenForStop(logger);
    const { startService } = await import('../../service.ts');
    const service = await startService(config, logger);
    logger.info({ http: service.httpPort, site: service.sitePort, sip: service.sipAddress }, 'chakushin started');
    logger.info({ signal: await stop.requested }, 'stopping');
    await service.stop();
    logger.info('chakushin stopped');
    return 0;
  },
};
