import type { Command } from '../command.ts';
import { loadConfig } from '../../config.ts';
import { createLogger } from '../../logger.ts';
import { startService } from '../../service.ts';

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
    const service = await startService(config, logger);
    logger.info({ http: service.httpPort }, 'chakushin started');
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info({ signal }, 'stopping');
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        service.stop().then(resolve, resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    logger.info('chakushin stopped');
    return 0;
  },
};
