// The pages every service gets on the 設定サイト: 電話番号選択 of the numbers the login may set that
// have the service (paged; 電話番号検索 from 33 numbers, 001 p.10), the number's サービスメニュー
// (the service's setting pages with the guide's descriptions), and the 認証単位 scope check of the
// number in every URL before the service's own pages run.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { pageOf } from '../../paging.ts';
import { MSG } from '../../messages.ts';
import type { SettingsContext } from '../context.ts';
import type { ServiceContext, ServicePages } from './service-pages.ts';

/** With this many numbers or more, 電話番号選択 offers 電話番号検索 (001 p.10). */
export const SEARCH_FROM = 33;
export const SERVICES_PATH = '/services';

/** The numbers of the login's scope that have the service, in the contract's order. */
export const numbersWith = (req: FastifyRequest, service: ServicePages) =>
  req.login.scope.filter((n) => n.services.includes(service.service)).map((n) => n.number);

/** A number outside the login's 認証単位 scope: refused the same way whether or not it exists. */
export async function scopeRefused(ctx: SettingsContext, req: FastifyRequest, reply: FastifyReply, asked: string | undefined) {
  await ctx.audit(req, { actor: req.login.account.number, action: 'scope.refused', subject: asked && /^\d{1,11}$/.test(asked) ? asked : null, detail: { url: req.url.split('?')[0] } });
  return ctx.errorPage(req, reply, 403, { title: '設定できません', message: 'この電話番号の設定は、ログインした電話番号からは変更できません。' });
}

/** Matches part of a number anywhere; '*' stands for any run of digits. Undefined for a bad query. */
export function numberSearch(q: string): RegExp | undefined {
  if (!/^[0-9*]{1,11}$/.test(q)) return undefined;
  return new RegExp(q.split('*').join('\\d*'));
}

export async function registerService(app: FastifyInstance, ctx: SettingsContext, service: ServicePages): Promise<void> {
  await app.register(
    async (scoped) => {
      // Login first (onRequest): nobody without a session makes the site read a body, let alone a file.
      scoped.addHook('onRequest', ctx.requireLogin);
      const base = service.path;

      scoped.get('/', async (req, reply) => {
        const all = numbersWith(req, service);
        if (all.length === 1) return reply.redirect(`${base}/${all[0]}`, 303);
        const query = req.query as Record<string, string | undefined>;
        const q = String(query.q ?? '').trim();
        const searchable = all.length >= SEARCH_FROM;
        const errors: Record<string, string> = {};
        let numbers = all;
        if (searchable && q) {
          const re = numberSearch(q);
          if (!re) errors.q = MSG.searchBad;
          else numbers = all.filter((n) => re.test(n));
        }
        const paged = pageOf(numbers, query.page);
        const bulk = service.bulk && all.length >= service.bulk.from ? service.bulk : undefined;
        return ctx.render(req, reply, 'numbers', { title: '電話番号選択', serviceName: service.name, numbers: paged.items, paged, searchable, q, errors, base, bulk });
      });

      await scoped.register(
        async (perNumber) => {
          perNumber.addHook('onRequest', async (req, reply) => {
            const asked = (req.params as { number: string }).number;
            if (!numbersWith(req, service).includes(asked)) return scopeRefused(ctx, req, reply, asked);
          });
          const sctx: ServiceContext = {
            ...ctx,
            service,
            numberOf: (req) => (req.params as { number: string }).number,
            pageData: (req) => {
              const number = (req.params as { number: string }).number;
              return { number, base: `${base}/${number}`, back: numbersWith(req, service).length > 1 ? base : SERVICES_PATH };
            },
          };
          perNumber.get('/', async (req, reply) => {
            const data = sctx.pageData(req);
            const status = service.status ? await service.status(ctx, data.number) : undefined;
            const entries = service.menu.map((m) => ({ ...m, href: `${data.base}${m.path}` }));
            return ctx.render(req, reply, 'menu', { ...data, title: `サービスメニュー（${service.name}）`, status, entries });
          });
          await service.register(perNumber, sctx);
        },
        { prefix: '/:number' },
      );
    },
    { prefix: service.path },
  );
}
