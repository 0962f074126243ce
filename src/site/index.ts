// The settings site for pattern A contracts (ひかり電話設定サイト): the foundation plus its pages.
// Other page sets (the legacy site, 回線情報通知機能) mount beside these with their own prefix.
import { startSite, type PageSet, type SiteDeps, type SiteServer } from './foundation.ts';
import { authUnitPages } from './auth-unit/pages.ts';
import { otpPages } from './otp/pages.ts';
import { bulkPages } from './bulk/pages.ts';
import { handoverPages } from './handover/pages.ts';
import { legacyPages } from './legacy/pages.ts';
import { accountPages } from './pages/account.ts';
import { chakushinMailPages } from './pages/chakushin-mail.ts';

export const patternAPages = (): PageSet[] => [accountPages(), chakushinMailPages(), authUnitPages(), otpPages(), bulkPages()];

export function startSettingsSite(deps: SiteDeps, extra: PageSet[] = []): Promise<SiteServer> {
  // The legacy site (pattern B) shares the listener under its own prefix.
  return startSite(deps, [...patternAPages(), legacyPages(deps.config.site.legacyPrefix), handoverPages(), ...extra]);
}
