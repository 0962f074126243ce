// The one transaction helper (src/store/transaction.ts) on a real PostgreSQL, and the rule that no
// other file of src/ begins, commits or rolls back a transaction by hand.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction, withClient, withSavepoint, withTransaction } from '../../src/store/transaction.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query('create table item (id int primary key, note text)');
});
afterAll(async () => {
  await db?.drop();
});

const items = async () => (await db.pool.query<{ id: number; note: string | null }>('select id, note from item order by id')).rows;
const boom = new Error('boom');

describe('withTransaction', () => {
  it('commits the work and returns its result', async () => {
    await db.pool.query('truncate item');
    expect(await withTransaction(db.pool, async (c) => (await c.query('insert into item values (1), (2)')).rowCount)).toBe(2);
    expect(await items()).toEqual([{ id: 1, note: null }, { id: 2, note: null }]);
  });

  it('leaves nothing of failed work and rethrows its error; the pool goes on', async () => {
    await db.pool.query('truncate item');
    await expect(withTransaction(db.pool, async (c) => {
      await c.query('insert into item values (1)');
      throw boom;
    })).rejects.toBe(boom);
    expect(await items()).toEqual([]);
    expect((await db.pool.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });
});

describe('withSavepoint', () => {
  it('undoes only the part that failed; the transaction goes on and commits the rest', async () => {
    await db.pool.query('truncate item');
    const failed: number[] = [];
    await withTransaction(db.pool, async (c) => {
      for (const id of [1, 2, 3]) {
        await withSavepoint(c, async () => {
          await c.query('insert into item values ($1)', [id]);
          if (id === 2) await c.query('insert into item values (1)'); // duplicate key: this item fails
        }).catch(() => failed.push(id));
      }
      for (const id of failed) await c.query("insert into item values ($1, 'retry later')", [id + 10]);
    });
    expect(failed).toEqual([2]);
    expect(await items()).toEqual([{ id: 1, note: null }, { id: 3, note: null }, { id: 12, note: 'retry later' }]);
  });

  it('nests: an inner failure leaves the outer part’s own work', async () => {
    await db.pool.query('truncate item');
    await withTransaction(db.pool, (c) =>
      withSavepoint(c, async () => {
        await c.query('insert into item values (1)');
        await withSavepoint(c, async () => {
          await c.query('insert into item values (2)');
          throw boom;
        }).catch(() => undefined);
      }),
    );
    expect(await items()).toEqual([{ id: 1, note: null }]);
  });
});

describe('withClient + inTransaction', () => {
  it('runs several transactions on one held client; a failed one is rolled back alone', async () => {
    await db.pool.query('truncate item');
    await expect(withClient(db.pool, async (c) => {
      const pid = (await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
      await inTransaction(c, async () => void (await c.query('insert into item values (1)')));
      await inTransaction(c, async () => {
        await c.query('insert into item values (2)');
        throw boom;
      }).catch(() => undefined);
      await inTransaction(c, async () => void (await c.query('insert into item values (3)')));
      expect((await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid).toBe(pid);
      throw boom; // the held client's work fails: the error comes back and the client is not reused
    })).rejects.toBe(boom);
    expect(await items()).toEqual([{ id: 1, note: null }, { id: 3, note: null }]);
  });
});

describe('no hand-rolled transaction outside the helper', () => {
  const root = path.resolve(import.meta.dirname, '../..');
  const files = (dir: string): string[] =>
    readdirSync(path.join(root, dir)).flatMap((n) => (statSync(path.join(root, dir, n)).isDirectory() ? files(`${dir}/${n}`) : n.endsWith('.ts') ? [`${dir}/${n}`] : []));
  it('begin, commit, rollback and savepoints are issued in src/store/transaction.ts only', () => {
    const statement = /\.query\(\s*['"`]\s*(begin|commit|rollback|savepoint|release savepoint|start transaction)\b/i;
    const found = [...files('src'), ...files('flows')].filter((f) => f !== 'src/store/transaction.ts' && statement.test(readFileSync(path.join(root, f), 'utf8')));
    expect(found).toEqual([]);
  });

  it('no SQL under src/site: every query of the sites is a store repository\'s', () => {
    const sql = /\b(select |insert |update |delete from)|\bbegin\b|\.query\(/i;
    expect(files('src/site').filter((f) => sql.test(readFileSync(path.join(root, f), 'utf8')))).toEqual([]);
  });
});
