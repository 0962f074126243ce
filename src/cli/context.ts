// What most subcommands need: the config and, for database commands, a connection
// (to the configured server, or to the embedded one, shared with a running service).
import { loadConfig, type Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import { openDatabase, type Database } from '../store/database.ts';

export async function withDatabase<T>(fn: (db: Database, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr as never);
  const db = await openDatabase(config, logger);
  try {
    return await fn(db, config);
  } finally {
    await db.close();
  }
}
