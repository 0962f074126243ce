// FAXお知らせメール on the 設定サイト (002: サービス開始/停止, 送信先メールアドレス設定, 受信FAX内容確認):
// the forms every mail service has, on the FAX settings, and the number's received FAXes
// (fax-receptions.ts) at the path the FAX mail links to (faxReceptionsPath).
import type { FastifyInstance } from 'fastify';
import { FAX_RECEPTIONS_PAGE, FAX_SERVICE_PATH, faxReceptionsPath } from '../../../domain/fax.ts';
import { registerFaxReceptions } from '../../fax-receptions.ts';
import { FAX_SETTINGS } from '../../settings-form.ts';
import { registerForms, siteMailForms } from './forms.ts';
import type { ServiceContext, ServicePages } from './service-pages.ts';

export const faxMail: ServicePages = {
  service: 'fax_mail',
  name: 'FAXお知らせメール',
  description: 'FAXを受信したことを、指定したメールアドレスにお知らせします。受信したFAXはこのサイトで確認できます。',
  path: FAX_SERVICE_PATH,
  menu: [
    { label: 'サービス開始／停止', path: '/start', description: 'サービスの開始または停止の設定を行います。' },
    { label: '送信先メールアドレス設定', path: '/destinations', description: 'FAXお知らせメールを送信するメールアドレスを登録、確認します。' },
    { label: '受信FAX内容確認', path: FAX_RECEPTIONS_PAGE, description: '受信したFAXのダウンロード、および受信日時などを確認します。' },
  ],
  status: async (ctx, number) => ((await FAX_SETTINGS.read(ctx.deps.pool, number)).started ? '開始' : '停止'),
  register,
};

function register(app: FastifyInstance, ctx: ServiceContext) {
  registerForms(app, ctx, FAX_SETTINGS, siteMailForms(ctx, FAX_SETTINGS));
  registerFaxReceptions(app, ctx, {
    numberOf: ctx.numberOf,
    actorOf: (req) => req.login.account.number,
    listPath: (number) => faxReceptionsPath(number),
    backOf: (req) => ({ href: ctx.pageData(req).base, label: '戻る' }),
    render: (req, reply, view, data, status) => ctx.render(req, reply, view, { ...ctx.pageData(req), ...data }, status),
    callerLabel: '発信者',
  }, FAX_RECEPTIONS_PAGE);
}
