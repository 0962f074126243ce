// 回線情報通知機能 in PostgreSQL: lines, providers, each line's 「通知する」 set, accepted
// applications waiting for their work (工事), and failed logins.
import type pg from 'pg';
import type { LineInfoSetting } from '../domain/line-info.ts';

type Queryable = pg.Pool | pg.PoolClient;

export interface LineRow {
  customerId: string;
  prefix: string;
  accessKeyHash: string;
}

export async function lineExists(db: Queryable, customerId: string): Promise<boolean> {
  const { rowCount } = await db.query('select 1 from line_info_line where customer_id = $1', [customerId]);
  return rowCount === 1;
}

/** Locks the line's row for the transaction: one application at a time per line. */
export async function lockLine(client: pg.PoolClient, customerId: string): Promise<void> {
  await client.query('select 1 from line_info_line where customer_id = $1 for update', [customerId]);
}

export async function loadLine(db: Queryable, customerId: string): Promise<LineRow | undefined> {
  const { rows } = await db.query<LineRow>(
    'select customer_id as "customerId", prefix::text as prefix, access_key_hash as "accessKeyHash" from line_info_line where customer_id = $1',
    [customerId],
  );
  return rows[0];
}

export interface ProviderState {
  id: string;
  serviceName: string;
  name: string;
  /** 通知設定: 通知する when set. */
  notifySince: Date | null;
  method: 'web' | 'order' | null;
  /** An accepted application for this provider is waiting for its work. */
  pending: boolean;
}

/** Every provider with this line's setting for it, in provider order. */
export async function providerStates(db: Queryable, customerId: string): Promise<ProviderState[]> {
  const { rows } = await db.query<ProviderState>(
    `select p.id, p.service_name as "serviceName", p.name, n.set_at as "notifySince", n.method,
            exists (select 1 from line_info_application a
                     where a.customer_id = $1 and a.state = 'pending' and p.id = any(a.provider_ids)) as pending
       from line_info_provider p
       left join line_info_notify n on n.provider_id = p.id and n.customer_id = $1
      order by p.id`,
    [customerId],
  );
  return rows;
}

// ---- failed logins -----------------------------------------------------------------------

/** Wrong keys from one client address since a time (the per-address window). */
export async function failuresSince(db: Queryable, by: { source: string }, since: Date): Promise<number> {
  const { rows } = await db.query<{ n: number }>('select count(*)::int as n from line_info_login_failure where source = $1 and at > $2', [by.source, since]);
  return rows[0]!.n;
}

/** Records a failure; rows older than `forgetBefore` are no use to any window and go. */
export async function recordLoginFailure(db: Queryable, f: { customerId: string | null; source: string; at: Date; forgetBefore: Date }): Promise<void> {
  // One statement: the new row and the sweep of rows no window needs any more.
  await db.query(
    `with forgotten as (delete from line_info_login_failure where at < $4)
     insert into line_info_login_failure (at, customer_id, source) values ($1, $2, $3)`,
    [f.at, f.customerId, f.source, f.forgetBefore],
  );
}

// ---- applications ------------------------------------------------------------------------

export interface Applicant {
  name: string;
  phone: string;
  mail: string | null;
  completionMail: boolean;
}

export interface Application {
  id: number;
  receiptNo: string;
  customerId: string;
  setting: LineInfoSetting;
  providerIds: string[];
  applicant: Applicant;
  acceptedAt: Date;
  dueAt: Date;
  state: 'pending' | 'done';
  doneAt: Date | null;
}

const APPLICATION_COLUMNS = `id::int, receipt_no, customer_id, setting, provider_ids, applicant_name, applicant_phone, applicant_mail,
  completion_mail, accepted_at, due_at, state, done_at`;

interface ApplicationDbRow {
  id: number; receipt_no: string; customer_id: string; setting: LineInfoSetting; provider_ids: string[];
  applicant_name: string; applicant_phone: string; applicant_mail: string | null; completion_mail: boolean;
  accepted_at: Date; due_at: Date; state: 'pending' | 'done'; done_at: Date | null;
}

const toApplication = (r: ApplicationDbRow): Application => ({
  id: r.id, receiptNo: r.receipt_no, customerId: r.customer_id, setting: r.setting, providerIds: r.provider_ids,
  applicant: { name: r.applicant_name, phone: r.applicant_phone, mail: r.applicant_mail, completionMail: r.completion_mail },
  acceptedAt: r.accepted_at, dueAt: r.due_at, state: r.state, doneAt: r.done_at,
});

export interface NewApplication {
  customerId: string;
  idempotencyKey: string;
  setting: LineInfoSetting;
  providerIds: string[];
  applicant: Applicant;
  acceptedAt: Date;
  dueAt: Date;
  receiptNo(sequence: number): string;
  /** Whether the line's settings still allow this application (asked only for a new key). */
  stillValid(): Promise<boolean>;
}

/**
 * Accepts an application once per idempotency key: a second call with the same key (a double
 * submit, a reload) returns the application the first one created, with created false.
 * Undefined when the key is new and stillValid says no. Run it with the line's row locked.
 */
export async function acceptApplication(db: Queryable, a: NewApplication): Promise<{ application: Application; created: boolean } | undefined> {
  const existing = await applicationByKey(db, a.customerId, a.idempotencyKey);
  if (existing) return { application: existing, created: false };
  if (!(await a.stillValid())) return undefined;
  const { rows: seq } = await db.query<{ n: string }>("select nextval('line_info_receipt_seq') as n");
  const { rows } = await db.query<ApplicationDbRow>(
    `insert into line_info_application (receipt_no, customer_id, idempotency_key, setting, provider_ids, applicant_name,
       applicant_phone, applicant_mail, completion_mail, accepted_at, due_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     returning ${APPLICATION_COLUMNS}`,
    [a.receiptNo(Number(seq[0]!.n)), a.customerId, a.idempotencyKey, a.setting, a.providerIds, a.applicant.name, a.applicant.phone,
      a.applicant.mail, a.applicant.completionMail, a.acceptedAt, a.dueAt],
  );
  return { application: toApplication(rows[0]!), created: true };
}

async function applicationByKey(db: Queryable, customerId: string, key: string): Promise<Application | undefined> {
  const { rows } = await db.query<ApplicationDbRow>(
    `select ${APPLICATION_COLUMNS} from line_info_application where customer_id = $1 and idempotency_key = $2`,
    [customerId, key],
  );
  return rows[0] && toApplication(rows[0]);
}

export async function loadApplication(db: Queryable, customerId: string, id: number): Promise<Application | undefined> {
  const { rows } = await db.query<ApplicationDbRow>(`select ${APPLICATION_COLUMNS} from line_info_application where customer_id = $1 and id = $2`, [customerId, id]);
  return rows[0] && toApplication(rows[0]);
}

/** Due work, locked for this transaction; rows another instance holds are skipped, not waited for. */
export async function claimDueWork(client: pg.PoolClient, now: Date, limit: number): Promise<Application[]> {
  const { rows } = await client.query<ApplicationDbRow>(
    `select ${APPLICATION_COLUMNS} from line_info_application
      where state = 'pending' and due_at <= $1 order by due_at, id limit $2 for update skip locked`,
    [now, limit],
  );
  return rows.map(toApplication);
}

/** The work itself: the line's setting for each provider becomes the application's, then the row is done. */
export async function completeWork(client: pg.PoolClient, a: Application, now: Date): Promise<void> {
  if (a.setting === 'notify') {
    await client.query(
      `insert into line_info_notify (customer_id, provider_id, set_at, method)
       select $1, p, $3, 'web' from unnest($2::text[]) as p
       on conflict (customer_id, provider_id) do update set set_at = excluded.set_at, method = excluded.method`,
      [a.customerId, a.providerIds, now],
    );
  } else {
    await client.query('delete from line_info_notify where customer_id = $1 and provider_id = any($2)', [a.customerId, a.providerIds]);
  }
  await client.query("update line_info_application set state = 'done', done_at = $2 where id = $1", [a.id, now]);
}

/** Work that failed: due again at `dueAt`. */
export async function postponeWork(client: pg.PoolClient, id: number, dueAt: Date): Promise<void> {
  await client.query('update line_info_application set due_at = $2 where id = $1', [id, dueAt]);
}

export async function providersById(db: Queryable, ids: string[]): Promise<Map<string, { serviceName: string; name: string }>> {
  const { rows } = await db.query<{ id: string; serviceName: string; name: string }>(
    'select id, service_name as "serviceName", name from line_info_provider where id = any($1)',
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

// ---- provider lookup ---------------------------------------------------------------------

/**
 * The line an address (or prefix) belongs to, and whether it lets `providerId` learn its
 * お客さまID. One query whatever the answer, so an unknown line and a refused one cost the same.
 */
export async function lookupLine(db: Queryable, identifier: string, providerId: string): Promise<{ customerId: string; allowed: boolean } | undefined> {
  const { rows } = await db.query<{ customerId: string; allowed: boolean }>(
    `select l.customer_id as "customerId", (n.provider_id is not null) as allowed
       from line_info_line l
       left join line_info_notify n on n.customer_id = l.customer_id and n.provider_id = $2
      where l.prefix >>= $1::inet`,
    [identifier, providerId],
  );
  return rows[0];
}
