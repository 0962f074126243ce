import type { Command } from '../command.ts';
import { loadConfig } from '../../config.ts';
import { createLogger } from '../../logger.ts';
import { startService } from '../../service.ts';
import { listenForStop } from '../../stop-signals.ts';

export const startCommand: Command = {
  name: 'start',
  summary: 'run the service (embedded defaults for every part not configured)',
  help: `Usage: chakushin start

Runs the SIP application server in the foreground. Every external part not configured
runs embedded: PostgreSQL under var/, the SMTP catcher, the built-in SIP engine and RTP
endpoint. See the README for the environment variables. SIGTERM or Ctrl-C stops it
cleanly: no new calls, in-flight mails finished, database closed.`,
  async run() {
    const config = loadConfig();
    const logger = createLogger(config.log.level);
    // Listening before the parts start: a signal while they start (a process manager giving up
    // early) must still stop them in order, database last, not kill the process.
    const stop = listenForStop(logger);
    const service = await startService(config, logger);
    logger.info({ http: service.httpPort, site: service.sitePort, sip: service.sipAddress }, 'chakushin started');
    logger.info({ signal: await stop.requested }, 'stopping');
    await service.stop();
    logger.info('chakushin stopped');
    return 0;
  },
};
