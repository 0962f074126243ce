// audit_log: every site login, failed login, lock, password change and settings change
// (and the IVR's temp-password sets). Never holds a password, temp password or entered digits.
import type pg from 'pg';

type Queryable = pg.Pool | pg.PoolClient;

export interface AuditEntry {
  /** Who did it: the login number, 'ivr', 'provisioning', 'anonymous'. */
  actor: string;
  action: string;
  /** The number acted on. */
  subject: string | null;
  detail?: Record<string, unknown>;
  /** Client address as the site saw it. */
  source?: string | null;
  at: Date;
}

export async function writeAudit(db: Queryable, e: AuditEntry): Promise<void> {
  await db.query('insert into audit_log (at, actor, action, subject, detail, source) values ($1, $2, $3, $4, $5, $6)', [
    e.at,
    e.actor,
    e.action,
    e.subject,
    JSON.stringify(e.detail ?? {}),
    e.source ?? null,
  ]);
}

export interface AuditRow {
  id: number;
  at: Date;
  actor: string;
  action: string;
  subject: string | null;
  detail: Record<string, unknown>;
  source: string | null;
}

export async function listAudit(db: Queryable, opts: { number?: string; action?: string; limit: number }): Promise<AuditRow[]> {
  const { rows } = await db.query<AuditRow>(
    `select id, at, actor, action, subject, detail, source from audit_log
      where ($1::text is null or subject = $1 or actor = $1) and ($2::text is null or action like $2 || '%')
      order by at desc, id desc limit $3`,
    [opts.number ?? null, opts.action ?? null, opts.limit],
  );
  return rows;
}

/** How many times `action` was logged for `subject` since `since` (e.g. test mails in the last hour). */
export async function countAudit(db: Queryable, subject: string, action: string, since: Date): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'select count(*)::int as n from audit_log where subject = $1 and action = $2 and at > $3',
    [subject, action, since],
  );
  return rows[0]!.n;
}

/**
 * countAudit under a per-subject lock held to the end of the caller's transaction: two requests
 * counting the same cap (送信テスト an hour) see each other's rows, never both pass.
 */
export async function countAuditLocked(client: pg.PoolClient, subject: string, action: string, since: Date): Promise<number> {
  await client.query('select pg_advisory_xact_lock(hashtext($1))', [`${action}:${subject}`]);
  return countAudit(client, subject, action, since);
}
