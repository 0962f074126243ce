// `chakushin catcher`: the built-in SMTP catcher on its own, in the foreground — a local mail sink that
// keeps every mail it is given as an .eml file. `chakushin start` runs it as a process of its own when
// no SMTP_URL is set, as it would use a relay.
import { UsageError, type Command } from '../command.ts';

const HELP = `Usage: chakushin catcher [--listen HOST:PORT] [--dir DIR] [--log-level LEVEL]

Runs the built-in SMTP catcher in the foreground: a real SMTP server that stores one .eml per
recipient (with Return-Path and Delivered-To) in DIR. SIGTERM or SIGINT stops it.

  --listen HOST:PORT   where to listen (default 127.0.0.1:2525)
  --dir DIR            where mails are kept (default var/mail)
  --log-level LEVEL    pino level (default info)`;

export const catcherCommand: Command = {
  name: 'catcher',
  summary: 'run the built-in SMTP catcher (a local mail sink) in the foreground',
  help: HELP,
  async run(args) {
    let listen = { host: '127.0.0.1', port: 2525 };
    let dir = 'var/mail';
    let level = 'info';
    for (let i = 0; i < args.length; i++) {
      const [flag, value] = [args[i], args[i + 1]];
      if (flag === '--listen') {
        const m = value ? /^(.+):(\d{1,5})$/.exec(value) : null;
        if (!m || Number(m[2]) > 65535) throw new UsageError(`--listen expects HOST:PORT, got ${JSON.stringify(value ?? '')}`);
        listen = { host: m[1]!, port: Number(m[2]) };
      } else if (flag === '--dir' && value) dir = value;
      else if (flag === '--log-level' && value) level = value;
      else throw new UsageError(`unknown option ${flag}`);
      i++;
    }
    const [{ createLogger }, { startSmtpCatcher }, { listenForStop }, { startPart }] = await Promise.all([
      import('../../logger.ts'), import('../../mail/catcher.ts'), import('../../stop-signals.ts'), import('../../start-failure.ts'),
    ]);
    const logger = createLogger(level);
    const stop = listenForStop(logger);
    // Started by a node: it goes when its node goes, and tells it where it listens.
    if (process.send) process.on('disconnect', () => process.exit(1));
    let catcher;
    try {
      catcher = await startPart('SMTP catcher', 'set SMTP_CATCHER_LISTEN', () => startSmtpCatcher({ ...listen, dir, logger }));
    } catch (err) {
      if (!process.send) throw err;
      // Its node says it, once.
      process.send({ t: 'failed', message: (err as Error).message });
      return 1;
    }
    process.send?.({ t: 'ready', port: catcher.port });
    await stop.requested;
    await catcher.close();
    return 0;
  },
};
