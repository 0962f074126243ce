import type { Command } from '../command.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply the SQL migrations in sql/ to the database',
  help: `Usage: chakushin migrate

Applies every sql/NNN_*.sql not yet applied, each in its own transaction.
The service also does this at start. Uses DATABASE_URL, or the embedded PostgreSQL under var/.`,
  async run() {
    const [{ withDatabase }, { migrate }] = await Promise.all([import('../context.ts'), import('../../store/migrate.ts')]);
    await withDatabase(async (db) => {
      const applied = await migrate(db.pool);
      console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
    });
    return 0;
  },
};
