// Whether a call is refused at the INVITE, and who gets a mail once it is over. Pure.
import type { Classification } from './classify.ts';
import type { CallerId } from '../domain/caller-id.ts';
import type { NotifyProfile } from './profile.ts';
import { MAX_DESTINATIONS } from '../domain/limits.ts';

export type Refusal = { by: 'number_request'; status: 433; reason: 'Anonymity Disallowed' } | { by: 'nuisance_block'; status: 603; reason: 'Decline' };

/**
 * ナンバー・リクエスト refuses only callers who withheld their number (非通知): payphones and
 * 表示圏外 calls cannot send a number and are put through, as the real service does.
 * 迷惑電話おことわり refuses listed numbers. The line never rings; neither sends a mail.
 */
export function refusal(profile: Pick<NotifyProfile, 'services' | 'callerBlocked'>, caller: CallerId): Refusal | undefined {
  if (profile.services.includes('number_request') && caller.absentReason === '非通知') {
    return { by: 'number_request', status: 433, reason: 'Anonymity Disallowed' };
  }
  if (profile.services.includes('nuisance_block') && profile.callerBlocked) {
    return { by: 'nuisance_block', status: 603, reason: 'Decline' };
  }
  return undefined;
}

export type MailDecision = { send: true; to: string[] } | { send: false; why: string };

export function mailDecision(
  profile: Pick<NotifyProfile, 'services' | 'started' | 'designatedOnly' | 'unansweredOnly' | 'destinations' | 'callerDesignated'>,
  caller: CallerId,
  call: Classification,
): MailDecision {
  if (!profile.services.includes('chakushin_mail')) return { send: false, why: 'not subscribed' };
  if (!profile.started) return { send: false, why: 'service stopped' };
  const to = [...new Set(profile.destinations.slice(0, MAX_DESTINATIONS).filter((d) => d.send).map((d) => d.address))];
  if (to.length === 0) return { send: false, why: 'no destination with send on' };
  if (call.forwardFailed) return { send: false, why: 'forward failed' };
  if (profile.designatedOnly && (caller.number === null || !profile.callerDesignated)) {
    return { send: false, why: 'caller not designated' };
  }
  // 応答できなかった着信のみ: 転送 counts as not answered by the subscriber.
  if (profile.unansweredOnly && call.status === '通話') return { send: false, why: 'answered' };
  return { send: true, to };
}
