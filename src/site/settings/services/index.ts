// The services whose pages the 設定サイト offers, in サービス選択's order. A new service of a number is a
// ServicePages in its own file here, added to this list: サービス選択, 電話番号選択, サービスメニュー and
// the scope check come with it (common-pages.ts). A service of the whole contract (一括転送,
// 故障・回復通知) is a ContractServicePages: サービスメニュー and the contract scope come with it.
import { bulkForward } from './bulk-forward.ts';
import { chakushinMail } from './chakushin-mail.ts';
import { failureNotice } from './failure-notice.ts';
import { faxMail } from './fax-mail.ts';
import type { AnyServicePages } from './service-pages.ts';
import { voiceWarp } from './voice-warp.ts';

/**
 * The guide's order (002): ボイスワープ, 着信お知らせメール, 一括転送機能, 故障・回復通知機能, FAXお知らせメール.
 * 一括転送機能 and 故障・回復通知機能 are services of the whole contract (scope 'contract').
 */
export const SERVICE_PAGES: readonly AnyServicePages[] = [voiceWarp, chakushinMail, bulkForward, failureNotice, faxMail];
