// 着信お知らせメール settings of one number as the settings site reads and writes them.
// Each save is one transaction that first checks the version the form was drawn from
// (StaleFormError when someone saved in between), so a second window never silently overwrites.
import type pg from 'pg';
import { withTransaction } from './transaction.ts';

export interface NotifySettings {
  number: string;
  started: boolean;
  designatedOnly: boolean;
  unansweredOnly: boolean;
  /** 0: no settings row yet. */
  version: number;
  destinations: { position: number; address: string; send: boolean }[];
  designated: { position: number; callerNumber: string; designated: boolean }[];
}

export class StaleFormError extends Error {
  override name = 'StaleFormError';
}

type Queryable = pg.Pool | pg.PoolClient;

export async function readNotifySettings(db: Queryable, number: string): Promise<NotifySettings> {
  // One round trip: every settings page view reads this.
  const { rows } = await db.query({
    name: 'site_read_notify_settings',
    text: `select s.started, s.designated_only, s.unanswered_only, s.version,
              coalesce((select json_agg(json_build_object('position', d.position, 'address', d.address, 'send', d.send) order by d.position)
                          from notify_destination d where d.number = $1), '[]') as destinations,
              coalesce((select json_agg(json_build_object('position', g.position, 'callerNumber', g.caller_number, 'designated', g.designated) order by g.position)
                          from notify_designated g where g.number = $1), '[]') as designated
         from (select $1::text as number) n left join notify_setting s on s.number = n.number`,
    values: [number],
  });
  const row = rows[0];
  return {
    number,
    started: row.started ?? false,
    designatedOnly: row.designated_only ?? false,
    unansweredOnly: row.unanswered_only ?? false,
    version: row.version === null ? 0 : Number(row.version),
    destinations: row.destinations,
    designated: row.designated,
  };
}

/**
 * Runs `change` in a transaction holding the number's settings row, after checking that the
 * row is still at `expectedVersion`. Anything `change` throws rolls the whole form back.
 */
export async function changeNotifySettings<T>(
  pool: pg.Pool,
  number: string,
  expectedVersion: number,
  change: (client: pg.PoolClient, current: NotifySettings) => Promise<T>,
): Promise<T> {
  return withTransaction(pool, async (client) => {
    await client.query('insert into notify_setting (number) values ($1) on conflict (number) do nothing', [number]);
    const { rows } = await client.query('select version from notify_setting where number = $1 for update', [number]);
    const version = Number(rows[0].version);
    // A number without settings is drawn as version 0 and gets its row (version 1) here.
    const expected = expectedVersion === 0 ? 1 : expectedVersion;
    if (version !== expected) throw new StaleFormError(`settings of ${number} changed since the form was drawn`);
    return change(client, await readNotifySettings(client, number));
  });
}

export async function writeStarted(db: pg.PoolClient, number: string, started: boolean, now: Date): Promise<void> {
  await db.query('update notify_setting set started = $2, updated_at = $3 where number = $1', [number, started, now]);
}

export async function writeConditions(db: pg.PoolClient, number: string, c: { designatedOnly: boolean; unansweredOnly: boolean }, now: Date): Promise<void> {
  await db.query('update notify_setting set designated_only = $2, unanswered_only = $3, updated_at = $4 where number = $1', [
    number,
    c.designatedOnly,
    c.unansweredOnly,
    now,
  ]);
}

export async function writeDestinations(db: pg.PoolClient, number: string, rows: NotifySettings['destinations'], now: Date): Promise<void> {
  await db.query('delete from notify_destination where number = $1', [number]);
  if (rows.length) {
    await db.query(
      `insert into notify_destination (number, position, address, send)
       select $1, d.position, d.address, d.send from json_to_recordset($2::json) as d(position int, address text, send boolean)`,
      [number, JSON.stringify(rows)],
    );
  }
  await db.query('update notify_setting set updated_at = $2 where number = $1', [number, now]);
}

export async function writeDesignated(db: pg.PoolClient, number: string, rows: NotifySettings['designated'], now: Date): Promise<void> {
  await db.query('delete from notify_designated where number = $1', [number]);
  if (rows.length) {
    await db.query(
      `insert into notify_designated (number, position, caller_number, designated)
       select $1, d.position, d."callerNumber", d.designated from json_to_recordset($2::json) as d(position int, "callerNumber" text, designated boolean)`,
      [number, JSON.stringify(rows)],
    );
  }
  await db.query('update notify_setting set updated_at = $2 where number = $1', [number, now]);
}

/** The number's settings row, made if missing and locked for the transaction (a bulk row's writes). */
export async function lockNotifySetting(client: pg.PoolClient, number: string): Promise<void> {
  await client.query('insert into notify_setting (number) values ($1) on conflict (number) do nothing', [number]);
  await client.query('select 1 from notify_setting where number = $1 for update', [number]);
}
