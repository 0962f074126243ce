// Opens the database the config names (or the embedded one) and brings its schema up to date.
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import { migrate } from './migrate.ts';

// bigint (int8) columns hold ids and counts well inside 2^53: read them as numbers.
pg.types.setTypeParser(20, (v) => Number(v));

export interface Database {
  pool: pg.Pool;
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

/** What opening the database needs of the service's config (the store does not read the config itself). */
export interface DatabaseSettings {
  /** Where embedded PostgreSQL keeps its data (`<varDir>/pgdata`). */
  varDir: string;
  /** `url` unset: the embedded server on `embeddedPort`. */
  database: { url?: string | undefined; embeddedPort: number; poolSize: number };
}

export async function openDatabase(config: DatabaseSettings, logger?: Logger, opts: { migrate?: boolean } = {}): Promise<Database> {
  let url = config.database.url;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!url) {
    // Shared with a running service's server when there is one (a CLI command next to `npm start`).
    const embedded = await startEmbeddedPostgres({
      dataDir: path.join(config.varDir, 'pgdata'),
      port: config.database.embeddedPort,
      logger,
    });
    url = embedded.url;
    stopEmbedded = embedded.stop;
  }
  const pool = new pg.Pool({ connectionString: url, max: config.database.poolSize });
  // An idle client losing its connection must not take the process down; the pool replaces it.
  pool.on('error', (err) => logger?.warn({ err: err.message }, 'database connection lost'));
  try {
    if (opts.migrate !== false) {
      const applied = await migrate(pool);
      if (applied.length) logger?.info({ applied }, 'database migrated');
    }
  } catch (err) {
    await pool.end();
    await stopEmbedded?.();
    throw err;
  }
  return {
    pool,
    url,
    embedded: !!stopEmbedded,
    async close() {
      await pool.end();
      await stopEmbedded?.();
    },
  };
}
