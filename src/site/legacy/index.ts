// The legacy site (サービス設定ホームページ, pattern B, 000 p.143–150) as one login realm under its
// own prefix (site.legacyPrefix, default /legacy): トップ lists the services, and each service has
// its own login, password and pages (account.ts around the service's forms). Small pages without
// JavaScript, for feature phones. A new service (FAXお知らせメール) is a LegacyServicePages in
// services/, added to LEGACY_SERVICES.
import type { FastifyInstance } from 'fastify';
import type { Realm, SiteContext } from '../foundation.ts';
import { registerLegacyService } from './account.ts';
import type { LegacyServiceContext, LegacyServicePages } from './service-pages.ts';
import { legacyChakushinMail } from './services/chakushin-mail.ts';
import { LEGACY_REALM } from './session.ts';

/** The services of the legacy site, in トップ's order. */
export const LEGACY_SERVICES: readonly LegacyServicePages[] = [legacyChakushinMail];

export function legacySite(prefix: string): Realm {
  return {
    name: LEGACY_REALM,
    prefix,
    // No logout button: メインメニュー has 終了, as the guide shows it.
    frame: { brand: 'サービス設定ホームページ', home: `${prefix}/` },
    async register(app: FastifyInstance, site: SiteContext) {
      app.get('/', async (req, reply) =>
        site.render(req, reply, 'legacy/top', { title: 'サービス設定ホームページ', services: LEGACY_SERVICES.map((s) => ({ name: s.name, href: `${prefix}${s.path}` })) }),
      );
      for (const service of LEGACY_SERVICES) {
        const base = `${prefix}${service.path}`;
        const ctx: LegacyServiceContext = {
          ...site,
          service,
          base,
          page: (req, reply, name, data, status = 200) => site.render(req, reply, `legacy/${name}`, { base, prefix, numberLabel: '電話番号', errors: {}, ...data }, status),
        };
        await app.register(async (scoped) => registerLegacyService(scoped, ctx), { prefix: service.path });
      }
    },
  };
}
