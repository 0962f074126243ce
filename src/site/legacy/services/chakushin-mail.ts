// 着信お知らせメール on the legacy site (000 p.143–150): 開始／停止設定, 送信先メールアドレス登録／確認,
// メール送信条件設定, 発信電話番号指定通知設定 — the same per-number rows the new site and the notify
// path read, with pattern B's words and address rule.
import type { FastifyInstance } from 'fastify';
import { writeConditions, type NotifySettings } from '../../../store/notify-settings.ts';
import {
  filledRows, NOTIFY_SETTINGS, postedConditions, postedDesignated, saveDesignatedRows, savedDesignated, type FormSpec,
} from '../../settings-form.ts';
import { LEGACY_MSG } from '../messages.ts';
import type { LegacyServiceContext, LegacyServicePages } from '../service-pages.ts';
import { legacyMailForms, registerLegacyForms } from './forms.ts';

export const legacyChakushinMail: LegacyServicePages = {
  service: 'chakushin_mail',
  name: '着信お知らせメール',
  path: '/chakushin-mail',
  menu: [
    { label: '開始／停止設定', path: '/start', description: 'サービスの開始または停止の設定を行います。' },
    { label: '送信先メールアドレス登録／確認', path: '/destinations', description: '着信お知らせメールを送信するメールアドレスを登録、確認します。' },
    { label: 'メール送信条件設定', path: '/conditions', description: '着信お知らせメールの送信条件を設定します。' },
    { label: '発信電話番号指定通知設定', path: '/designated', description: '着信お知らせメールの送信対象とする発信元電話番号を設定します。' },
  ],
  status: async (ctx, number) => ((await NOTIFY_SETTINGS.read(ctx.deps.pool, number)).started ? '開始' : '停止'),
  register,
};

function register(app: FastifyInstance, ctx: LegacyServiceContext) {
  const now = () => ctx.deps.clock.now();
  const forms: FormSpec<NotifySettings>[] = [
    ...legacyMailForms(ctx, NOTIFY_SETTINGS),
    {
      // Off by default.
      view: 'conditions',
      title: 'メール送信条件設定',
      draw: (s) => ({ designatedOnly: s.designatedOnly, unansweredOnly: s.unansweredOnly }),
      redraw: postedConditions,
      save: (client, number, b) => writeConditions(client, number, postedConditions(b), now()),
      summary: postedConditions,
    },
    {
      // 30 rows of 発信電話番号 and 指定する.
      view: 'designated',
      title: '発信電話番号指定通知設定',
      draw: (s) => ({ rows: savedDesignated(s) }),
      redraw: (b) => ({ rows: postedDesignated(b) }),
      save: (client, number, b) => saveDesignatedRows(client, number, b, now(), { rows: '発信電話番号', flagWithoutValue: LEGACY_MSG.designatedWithoutNumber }),
      summary: (b) => ({ rows: filledRows(b, 'number') }),
    },
  ];
  registerLegacyForms(app, ctx, NOTIFY_SETTINGS, forms);
}
