// 着信お知らせメール on the 設定サイト (000 p.137–140): サービス開始／停止, 送信先メールアドレス設定
// (with 送信テスト), メール送信条件設定, お知らせ対象電話番号設定. 電話番号選択, サービスメニュー and the
// scope check come from common-pages.ts; the forms every mail service has from settings-form.ts.
import type { FastifyInstance } from 'fastify';
import { writeConditions, type NotifySettings } from '../../../store/notify-settings.ts';
import { MSG } from '../../messages.ts';
import {
  filledRows, NOTIFY_SETTINGS, postedConditions, postedDesignated, saveDesignatedRows, savedDesignated, type FormSpec,
} from '../../settings-form.ts';
import { BULK_PATH, BULK_FROM } from '../bulk/pages.ts';
import { registerForms, siteMailForms } from './forms.ts';
import type { ServiceContext, ServicePages } from './service-pages.ts';

export const chakushinMail: ServicePages = {
  service: 'chakushin_mail',
  name: '着信お知らせメール',
  description: '着信があったことを、指定したメールアドレスにお知らせします。',
  path: '/chakushin-mail',
  menu: [
    { label: 'サービス開始／停止', path: '/start', description: 'サービスの開始または停止の設定を行います。' },
    { label: '送信先メールアドレス設定', path: '/destinations', description: '着信お知らせメールを送信するメールアドレスを設定します。' },
    { label: 'メール送信条件設定', path: '/conditions', description: '着信お知らせメールの送信条件を設定します。' },
    { label: 'お知らせ対象電話番号設定', path: '/designated', description: '着信お知らせメールの送信対象とする発信元電話番号を設定します。' },
  ],
  status: async (ctx, number) => ((await NOTIFY_SETTINGS.read(ctx.deps.pool, number)).started ? '開始' : '停止'),
  bulk: { label: '一括設定', href: `${BULK_PATH}/chakushin-mail`, from: BULK_FROM },
  register,
};

function register(app: FastifyInstance, ctx: ServiceContext) {
  const now = () => ctx.deps.clock.now();
  const forms: FormSpec<NotifySettings>[] = [
    ...siteMailForms(ctx, NOTIFY_SETTINGS),
    {
      view: 'conditions',
      title: 'メール送信条件設定',
      draw: (s) => ({ values: { designatedOnly: s.designatedOnly, unansweredOnly: s.unansweredOnly } }),
      redraw: (b) => ({ values: postedConditions(b) }),
      save: (client, number, b) => writeConditions(client, number, postedConditions(b), now()),
      summary: postedConditions,
    },
    {
      // 30 rows of 電話番号 and 指定.
      view: 'designated',
      title: 'お知らせ対象電話番号設定',
      draw: (s) => ({ rows: savedDesignated(s) }),
      redraw: (b) => ({ rows: postedDesignated(b) }),
      save: (client, number, b) => saveDesignatedRows(client, number, b, now(), { rows: 'お知らせ対象電話番号', flagWithoutValue: MSG.designatedWithoutNumber }),
      summary: (b) => ({ rows: filledRows(b, 'number') }),
    },
  ];
  registerForms(app, ctx, NOTIFY_SETTINGS, forms);
}
