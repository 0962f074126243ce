// The services whose pages the 設定サイト offers, in サービス選択's order. A new service (ボイスワープ,
// FAXお知らせメール) is a ServicePages in its own file here, added to this list: サービス選択, 電話番号選択,
// サービスメニュー and the scope check come with it (common-pages.ts). A service of the whole contract
// (一括転送, 故障・回復通知) is a ContractServicePages: サービスメニュー and the contract scope come with it.
import { bulkForward } from './bulk-forward.ts';
import { chakushinMail } from './chakushin-mail.ts';
import { failureNotice } from './failure-notice.ts';
import type { AnyServicePages } from './service-pages.ts';

/** The services of single numbers, then those of the whole contract (contract-service pages, scope 'contract'). */
export const SERVICE_PAGES: readonly AnyServicePages[] = [chakushinMail, bulkForward, failureNotice];
