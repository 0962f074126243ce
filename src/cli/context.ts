// What most subcommands need: the config and, for database commands, a connection
// (to the configured server, or to the embedded one, shared with a running service).
import { loadConfig, type Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import { openDatabase, type Database } from '../store/database.ts';
import { Interrupted, listenForStop } from '../stop-signals.ts';

export async function withDatabase<T>(fn: (db: Database, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr as never);
  // Without a running service the command starts the embedded PostgreSQL itself, in a session of its
  // own that a Ctrl-C does not reach: a signal ends the command's work, and the server is still stopped.
  const stop = listenForStop(logger);
  const db = await openDatabase(config, logger);
  try {
    return await Promise.race([fn(db, config), stop.requested.then((signal) => Promise.reject(new Interrupted(signal)))]);
  } finally {
    await db.close();
  }
}
