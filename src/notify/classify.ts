// 着信状態 and 呼出時間 from what happened on the call. Pure.

import type { CallStatus } from '../domain/incoming-call.ts';

export interface CallTimeline {
  inviteAt: Date;
  /** First 18x from the line; ringing is counted from the INVITE when there was none. */
  ringAt?: Date;
  answerAt?: Date;
  /** This service forwarded the call (ボイスワープ): the subscriber's line stopped ringing then. */
  forwardAt?: Date;
  /** BYE for an answered call; the final response or CANCEL otherwise. */
  endAt: Date;
  /** Final response the caller got (487 after a CANCEL); null when unknown (a call recovered after a crash while ringing). */
  finalStatus: number | null;
  /** Forwarded: by this service (ボイスワープ), or the line said 181 Call Is Being Forwarded. */
  forwarded: boolean;
  /** Why the service ended the call itself: max_ring_time, service_stopping, internal_error, service_crashed. */
  endReason?: string;
}

export interface Classification {
  status: CallStatus;
  ringSeconds: number;
  /** ボイスワープ tried to forward and the forward failed (destination busy…): no mail. */
  forwardFailed: boolean;
}

const REDIRECT = new Set([301, 302]);
const CANCELLED = 487;
/** The service ended a forwarded call that was still ringing at the 転送先: it was forwarded. */
const GAVE_UP_WHILE_FORWARDED = new Set(['max_ring_time', 'service_stopping']);

/**
 * Whole seconds from ringing start to answer, cancel, failure or forward, rounded to the nearest
 * second (half up): a line answered after 9.6 s of ringing shows 10秒 as the caller felt it. A call
 * this service forwarded counts the subscriber's ringing only (0 for 無条件転送).
 */
export function ringSeconds(t: Pick<CallTimeline, 'inviteAt' | 'ringAt' | 'answerAt' | 'forwardAt' | 'endAt'>): number {
  const from = (t.ringAt ?? t.inviteAt).getTime();
  const to = (t.forwardAt ?? t.answerAt ?? t.endAt).getTime();
  return Math.max(0, Math.round((to - from) / 1000));
}

export function classifyCall(t: CallTimeline): Classification {
  const seconds = ringSeconds(t);
  const answered = t.finalStatus !== null && t.finalStatus >= 200 && t.finalStatus < 300;
  if (t.finalStatus !== null && REDIRECT.has(t.finalStatus)) return { status: '転送', ringSeconds: seconds, forwardFailed: false };
  if (t.forwarded) {
    // Forwarded and then answered elsewhere, or the caller (or the ring cap) gave up while the forward destination rang.
    if (answered || t.finalStatus === CANCELLED || GAVE_UP_WHILE_FORWARDED.has(t.endReason ?? '')) return { status: '転送', ringSeconds: seconds, forwardFailed: false };
    return { status: '応答なし', ringSeconds: seconds, forwardFailed: true };
  }
  return { status: answered ? '通話' : '応答なし', ringSeconds: seconds, forwardFailed: false };
}

/** Rejections after which the caller's network may retry the same call at standard quality (高音質電話). */
export function isCodecRejection(status: number | null): boolean {
  return status === 488 || status === 415;
}
