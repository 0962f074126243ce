// A service of the legacy site (サービス設定ホームページ): each has its own login and password, and
// the pages every service gets (ログイン, パスワード設定, メインメニュー, パスワード変更, 終了:
// account.ts) around its own setting pages.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LegacyRealm } from '../../store/legacy-accounts.ts';
import type { SiteContext } from '../foundation.ts';
import type { MenuEntry } from '../settings/services/service-pages.ts';

export interface LegacyServicePages {
  /** The service, and the realm of its password. */
  service: LegacyRealm;
  name: string;
  /** Its pages, under the site's prefix. */
  path: string;
  /** メインメニュー's setting pages, with the guide's descriptions (パスワード変更 and 終了 are added). */
  menu: MenuEntry[];
  /** Shown on メインメニュー (e.g. 開始 / 停止). */
  status?(ctx: SiteContext, number: string): Promise<string>;
  /** The setting pages, behind the service's login (req.legacyLogin is set). */
  register(app: FastifyInstance, ctx: LegacyServiceContext): void | Promise<void>;
}

export interface LegacyServiceContext extends SiteContext {
  service: LegacyServicePages;
  /** The service's path with the site's prefix (forms post there). */
  base: string;
  /** Renders views/legacy/<name>.eta with the service's base. */
  page(req: FastifyRequest, reply: FastifyReply, name: string, data: Record<string, unknown>, status?: number): FastifyReply;
}
