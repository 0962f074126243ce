// ワンタイムパスワード state in PostgreSQL: the subscriber's choice and addresses (otp_setting),
// and the single-use 本登録 tokens and login codes (otp_token), kept only as SHA-256 hashes.
// Using a token or counting a wrong code is one UPDATE, so two tabs cannot both use one.
import { createHash, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';

type Queryable = pg.Pool | pg.PoolClient;

export interface OtpSetting {
  number: string;
  useOtp: boolean;
  address: string | null;
  pendingAddress: string | null;
  checkIdHash: string | null;
  checkPasswordHash: string | null;
}

export const sha256 = (...parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('base64url');

/** Constant-time comparison of two base64url hashes. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function loadOtpSetting(db: Queryable, number: string): Promise<OtpSetting | undefined> {
  const { rows } = await db.query(
    'select number, use_otp, address, pending_address, check_id_hash, check_password_hash from otp_setting where number = $1',
    [number],
  );
  const r = rows[0];
  return r && { number: r.number, useOtp: r.use_otp, address: r.address, pendingAddress: r.pending_address, checkIdHash: r.check_id_hash, checkPasswordHash: r.check_password_hash };
}

/** 利用しない: the choice is kept; addresses and check credentials stay for a later change back. */
export async function declineOtp(db: Queryable, number: string): Promise<void> {
  await db.query(
    `insert into otp_setting (number, use_otp) values ($1, false)
     on conflict (number) do update set use_otp = false, updated_at = now()`,
    [number],
  );
}

/** 仮登録: the address waits for its URL; the check credentials are set when given. */
export async function registerPending(db: Queryable, number: string, address: string, check?: { idHash: string; passwordHash: string }): Promise<void> {
  await db.query(
    `insert into otp_setting (number, use_otp, pending_address, check_id_hash, check_password_hash) values ($1, true, $2, $3, $4)
     on conflict (number) do update set use_otp = true, pending_address = excluded.pending_address,
       check_id_hash = coalesce(excluded.check_id_hash, otp_setting.check_id_hash),
       check_password_hash = coalesce(excluded.check_password_hash, otp_setting.check_password_hash), updated_at = now()`,
    [number, address, check?.idHash ?? null, check?.passwordHash ?? null],
  );
}

export async function setCheckCredential(db: Queryable, number: string, which: 'id' | 'password', hash: string): Promise<void> {
  await db.query(`update otp_setting set ${which === 'id' ? 'check_id_hash' : 'check_password_hash'} = $2, updated_at = now() where number = $1`, [number, hash]);
}

export async function createToken(db: Queryable, t: { number: string; kind: 'register' | 'code'; secretHash: string; address: string; expiresAt: Date }): Promise<void> {
  // A new code or URL replaces the number's earlier unused ones of the same kind.
  await db.query(`update otp_token set used_at = now() where number = $1 and kind = $2 and used_at is null`, [t.number, t.kind]);
  await db.query('insert into otp_token (number, kind, secret_hash, address, expires_at) values ($1, $2, $3, $4, $5)', [
    t.number,
    t.kind,
    t.secretHash,
    t.address,
    t.expiresAt,
  ]);
}

export type RegisterOutcome = { ok: true; number: string; address: string } | { ok: false; why: 'unknown' | 'used' | 'expired' };

/** Follows a 本登録 URL: the pending address becomes the address, once. */
export async function confirmRegistration(db: pg.Pool, tokenHash: string, now: Date): Promise<RegisterOutcome> {
  const { rows } = await db.query(
    `update otp_token set used_at = $2 where secret_hash = $1 and kind = 'register' and used_at is null and expires_at > $2
     returning number, address`,
    [tokenHash, now],
  );
  const r = rows[0];
  if (!r) {
    const { rows: seen } = await db.query(`select used_at from otp_token where secret_hash = $1 and kind = 'register'`, [tokenHash]);
    return { ok: false, why: !seen[0] ? 'unknown' : seen[0].used_at ? 'used' : 'expired' };
  }
  await db.query(
    `update otp_setting set address = $2, pending_address = case when pending_address = $2 then null else pending_address end, updated_at = now()
      where number = $1`,
    [r.number, r.address],
  );
  return { ok: true, number: r.number, address: r.address };
}

export type CodeOutcome = 'ok' | 'wrong' | 'exhausted' | 'expired' | 'none';

/**
 * Checks a login code for `number`'s attempt. The live code is looked up by number; the entered
 * code's hash (over the attempt secret) is compared in constant time. A wrong one counts; the
 * `max`-th wrong one kills the code.
 */
export async function checkCode(db: pg.Pool, number: string, enteredHash: string, now: Date, max: number): Promise<CodeOutcome> {
  const { rows } = await db.query(
    `select id, secret_hash, expires_at, failed_attempts from otp_token
      where number = $1 and kind = 'code' and used_at is null order by id desc limit 1`,
    [number],
  );
  const t = rows[0];
  if (!t || t.failed_attempts >= max) return 'none';
  if (t.expires_at <= now) return 'expired';
  if (sameHash(t.secret_hash, enteredHash)) {
    const used = await db.query(`update otp_token set used_at = $2 where id = $1 and used_at is null`, [t.id, now]);
    return used.rowCount === 1 ? 'ok' : 'none';
  }
  const { rows: counted } = await db.query(
    `update otp_token set failed_attempts = failed_attempts + 1,
            used_at = case when failed_attempts + 1 >= $2 then $3::timestamptz else null end
      where id = $1 and used_at is null returning failed_attempts`,
    [t.id, max, now],
  );
  const n = counted[0]?.failed_attempts;
  return n === undefined ? 'none' : n >= max ? 'exhausted' : 'wrong';
}

/** 利用あり again with the address already confirmed. */
export async function setUseOtp(db: Queryable, number: string, use: boolean): Promise<void> {
  await db.query('update otp_setting set use_otp = $2, updated_at = now() where number = $1', [number, use]);
}

export async function loadOtpSettings(db: Queryable, numbers: readonly string[]): Promise<Map<string, OtpSetting>> {
  const { rows } = await db.query(
    'select number, use_otp, address, pending_address, check_id_hash, check_password_hash from otp_setting where number = any($1::text[])',
    [numbers],
  );
  return new Map(rows.map((r) => [r.number, { number: r.number, useOtp: r.use_otp, address: r.address, pendingAddress: r.pending_address, checkIdHash: r.check_id_hash, checkPasswordHash: r.check_password_hash }]));
}

/** Wrong entries of the number's latest login code. */
export async function codeFailures(db: Queryable, number: string): Promise<number> {
  const { rows } = await db.query<{ failed_attempts: number }>(`select failed_attempts from otp_token where number = $1 and kind = 'code' order by id desc limit 1`, [number]);
  return rows[0]?.failed_attempts ?? 0;
}
