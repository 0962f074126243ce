// The sites on the site listener: one login realm each, under its own prefix, on the shared
// foundation (foundation.ts). A realm's services are listed in the realm (settings/services/index.ts,
// legacy/index.ts).
import { startSite, type Realm, type SiteDeps, type SiteServer } from './foundation.ts';
import { handover } from './handover/index.ts';
import { legacySite } from './legacy/index.ts';
import { lineInfo } from './line-info/index.ts';
import { settingsSite } from './settings/index.ts';

export function siteRealms(config: SiteDeps['config']): Realm[] {
  return [
    settingsSite(), // ひかり電話設定サイト (pattern A) at /
    legacySite(config.site.legacyPrefix), // サービス設定ホームページ (pattern B)
    handover(), // 旧設定サイトからパスワード引継ぎ (設備変更工事)
    lineInfo(config.lineInfo.path), // 回線情報通知機能 サービス申込受付ページ and its lookup API
  ];
}

export function startSettingsSite(deps: SiteDeps): Promise<SiteServer> {
  return startSite(deps, siteRealms(deps.config));
}
