// The one way to write several statements as one: begin, the work, commit — or rollback and the
// error. Every multi-statement write goes through here, so nothing is ever half-written.
import type pg from 'pg';

/**
 * A client of the pool for `work`, given back afterwards. A connection lost while it is checked out
 * is also emitted as an 'error' event on the client; unheard, it would crash the process, and the
 * failing query reports it to the work anyway. A client whose work failed is discarded, not handed
 * to the next caller (it may sit in an aborted transaction or hold session state).
 */
export async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const ignore = () => undefined;
  client.on('error', ignore);
  let failure: Error | undefined;
  try {
    return await work(client);
  } catch (err) {
    failure = err as Error;
    throw err;
  } finally {
    client.removeListener('error', ignore);
    client.release(failure);
  }
}

/**
 * One transaction on a client the caller already holds (e.g. one keeping a session-level advisory
 * lock across several transactions, as migrate.ts does).
 */
export async function inTransaction<T>(client: pg.PoolClient, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}

/** One transaction on a client of its own. */
export function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, (client) => inTransaction(client, work));
}

/**
 * A part of a transaction that may fail alone (one item of a batch): a savepoint, the work, release —
 * or, when the work throws, back to the savepoint and the error, the rest of the transaction intact
 * for the caller to go on (e.g. to mark the item for a retry). Only inside inTransaction/withTransaction.
 */
export async function withSavepoint<T>(client: pg.PoolClient, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  await client.query('savepoint chakushin_part');
  try {
    const result = await work(client);
    await client.query('release savepoint chakushin_part');
    return result;
  } catch (err) {
    await client.query('rollback to savepoint chakushin_part');
    throw err;
  }
}
