import type { Command } from '../command.ts';

export const startCommand: Command = {
  name: 'start',
  summary: 'run the service (embedded defaults for every part not configured)',
  help: `Usage: chakushin start

Runs one node of the SIP application server in the foreground: its SIP engine, one app
worker per core (WORKERS) holding the calls, the settings site and the operations port.
Every external part not configured runs embedded: PostgreSQL under var/, the SMTP catcher,
the built-in SIP engine and RTP endpoints. See the README for the environment variables.
SIGTERM or Ctrl-C stops it cleanly: no new calls (OPTIONS answered 503), calls drained,
in-flight mails finished, database closed last.`,
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
    // A node whose lease another node took over (cut off from the database too long) stops too.
    const why = await Promise.race([stop.requested, service.lost.then(() => 'lease lost' as const)]);
    logger.info({ signal: why }, 'stopping');
    await service.stop();
    if (why === 'lease lost') return 1;
    logger.info('chakushin stopped');
    return 0;
  },
};
