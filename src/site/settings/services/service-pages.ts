// A service's pages on the 設定サイト (着信お知らせメール now; ボイスワープ, 一括転送, 故障・回復通知,
// FAXお知らせメール next): what サービス選択 and サービスメニュー show for it, and its setting pages.
// 電話番号選択 (paged, searchable), サービスメニュー and the 認証単位 scope check of every number in a
// URL come with it (numbers.ts); the service writes only its own forms.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ContractService } from '../../../domain/failure-notice.ts';
import type { ServiceName } from '../../../domain/subscriber.ts';
import type { SettingsContext } from '../context.ts';
import type { SiteLogin } from '../session.ts';

export interface MenuEntry {
  label: string;
  /** Under the number's サービスメニュー: `${service.path}/${number}${path}`. */
  path: string;
  /** The guide's one-line description (002, 000 p.137). */
  description: string;
}

export interface ServicePages {
  scope?: 'number';
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

/**
 * A service of the whole contract (一括転送機能, 故障・回復通知機能): no 電話番号選択 — サービス選択
 * leads straight to its サービスメニュー at `${path}`, and its pages are under it. Only a login that
 * manages the whole contract (回線単位, or the 管理者 under 管理者／ユーザ単位) sees it or may open
 * any of its pages (SiteLogin.contractScope); every other login is refused as out of scope.
 */
export interface ContractServicePages {
  scope: 'contract';
  /** The subscription that shows it (contract.services). */
  service: ContractService;
  name: string;
  description: string;
  path: string;
  /** Entries shown only when `shown` says so (e.g. what needs 一括転送 too). */
  menu: (MenuEntry & { shown?(login: SiteLogin): boolean })[];
  status?(ctx: SettingsContext, contractId: string): Promise<string>;
  register(app: FastifyInstance, ctx: ContractServiceContext): void | Promise<void>;
}

export interface ContractServiceContext extends SettingsContext {
  service: ContractServicePages;
  /** The login's contract (in scope: checked before the service's pages run). */
  contractIdOf(req: FastifyRequest): string;
  /** What every setting page shows: the contract's 契約者回線番号, its menu's path, where 戻る leads. */
  pageData(req: FastifyRequest): { number: string; numberLabel: string; base: string; back: string };
}

export type AnyServicePages = ServicePages | ContractServicePages;

export const isContractService = (s: AnyServicePages): s is ContractServicePages => s.scope === 'contract';

/** Whether サービス選択 lists the service for this login. */
export function offeredTo(s: AnyServicePages, login: SiteLogin): boolean {
  return isContractService(s) ? login.contractScope.includes(s.service) : login.scope.some((n) => n.services.includes(s.service));
}
