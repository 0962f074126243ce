import type { Command } from '../command.ts';
import { loadConfig } from '../../config.ts';
import { createLogger } from '../../logger.ts';
import { startService } from '../../service.ts';

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
    const config = loadConfig();
    const logger = createLogger(config.log.level);
    // Listening for the signal before the parts start: a SIGTERM while they start (a process
    // manager giving up early) must still stop them in order, database last, not kill the process.
    let signalled: ((signal: string) => void) | undefined;
    const stopRequested = new Promise<string>((resolve) => (signalled = resolve));
    const onSignal = (signal: string) => signalled!(signal);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const service = await startService(config, logger);
      logger.info({ http: service.httpPort, site: service.sitePort, sip: service.sipAddress }, 'chakushin started');
      const why = await Promise.race([stopRequested, service.lost.then(() => 'lease lost')]);
      logger.info({ signal: why }, 'stopping');
      await service.stop();
      if (why === 'lease lost') return 1;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    logger.info('chakushin stopped');
    return 0;
  },
};
