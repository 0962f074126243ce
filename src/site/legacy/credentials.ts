// A legacy password (or the temp password the pattern B IVR set) as secrets login-attempt.ts can
// check: each counts its own wrong entries, and 10 wrong in a row make the password invalid (the
// owner is mailed for 着信お知らせメール, whose destinations are known). The legacy login and the
// 設備変更工事 hand-over both use them.
import type pg from 'pg';
import type { Config } from '../../config.ts';
import type { Clock } from '../../domain/clock.ts';
import { passwordUsable, tempUsable } from '../../domain/credential.ts';
import { writeAudit } from '../../store/audit.ts';
import { countLegacyPasswordFailure, countLegacyTempFailure, type LegacyAccount, type LegacyCredential } from '../../store/legacy-accounts.ts';
import { endSessionsOf } from '../../store/sessions.ts';
import type { LoginSecret } from '../login-attempt.ts';
import { mailPasswordLocked } from '../notices.ts';

export interface CredentialDeps {
  pool: pg.Pool;
  config: Config;
  clock: Clock;
}

export interface LegacySecret extends LoginSecret {
  kind: 'temp' | 'password';
  credential: LegacyCredential;
}

type Owner = Pick<LegacyAccount, 'region' | 'pattern'>;

/** The secrets of a credential that may still be used, temp password first. */
export function legacySecrets(deps: CredentialDeps, account: Owner, c: LegacyCredential, source: string): LegacySecret[] {
  const { pool, config, clock } = deps;
  const now = clock.now();
  const secrets: LegacySecret[] = [];
  if (c.temp && tempUsable(c.temp, now, config.site.tempPasswordMaxFailures)) {
    secrets.push({
      kind: 'temp',
      credential: c,
      hash: c.temp.hash,
      async countWrong() {
        const t = await countLegacyTempFailure(pool, c.number, c.realm, config.site.tempPasswordMaxFailures);
        if (t?.exhausted) await writeAudit(pool, { actor: c.number, action: 'lock.legacy_temp_password', subject: c.number, detail: { realm: c.realm, failures: t.failed }, source, at: now });
      },
    });
  }
  if (c.password && passwordUsable(c.password)) {
    secrets.push({
      kind: 'password',
      credential: c,
      hash: c.password.hash,
      async countWrong() {
        const p = await countLegacyPasswordFailure(pool, c.number, c.realm, config.site.passwordMaxFailures, now);
        if (p?.lockedNow) await legacyPasswordLocked(deps, account, c, p.failed, source);
      },
    });
  }
  return secrets;
}

/** Whether a credential can still be proven (a usable temp password or password). */
export const provable = (deps: CredentialDeps, c: LegacyCredential) =>
  tempUsable(c.temp, deps.clock.now(), deps.config.site.tempPasswordMaxFailures) || passwordUsable(c.password);

/** When these credentials were last set: a failure streak from before then is over. */
export function credentialsSince(creds: readonly LegacyCredential[]): Date | undefined {
  const times = creds.flatMap((c) => [c.temp?.createdAt, c.password?.setAt]).filter((t): t is Date => t instanceof Date);
  return times.length ? new Date(Math.max(...times.map((t) => t.getTime()))) : undefined;
}

/** 10 wrong in a row: the password is invalid. Sessions end; the subscriber is told by mail (pattern B wording). */
async function legacyPasswordLocked(deps: CredentialDeps, account: Owner, c: LegacyCredential, failures: number, source: string) {
  const now = deps.clock.now();
  await endSessionsOf(deps.pool, c.number);
  const noticeTo = c.realm === 'chakushin_mail' ? await mailPasswordLocked(deps.pool, deps.config, { number: c.number, ...account }, now) : 0;
  await writeAudit(deps.pool, { actor: c.number, action: 'lock.legacy_password', subject: c.number, detail: { realm: c.realm, failures, noticeTo }, source, at: now });
}
