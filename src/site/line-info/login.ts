// ログイン of the サービス申込受付ページ: フレッツナンバー (the お客さまID) and アクセスキー.
// A wrong pair gets one answer whatever was wrong, at the same cost (the key is checked against a
// dummy hash when there is no line). Failures are limited per client address and per ID over a
// window shared by every instance; an ID is never locked for good, since IDs are not secret and
// anyone could otherwise lock a line's owner out.
import type pg from 'pg';
import type { LineInfoConfig } from '../../config-line-info.ts';
import type { Clock } from '../../domain/clock.ts';
import { CUSTOMER_ID, normalizeCustomerId } from '../../domain/line-info.ts';
import { writeAudit } from '../../store/audit.ts';
import { failuresSince, loadLine, lockLoginId, recordLoginFailure } from '../../store/line-info.ts';
import { hashPassword, verifyPassword } from '../../store/password-hash.ts';

export type LineLoginResult = { ok: true; customerId: string } | { ok: false; why: 'wrong' | 'limited'; customerId: string };

let dummyHash: Promise<string> | undefined;
const dummy = () => (dummyHash ??= hashPassword('chakushin-no-such-access-key'));

export async function logInLine(
  deps: { pool: pg.Pool; clock: Clock; config: { lineInfo: LineInfoConfig } },
  idInput: string,
  accessKey: string,
  source: string,
): Promise<LineLoginResult> {
  const { pool, clock } = deps;
  const limits = deps.config.lineInfo.loginRateLimit;
  const now = clock.now();
  const typed = normalizeCustomerId(idInput);
  const customerId = CUSTOMER_ID.test(typed) ? typed : null;
  const since = (windowSec: number) => new Date(now.getTime() - windowSec * 1000);
  const audit = (db: pg.PoolClient, action: string, detail: Record<string, unknown> = {}) =>
    writeAudit(db, { actor: customerId ?? 'anonymous', action, subject: customerId, detail, source, at: now });

  const client = await pool.connect();
  try {
    await client.query('begin');
    // Concurrent attempts on one ID queue here, so each sees the failures before it.
    if (customerId) await lockLoginId(client, customerId);
    const limited =
      (await failuresSince(client, { source }, since(limits.perAddress.windowSec))) >= limits.perAddress.max ||
      (customerId !== null && (await failuresSince(client, { customerId }, since(limits.perId.windowSec))) >= limits.perId.max);
    if (limited) {
      await audit(client, 'line_info.login.limited');
      await client.query('commit');
      return { ok: false, why: 'limited', customerId: typed };
    }
    const line = customerId ? await loadLine(client, customerId) : undefined;
    const keyOk = await verifyPassword(accessKey, line?.accessKeyHash ?? (await dummy()));
    if (line && keyOk) {
      await audit(client, 'line_info.login');
      await client.query('commit');
      return { ok: true, customerId: line.customerId };
    }
    const forgetBefore = since(Math.max(limits.perAddress.windowSec, limits.perId.windowSec));
    await recordLoginFailure(client, { customerId, source, at: now, forgetBefore });
    await audit(client, 'line_info.login.failed');
    await client.query('commit');
    return { ok: false, why: 'wrong', customerId: typed };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
