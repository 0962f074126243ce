// The one way to write several statements as one: begin, the work, commit — or rollback and the
// error. Every multi-statement write goes through here, so nothing is ever half-written.
import type pg from 'pg';

export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A connection lost mid-transaction is also emitted as an 'error' event on the checked-out
  // client; unheard, it would crash the process. The failing query reports it to us anyway.
  const ignore = () => undefined;
  client.on('error', ignore);
  let failure: Error | undefined;
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (err) {
    failure = err as Error;
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.removeListener('error', ignore);
    // A client whose transaction failed is discarded, not handed to the next caller.
    client.release(failure);
  }
}
