// 着信お知らせメール on the 設定サイト (000 p.137–140): サービス開始／停止, 送信先メールアドレス設定
// (with 送信テスト), メール送信条件設定, お知らせ対象電話番号設定. 電話番号選択, サービスメニュー and the
// scope check come from common-pages.ts.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { mailAddressRefusal } from '../../../domain/mail-address.ts';
import { readNotifySettings, writeConditions, writeStarted, type NotifySettings } from '../../../store/notify-settings.ts';
import { ADDRESS_MESSAGES, MSG } from '../../messages.ts';
import {
  body, FormError, postedConditions, postedDesignated, postedDestinations, postSettingsForm, saveDesignatedRows, saveDestinationRows,
  savedDesignated, savedDestinations, sendTestMail, TEST_MAIL_ACTION, type Body,
} from '../../settings-form.ts';
import { BULK_PATH, BULK_FROM } from '../bulk/pages.ts';
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
  status: async (ctx, number) => ((await readNotifySettings(ctx.deps.pool, number)).started ? '開始' : '停止'),
  bulk: { label: '一括設定', href: `${BULK_PATH}/chakushin-mail`, from: BULK_FROM },
  register,
};

function register(app: FastifyInstance, ctx: ServiceContext) {
  const { deps } = ctx;

  /** One form: parse, validate, save in one transaction with the stale check, then redraw. */
  const form = (
    view: string,
    title: string,
    draw: (s: NotifySettings) => Record<string, unknown>,
    save: (client: pg.PoolClient, number: string, b: Body, current: NotifySettings) => Promise<string | void>,
    redraw: (b: Body) => Record<string, unknown>,
    /** A button that is not 設定 (送信テストn): handled instead of the save; returns the notice. */
    other?: (req: FastifyRequest, number: string, b: Body) => Promise<string | undefined>,
  ) => {
    app.get(`/${view}`, async (req, reply) => {
      const number = ctx.numberOf(req);
      const s = await readNotifySettings(deps.pool, number);
      return ctx.render(req, reply, view, { ...ctx.pageData(req), title, version: s.version, errors: {}, ...draw(s) });
    });
    app.post(`/${view}`, async (req, reply) => {
      const number = ctx.numberOf(req);
      const b = body(req);
      return postSettingsForm({
        pool: deps.pool, number, body: b, draw, redraw,
        other: other && (() => other(req, number, b)),
        save: (client, current) => save(client, number, b, current),
        audit: (client) => ctx.audit(req, { actor: req.login.account.number, action: `chakushin_mail.${view}`, subject: number, detail: summary(view, b) }, client),
        messages: { saved: MSG.saved, stale: MSG.stale },
        show: (data, status) => ctx.render(req, reply, view, { ...ctx.pageData(req), title, ...data }, status),
      });
    });
  };

  // サービス開始／停止: 開始 needs a destination (000 p.138).
  form(
    'start',
    'サービス開始／停止',
    (s) => ({ values: { started: s.started } }),
    async (client, number, b, current) => {
      const started = b.started === 'on';
      if (started && current.destinations.length === 0) throw new FormError({ started: MSG.startWithoutAddress });
      await writeStarted(client, number, started, deps.clock.now());
    },
    (b) => ({ values: { started: b.started === 'on' } }),
  );

  // 送信先メールアドレス設定: 5 rows, each with 送信 and 送信テスト.
  const addressError = (address: string) => {
    const refusal = mailAddressRefusal(address);
    return refusal && ADDRESS_MESSAGES[refusal];
  };
  form(
    'destinations',
    '送信先メールアドレス設定',
    (s) => ({ rows: savedDestinations(s) }),
    (client, number, b, current) =>
      saveDestinationRows(client, number, b, current, deps.clock.now(), {
        rows: '送信先メールアドレス', flagWithoutValue: MSG.sendWithoutAddress, addressError,
      }),
    (b) => ({ rows: postedDestinations(b) }),
    (req, number, b) => (b.test === undefined ? Promise.resolve(undefined) : sendTest(req, number, b)),
  );

  /** 送信テストn: the address typed in row n (saved or not), through the mail outbox; per-number hourly cap. */
  async function sendTest(req: FastifyRequest, number: string, b: Body): Promise<string> {
    const { n, address } = await sendTestMail({
      pool: deps.pool, config: deps.config, now: deps.clock.now(), number, body: b, addressError,
      audit: (client, detail) => ctx.audit(req, { actor: req.login.account.number, action: TEST_MAIL_ACTION, subject: number, detail }, client),
    });
    return MSG.testMailSent(n, address);
  }

  // メール送信条件設定
  form(
    'conditions',
    'メール送信条件設定',
    (s) => ({ values: { designatedOnly: s.designatedOnly, unansweredOnly: s.unansweredOnly } }),
    async (client, number, b) => {
      await writeConditions(client, number, postedConditions(b), deps.clock.now());
    },
    (b) => ({ values: postedConditions(b) }),
  );

  // お知らせ対象電話番号設定: 30 rows of 電話番号 and 指定.
  form(
    'designated',
    'お知らせ対象電話番号設定',
    (s) => ({ rows: savedDesignated(s) }),
    (client, number, b) =>
      saveDesignatedRows(client, number, b, deps.clock.now(), { rows: 'お知らせ対象電話番号', flagWithoutValue: MSG.designatedWithoutNumber }),
    (b) => ({ rows: postedDesignated(b) }),
  );
}

function summary(view: string, b: Body): Record<string, unknown> {
  if (view === 'start') return { started: b.started === 'on' };
  if (view === 'conditions') return { designatedOnly: b.designatedOnly === 'on', unansweredOnly: b.unansweredOnly === 'on' };
  return { rows: Object.keys(b).filter((k) => /^(address|number)\d+$/.test(k) && b[k]).length };
}
