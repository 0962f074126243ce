// Applies sql/NNN_*.sql in order, each in its own transaction, once.
// An advisory lock lets several app instances start against one database at the same time.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { inTransaction, withClient } from './transaction.ts';

export const SQL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../sql');
const LOCK_KEY = 0x6368616b; // 'chak'

export async function migrate(pool: pg.Pool, dir = SQL_DIR): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{3}_.+\.sql$/.test(f)).sort();
  // One client throughout: the advisory lock is the session's, held across the migrations' transactions.
  return withClient(pool, async (client) => {
    const applied: string[] = [];
    await client.query('select pg_advisory_lock($1)', [LOCK_KEY]);
    try {
      await client.query(
        'create table if not exists schema_migration (name text primary key, applied_at timestamptz not null default now())',
      );
      const done = new Set((await client.query<{ name: string }>('select name from schema_migration')).rows.map((r) => r.name));
      for (const file of files) {
        if (done.has(file)) continue;
        const sql = await readFile(path.join(dir, file), 'utf8');
        await inTransaction(client, async () => {
          await client.query(sql);
          await client.query('insert into schema_migration (name) values ($1)', [file]);
        }).catch((err: Error) => {
          throw new Error(`migration ${file} failed: ${err.message}`);
        });
        applied.push(file);
      }
    } finally {
      await client.query('select pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    }
    return applied;
  });
}
