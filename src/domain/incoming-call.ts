// What a 着信 record says, in the guides' own words: shared by the notify path that records
// the call and the mail that reports it.

/** 着信状態: answered, not answered, or forwarded by ボイスワープ. */
export type CallStatus = '通話' | '応答なし' | '転送';

/** 非通知理由: why the mail shows no caller number (withheld, payphone, unavailable). */
export const ABSENT_REASONS = ['非通知', '公衆', '表示圏外'] as const;
export type AbsentReason = (typeof ABSENT_REASONS)[number];
