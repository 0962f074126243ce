// FAXお知らせメール in PostgreSQL: a number's settings (開始／停止, 送信先メールアドレス), its FAX
// receptions with their PDF, and the retention sweep. The settings sites (受信FAX内容確認,
// 送信先メールアドレス設定, サービス開始／停止) use the functions below; each multi-statement write is
// one transaction (withTransaction), audited where a subscriber acts.
import type pg from 'pg';
import type { AbsentReason } from '../domain/incoming-call.ts';
import { writeAudit } from './audit.ts';
import { StaleFormError } from './notify-settings.ts';
import { withTransaction } from './transaction.ts';

type Queryable = pg.Pool | pg.PoolClient;

export { StaleFormError };

export interface FaxDestination {
  position: number;
  address: string;
  send: boolean;
}

export interface FaxSettings {
  number: string;
  started: boolean;
  /** 0: no settings row yet. */
  version: number;
  destinations: FaxDestination[];
}

export async function readFaxSettings(db: Queryable, number: string): Promise<FaxSettings> {
  const { rows } = await db.query({
    name: 'fax_read_settings',
    text: `select s.started, s.version,
              coalesce((select json_agg(json_build_object('position', d.position, 'address', d.address, 'send', d.send) order by d.position)
                          from fax_destination d where d.number = $1), '[]') as destinations
         from (select $1::text as number) n left join fax_setting s on s.number = n.number`,
    values: [number],
  });
  const r = rows[0];
  return { number, started: r.started ?? false, version: r.version === null ? 0 : Number(r.version), destinations: r.destinations };
}

/**
 * Runs `change` in a transaction holding the number's FAX settings row, after checking it is still
 * at `expectedVersion` (the version the form was drawn from; 0 = no row then). StaleFormError when
 * someone saved in between; anything `change` throws rolls the whole form back.
 */
export async function changeFaxSettings<T>(
  pool: pg.Pool,
  number: string,
  expectedVersion: number,
  change: (client: pg.PoolClient, current: FaxSettings) => Promise<T>,
): Promise<T> {
  return withTransaction(pool, async (client) => {
    await client.query('insert into fax_setting (number) values ($1) on conflict (number) do nothing', [number]);
    const { rows } = await client.query('select version from fax_setting where number = $1 for update', [number]);
    const expected = expectedVersion === 0 ? 1 : expectedVersion;
    if (Number(rows[0].version) !== expected) throw new StaleFormError(`FAX settings of ${number} changed since the form was drawn`);
    return change(client, await readFaxSettings(client, number));
  });
}

export async function writeFaxStarted(db: pg.PoolClient, number: string, started: boolean, now: Date): Promise<void> {
  await db.query('update fax_setting set started = $2, updated_at = $3 where number = $1', [number, started, now]);
}

export async function writeFaxDestinations(db: pg.PoolClient, number: string, rows: FaxDestination[], now: Date): Promise<void> {
  await db.query('delete from fax_destination where number = $1', [number]);
  if (rows.length) {
    await db.query(
      `insert into fax_destination (number, position, address, send)
       select $1, d.position, d.address, d.send from json_to_recordset($2::json) as d(position int, address text, send boolean)`,
      [number, JSON.stringify(rows)],
    );
  }
  await db.query('update fax_setting set updated_at = $2 where number = $1', [number, now]);
}

/** Provisioning: the number's FAX settings become exactly `fax` (none: removed). In the caller's transaction. */
export async function replaceFaxSettings(db: pg.PoolClient, number: string, fax: { started: boolean; destinations: { address: string; send: boolean }[] } | undefined): Promise<void> {
  if (!fax) {
    await db.query('delete from fax_setting where number = $1', [number]);
    return;
  }
  await db.query(
    `insert into fax_setting (number, started) values ($1, $2)
     on conflict (number) do update set started = excluded.started, updated_at = now()`,
    [number, fax.started],
  );
  await writeFaxDestinations(db, number, fax.destinations.map((d, i) => ({ position: i + 1, address: d.address, send: d.send })), new Date());
}

/** One FAX reception as recorded. */
export interface NewFaxReception {
  callId: string;
  calledNumber: string;
  callerNumber: string | null;
  absentReason: AbsentReason | null;
  inviteAt: Date;
  receivedAt: Date;
  endedAt: Date;
  remoteIdent: string;
  pages: number;
  resolution: string | null;
  result: 'complete' | 'partial' | 'failed';
  t30Code: number;
  t30Reason: string;
  transport: 'g711' | 't38';
  pdf: Uint8Array | null;
  expiresAt: Date;
}

/** Inserts a reception; null when this call was already recorded (a repeated save changes nothing). */
export async function insertFaxReception(db: Queryable, r: NewFaxReception): Promise<number | null> {
  const { rows } = await db.query<{ id: string }>(
    `insert into fax_reception (call_id, called_number, caller_number, absent_reason, invite_at, received_at, ended_at, duration_ms,
                                remote_ident, pages, resolution, result, t30_code, t30_reason, transport, pdf, expires_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
     on conflict (call_id, called_number) do nothing
     returning id`,
    [
      r.callId, r.calledNumber, r.callerNumber, r.absentReason, r.inviteAt, r.receivedAt, r.endedAt,
      Math.max(0, r.endedAt.getTime() - r.receivedAt.getTime()), r.remoteIdent, r.pages, r.resolution, r.result, r.t30Code,
      r.t30Reason, r.transport, r.pdf ? Buffer.from(r.pdf) : null, r.expiresAt,
    ],
  );
  return rows[0] ? Number(rows[0].id) : null;
}

/** Marks the outbox rows just queued for a reception (the link that makes them once-only and carries the PDF). */
export async function linkFaxMails(db: Queryable, receptionId: number, mailIds: number[], attachPdf: boolean): Promise<void> {
  if (mailIds.length === 0) return;
  await db.query('update mail_outbox set fax_reception_id = $1, attach_pdf = $2 where id = any($3)', [receptionId, attachPdf, mailIds]);
}

/** The PDF a queued mail should carry, if it asked for one and the reception is still kept. */
export async function faxMailAttachment(db: Queryable, mailId: number): Promise<{ filename: string; pdf: Buffer } | undefined> {
  const { rows } = await db.query<{ pdf: Buffer; called_number: string; received_at: Date; id: string }>(
    `select f.pdf, f.called_number, f.received_at, f.id from mail_outbox o join fax_reception f on f.id = o.fax_reception_id
      where o.id = $1 and o.attach_pdf and f.pdf is not null`,
    [mailId],
  );
  const r = rows[0];
  return r ? { filename: `fax-${r.called_number}-${r.id}.pdf`, pdf: r.pdf } : undefined;
}

/** A reception as the sites and the CLI read it: what was recorded, without the document itself. */
export interface FaxReceptionRow extends Pick<NewFaxReception,
  'calledNumber' | 'callerNumber' | 'absentReason' | 'receivedAt' | 'remoteIdent' | 'pages' | 'resolution' | 'result' | 't30Code' | 't30Reason' | 'transport'> {
  id: number;
  durationMs: number;
  /** A PDF is kept (false: nothing was received). */
  hasPdf: boolean;
  pdfBytes: number;
  expiresAt: Date;
}

const ROW_COLUMNS = `id, called_number, caller_number, absent_reason, received_at, duration_ms, remote_ident, pages, resolution, result,
  t30_code, t30_reason, transport, pdf is not null as has_pdf, coalesce(octet_length(pdf), 0) as pdf_bytes, expires_at`;

function toRow(r: Record<string, unknown>): FaxReceptionRow {
  return {
    id: Number(r.id), calledNumber: r.called_number as string, callerNumber: r.caller_number as string | null,
    absentReason: r.absent_reason as AbsentReason | null, receivedAt: r.received_at as Date, durationMs: r.duration_ms as number,
    remoteIdent: r.remote_ident as string, pages: r.pages as number, resolution: r.resolution as string | null,
    result: r.result as FaxReceptionRow['result'], t30Code: r.t30_code as number, t30Reason: r.t30_reason as string,
    transport: r.transport as FaxReceptionRow['transport'], hasPdf: r.has_pdf as boolean, pdfBytes: Number(r.pdf_bytes),
    expiresAt: r.expires_at as Date,
  };
}

/**
 * 受信FAX内容確認: a number's receptions still kept (not expired), newest first, one page of them.
 * The caller checks the login's 認証単位 scope for `number` first.
 */
export async function listFaxReceptions(db: Queryable, number: string, page: { offset: number; limit: number }, now = new Date()): Promise<{ total: number; rows: FaxReceptionRow[] }> {
  const [count, list] = await Promise.all([
    db.query<{ n: number }>('select count(*)::int as n from fax_reception where called_number = $1 and expires_at > $2', [number, now]),
    db.query(
      `select ${ROW_COLUMNS} from fax_reception where called_number = $1 and expires_at > $2
        order by received_at desc, id desc offset $3 limit $4`,
      [number, now, page.offset, page.limit],
    ),
  ]);
  return { total: count.rows[0]!.n, rows: list.rows.map(toRow) };
}

export async function getFaxReception(db: Queryable, number: string, id: number, now = new Date()): Promise<FaxReceptionRow | undefined> {
  const { rows } = await db.query(`select ${ROW_COLUMNS} from fax_reception where id = $1 and called_number = $2 and expires_at > $3`, [id, number, now]);
  return rows[0] ? toRow(rows[0]) : undefined;
}

/** Who is acting, for the audit row a download or a delete writes. */
export interface FaxActor {
  actor: string;
  source?: string | null;
  at: Date;
}

/**
 * The PDF of one reception of `number` (undefined when there is none, it expired, or it belongs to
 * another number), with its audit row (`fax.download`) written in the same transaction.
 */
export async function downloadFaxPdf(pool: pg.Pool, number: string, id: number, who: FaxActor): Promise<{ pdf: Buffer; receivedAt: Date } | undefined> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ pdf: Buffer; received_at: Date }>(
      'select pdf, received_at from fax_reception where id = $1 and called_number = $2 and expires_at > $3 and pdf is not null',
      [id, number, who.at],
    );
    const r = rows[0];
    if (!r) return undefined;
    await writeAudit(client, { actor: who.actor, action: 'fax.download', subject: number, detail: { reception: id, bytes: r.pdf.length }, source: who.source, at: who.at });
    return { pdf: r.pdf, receivedAt: r.received_at };
  });
}

/** Deletes one reception of `number` (PDF and record) with its audit row (`fax.delete`); false when there was none. */
export async function deleteFaxReception(pool: pg.Pool, number: string, id: number, who: FaxActor): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const r = await client.query('delete from fax_reception where id = $1 and called_number = $2', [id, number]);
    if (r.rowCount !== 1) return false;
    await writeAudit(client, { actor: who.actor, action: 'fax.delete', subject: number, detail: { reception: id }, source: who.source, at: who.at });
    return true;
  });
}

/** Retention: deletes receptions past their expiry, at most `limit` per call (the sweep repeats). Returns how many. */
export async function sweepExpiredFaxReceptions(db: Queryable, now: Date, limit = 500): Promise<number> {
  const r = await db.query(
    `delete from fax_reception where id in (select id from fax_reception where expires_at <= $1 order by expires_at limit $2 for update skip locked)`,
    [now, limit],
  );
  return r.rowCount ?? 0;
}
