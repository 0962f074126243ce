// The whole service in one process: each external part is either the real one named in
// the config or its embedded stand-in. Parts start in dependency order and stop in reverse.
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { openDatabase } from './store/database.ts';
import { startWebServer, type HealthCheck } from './web/server.ts';

export interface Service {
  httpPort: number;
  /** Stop taking calls, finish in-flight work, close the database. */
  stop(): Promise<void>;
}

export async function startService(config: Config, logger: Logger): Promise<Service> {
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) {
      try {
        await s.stop();
        logger.info({ part: s.name }, 'stopped');
      } catch (err) {
        logger.error({ part: s.name, err: (err as Error).message }, 'stop failed');
      }
    }
  };
  try {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const health: HealthCheck[] = [];

    const db = await openDatabase(config, logger);
    stops.push({ name: 'database', stop: () => db.close() });
    logger.info({ embedded: db.embedded }, 'database ready');
    health.push({ name: 'database', check: async () => void (await db.pool.query('select 1')) });

    const web = await startWebServer({ ...config.http.listen, registry, health, logger });
    stops.push({ name: 'http', stop: () => web.close() });
    logger.info({ port: web.port }, 'http listening');

    return { httpPort: web.port, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
