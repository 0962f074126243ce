// 着信お知らせメール on the legacy site (000 p.143–150): 開始／停止設定, 送信先メールアドレス登録／確認,
// メール送信条件設定, 発信電話番号指定通知設定 — the same per-number rows the new site and the notify
// path read, with pattern B's words and address rule.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { mailAddressRefusal } from '../../../domain/mail-address.ts';
import { readNotifySettings, writeConditions, writeStarted, type NotifySettings } from '../../../store/notify-settings.ts';
import { MSG } from '../../messages.ts';
import {
  body, FormError, postedConditions, postedDesignated, postedDestinations, postSettingsForm, saveDesignatedRows, saveDestinationRows,
  savedDesignated, savedDestinations, sendTestMail, TEST_MAIL_ACTION, type Body,
} from '../../settings-form.ts';
import { LEGACY_ADDRESS_MESSAGES, LEGACY_MSG } from '../messages.ts';
import type { LegacyServiceContext, LegacyServicePages } from '../service-pages.ts';

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
  status: async (ctx, number) => ((await readNotifySettings(ctx.deps.pool, number)).started ? '開始' : '停止'),
  register,
};

function register(app: FastifyInstance, ctx: LegacyServiceContext) {
  const { deps, page } = ctx;

  /** One settings form of the login's own number: parse, validate, save in one transaction with the stale check. */
  const form = (
    name: string,
    title: string,
    draw: (s: NotifySettings) => Record<string, unknown>,
    save: (client: pg.PoolClient, number: string, b: Body, current: NotifySettings) => Promise<void>,
    redraw: (b: Body) => Record<string, unknown>,
    other?: (req: FastifyRequest, number: string, b: Body) => Promise<string | undefined>,
  ) => {
    app.get(`/${name}`, async (req, reply) => {
      const number = req.legacyLogin.account.number;
      const s = await readNotifySettings(deps.pool, number);
      return page(req, reply, name, { title, number, version: s.version, ...draw(s) });
    });
    app.post(`/${name}`, async (req, reply) => {
      const number = req.legacyLogin.account.number;
      const b = body(req);
      return postSettingsForm({
        pool: deps.pool, number, body: b, draw, redraw,
        other: other && (() => other(req, number, b)),
        save: (client, current) => save(client, number, b, current),
        audit: (client) => ctx.audit(req, { action: `legacy.chakushin_mail.${name}`, subject: number }, client),
        messages: { saved: LEGACY_MSG.saved, stale: MSG.stale },
        show: (data, status) => page(req, reply, name, { title, number, ...data }, status),
      });
    });
  };

  // 開始／停止設定: 開始 needs a registered destination (000 p.145).
  form(
    'start',
    '開始／停止設定',
    (s) => ({ started: s.started }),
    async (client, number, b, current) => {
      const started = b.started === 'on';
      if (started && current.destinations.length === 0) throw new FormError({ started: LEGACY_MSG.startWithoutAddress });
      await writeStarted(client, number, started, deps.clock.now());
    },
    (b) => ({ started: b.started === 'on' }),
  );

  // 送信先メールアドレス登録／確認: 5 rows of address, 送信する, テストメール送信; the legacy address rule.
  const addressError = (address: string) => {
    const refusal = mailAddressRefusal(address, 'legacy');
    return refusal && LEGACY_ADDRESS_MESSAGES[refusal];
  };
  form(
    'destinations',
    '送信先メールアドレス登録／確認',
    (s) => ({ rows: savedDestinations(s) }),
    (client, number, b, current) =>
      saveDestinationRows(client, number, b, current, deps.clock.now(), {
        rows: '送信先メールアドレス', flagWithoutValue: LEGACY_MSG.sendWithoutAddress, addressError,
      }),
    (b) => ({ rows: postedDestinations(b) }),
    (req, number, b) => (b.test === undefined ? Promise.resolve(undefined) : sendTest(req, number, b)),
  );

  /** テストメール送信n: the address typed in row n (saved or not), through the outbox; the same hourly cap as the new site. */
  async function sendTest(req: FastifyRequest, number: string, b: Body): Promise<string> {
    const { n, address } = await sendTestMail({
      pool: deps.pool, config: deps.config, now: deps.clock.now(), number, body: b, addressError,
      audit: (client, detail) => ctx.audit(req, { action: TEST_MAIL_ACTION, subject: number, detail: { ...detail, site: 'legacy' } }, client),
    });
    return LEGACY_MSG.testMailSent(n, address);
  }

  // メール送信条件設定: off by default.
  form(
    'conditions',
    'メール送信条件設定',
    (s) => ({ designatedOnly: s.designatedOnly, unansweredOnly: s.unansweredOnly }),
    async (client, number, b) => {
      await writeConditions(client, number, postedConditions(b), deps.clock.now());
    },
    postedConditions,
  );

  // 発信電話番号指定通知設定: 30 rows of 発信電話番号 and 指定する.
  form(
    'designated',
    '発信電話番号指定通知設定',
    (s) => ({ rows: savedDesignated(s) }),
    (client, number, b) =>
      saveDesignatedRows(client, number, b, deps.clock.now(), { rows: '発信電話番号', flagWithoutValue: LEGACY_MSG.designatedWithoutNumber }),
    (b) => ({ rows: postedDesignated(b) }),
  );
}
