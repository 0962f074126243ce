// 仮パスワード: 8 digits set from the IVR, valid 24 h, one live per (login number, realm).
// Setting one replaces any earlier temp password; the subscriber's own password stays valid
// until the temp password is used to log in.
import type pg from 'pg';
import { tempState, type TempState } from '../domain/credential.ts';
import type { AuthUnit, MailService } from '../domain/subscriber.ts';
import { hashPassword } from './password-hash.ts';
import { withTransaction } from './transaction.ts';

/** 'site' = pattern A settings site; a mail service = pattern B per-service password. */
export type Realm = 'site' | MailService;

export interface SetTempPassword {
  loginNumber: string;
  realm: Realm;
  authUnit?: AuthUnit;
  password: string;
  ttlHours: number;
}

/** The temp password and its audit row in one transaction: a caller is never told it failed while a live one was stored. */
export async function setTempPassword(pool: pg.Pool, t: SetTempPassword): Promise<{ expiresAt: Date }> {
  const hash = await hashPassword(t.password);
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ expires_at: Date }>(
      `insert into temp_password (login_number, realm, auth_unit, hash, created_at, expires_at)
       values ($1, $2, $3, $4, now(), now() + make_interval(secs => $5))
       on conflict (login_number, realm) do update set auth_unit = excluded.auth_unit, hash = excluded.hash,
         created_at = excluded.created_at, expires_at = excluded.expires_at, failed_attempts = 0, used_at = null
       returning expires_at`,
      [t.loginNumber, t.realm, t.authUnit ?? null, hash, t.ttlHours * 3600],
    );
    await client.query('insert into audit_log (actor, action, subject, detail) values ($1, $2, $3, $4)', [
      'ivr',
      'temp_password.set',
      t.loginNumber,
      JSON.stringify({ realm: t.realm, authUnit: t.authUnit ?? null }),
    ]);
    return { expiresAt: rows[0]!.expires_at };
  });
}

export interface TempPasswordStatus {
  realm: Realm;
  authUnit: AuthUnit | null;
  createdAt: Date;
  expiresAt: Date;
  /** Usable now: not expired, not used, not locked by its wrong entries (src/domain/credential.ts). */
  valid: boolean;
  state: TempState;
}

/** The temp passwords a number has (never the password or its hash). */
export async function tempPasswordStatus(pool: pg.Pool, loginNumber: string, maxFailures: number): Promise<TempPasswordStatus[]> {
  const { rows } = await pool.query(
    `select realm, auth_unit, created_at, expires_at, used_at, failed_attempts, now() as now
     from temp_password where login_number = $1 order by realm`,
    [loginNumber],
  );
  return rows.map((r) => {
    const state = tempState({ expiresAt: r.expires_at, failedAttempts: r.failed_attempts, usedAt: r.used_at }, r.now, maxFailures);
    return { realm: r.realm, authUnit: r.auth_unit, createdAt: r.created_at, expiresAt: r.expires_at, valid: state === 'valid', state };
  });
}
