// The services whose pages the 設定サイト offers, in サービス選択's order. A new service (ボイスワープ,
// 一括転送, 故障・回復通知, FAXお知らせメール) is a ServicePages in its own file here, added to this list:
// サービス選択, 電話番号選択, サービスメニュー and the scope check come with it (common-pages.ts).
import { chakushinMail } from './chakushin-mail.ts';
import type { ServicePages } from './service-pages.ts';
import { voiceWarp } from './voice-warp.ts';

/** The guide's order (002): ボイスワープ, 着信お知らせメール, 一括転送機能, 故障・回復通知機能, FAXお知らせメール. */
export const SERVICE_PAGES: readonly ServicePages[] = [voiceWarp, chakushinMail];
