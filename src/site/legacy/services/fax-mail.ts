// FAXお知らせメール on the legacy site (サービス設定ホームページ, its own login with the FAX realm's
// password): 開始／停止設定, 送信先メールアドレス登録／確認 in pattern B's words and address rule, and
// 受信FAX内容確認 (fax-receptions.ts) at the path the pattern B FAX mail links to — under the
// login's own number, any other number refused (403).
import type { FastifyInstance } from 'fastify';
import { FAX_RECEPTIONS_PAGE, FAX_SERVICE_PATH, faxReceptionsPath } from '../../../domain/fax.ts';
import { registerFaxReceptions } from '../../fax-receptions.ts';
import { FAX_SETTINGS } from '../../settings-form.ts';
import type { LegacyServiceContext, LegacyServicePages } from '../service-pages.ts';
import { legacyMailForms, registerLegacyForms } from './forms.ts';

export const legacyFaxMail: LegacyServicePages = {
  service: 'fax_mail',
  name: 'FAXお知らせメール',
  path: FAX_SERVICE_PATH,
  menu: [
    { label: '開始／停止設定', path: '/start', description: 'サービスの開始または停止の設定を行います。' },
    { label: '送信先メールアドレス登録／確認', path: '/destinations', description: 'FAXお知らせメールを送信するメールアドレスを登録、確認します。' },
    { label: '受信FAX内容確認', path: (number) => `/${number}${FAX_RECEPTIONS_PAGE}`, description: '受信したFAXのダウンロード、および受信日時などを確認します。' },
  ],
  status: async (ctx, number) => ((await FAX_SETTINGS.read(ctx.deps.pool, number)).started ? '開始' : '停止'),
  register,
};

async function register(app: FastifyInstance, ctx: LegacyServiceContext) {
  registerLegacyForms(app, ctx, FAX_SETTINGS, legacyMailForms(ctx, FAX_SETTINGS));
  await app.register(
    async (own) => {
      // A legacy login is one number's: any other number in the URL is refused, the same way whether or not it exists.
      own.addHook('preHandler', async (req, reply) => {
        const asked = (req.params as { number: string }).number;
        const number = req.legacyLogin.account.number;
        if (asked === number) return;
        await ctx.audit(req, { action: 'scope.refused', subject: /^\d{1,11}$/.test(asked) ? asked : null, detail: { url: req.url.split('?')[0], site: 'legacy' } });
        return ctx.errorPage(req, reply, 403, { title: '確認できません', message: 'この電話番号の受信FAXは、ログインした電話番号からは確認できません。' });
      });
      registerFaxReceptions(own, ctx, {
        numberOf: (req) => req.legacyLogin.account.number,
        actorOf: (req) => req.legacyLogin.account.number,
        listPath: (number) => faxReceptionsPath(number, ctx.prefix),
        backOf: () => ({ href: `${ctx.base}/menu`, label: 'メインメニューへ' }),
        render: (req, reply, view, data, status) =>
          ctx.render(req, reply, view, { base: ctx.base, numberLabel: '電話番号', number: req.legacyLogin.account.number, errors: {}, ...data }, status),
        callerLabel: '発信者通知番号',
      }, FAX_RECEPTIONS_PAGE);
    },
    { prefix: '/:number' },
  );
}
