// ログイン of the サービス申込受付ページ: フレッツナンバー (the お客さまID) and アクセスキー.
// A wrong pair gets one answer whatever was wrong, at the same cost (the key is checked against a
// dummy hash when there is no line). Wrong keys are limited per client address over a window
// shared by every instance, and per お客さまID by the sites' login throttle (login-attempt.ts): one
// source may try an ID only a few times and every source waits longer after each failure, but the
// right key from another source is never refused for what a stranger did. An ID is never locked:
// IDs are printed on paper, and a lock would let anyone lock a line's owner out.
import type { Clock } from '../../domain/clock.ts';
import { CUSTOMER_ID, normalizeCustomerId } from '../../domain/line-info.ts';
import { writeAudit } from '../../store/audit.ts';
import { failuresSince, loadLine, recordLoginFailure } from '../../store/line-info.ts';
import { attemptLogin, type LoginDeps } from '../login-attempt.ts';

export type LineLoginResult =
  | { ok: true; customerId: string }
  | { ok: false; why: 'wrong' | 'limited'; customerId: string }
  | { ok: false; why: 'throttled'; retryAfterSec?: number; customerId: string };

export async function logInLine(deps: LoginDeps & { clock: Clock }, idInput: string, accessKey: string, source: string): Promise<LineLoginResult> {
  const { pool, clock } = deps;
  const perAddress = deps.config.lineInfo.loginRateLimit.perAddress;
  const now = clock.now();
  const typed = normalizeCustomerId(idInput);
  const customerId = CUSTOMER_ID.test(typed) ? typed : null;
  const windowStart = new Date(now.getTime() - perAddress.windowSec * 1000);
  const audit = (action: string, detail: Record<string, unknown> = {}) =>
    writeAudit(pool, { actor: customerId ?? 'anonymous', action, subject: customerId, detail, source, at: now });

  if ((await failuresSince(pool, { source }, windowStart)) >= perAddress.max) {
    await audit('line_info.login.limited');
    return { ok: false, why: 'limited', customerId: typed };
  }
  const line = customerId ? await loadLine(pool, customerId) : undefined;
  const outcome = await attemptLogin(deps, source, {
    subject: customerId,
    secrets: line ? [{ hash: line.accessKeyHash, countWrong: async () => undefined }] : [],
    entered: accessKey,
    checks: 1,
  });
  if (outcome.ok) {
    await audit('line_info.login');
    return { ok: true, customerId: line!.customerId };
  }
  if (outcome.why === 'throttled') {
    await audit('line_info.login.throttled', { retryAfterSec: outcome.retryAfterSec ?? null });
    return { ok: false, why: 'throttled', retryAfterSec: outcome.retryAfterSec, customerId: typed };
  }
  await recordLoginFailure(pool, { customerId, source, at: now, forgetBefore: windowStart });
  await audit('line_info.login.failed');
  return { ok: false, why: 'wrong', customerId: typed };
}
