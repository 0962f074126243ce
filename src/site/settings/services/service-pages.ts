// A service's pages on the 設定サイト (着信お知らせメール now; ボイスワープ, 一括転送, 故障・回復通知,
// FAXお知らせメール next): what サービス選択 and サービスメニュー show for it, and its setting pages.
// 電話番号選択 (paged, searchable), サービスメニュー and the 認証単位 scope check of every number in a
// URL come with it (numbers.ts); the service writes only its own forms.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServiceName } from '../../../domain/subscriber.ts';
import type { SettingsContext } from '../context.ts';

export interface MenuEntry {
  label: string;
  /** Under the number's サービスメニュー: `${service.path}/${number}${path}`. */
  path: string;
  /** The guide's one-line description (002, 000 p.137). */
  description: string;
}

export interface ServicePages {
  /** The subscription that shows it (phone_number.services). */
  service: ServiceName;
  name: string;
  /** サービス選択's line for it. */
  description: string;
  /** Its pages: `${path}` is its 電話番号選択, `${path}/:number` the number's サービスメニュー. */
  path: string;
  menu: MenuEntry[];
  /** Shown on the サービスメニュー (e.g. 開始 / 停止). */
  status?(ctx: SettingsContext, number: string): Promise<string>;
  /** A link on 電話番号選択 when the login may set at least `from` numbers (一括設定). */
  bulk?: { label: string; href: string; from: number };
  /** The setting pages, under `${path}/:number`: the number is checked against the login's scope first. */
  register(app: FastifyInstance, ctx: ServiceContext): void | Promise<void>;
}

export interface ServiceContext extends SettingsContext {
  service: ServicePages;
  /** The number in the URL, already in the login's scope for this service. */
  numberOf(req: FastifyRequest): string;
  /** What every setting page shows: the number, its menu's path, where 戻る leads. */
  pageData(req: FastifyRequest): { number: string; base: string; back: string };
}
