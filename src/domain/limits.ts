// Per-number limits of 着信お知らせメール printed in the guides (000 p.139–140).
/** 送信先メールアドレス: 送信先は5ヵ所まで. */
export const MAX_DESTINATIONS = 5;
/** お知らせ対象電話番号: 30件まで. */
export const MAX_DESIGNATED = 30;
