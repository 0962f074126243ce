// 着信お知らせメール settings (000 p.137–140): 電話番号選択, サービスメニュー, サービス開始／停止,
// 送信先メールアドレス設定 (with 送信テスト), メール送信条件設定, お知らせ対象電話番号設定.
// Every route under /:number checks the number against the login's 認証単位 scope first.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { mailAddressRefusal } from '../../domain/mail-address.ts';
import {
  readNotifySettings,
  writeConditions,
  writeStarted,
  type NotifySettings,
} from '../../store/notify-settings.ts';
import type { PageSet, SiteContext } from '../foundation.ts';
import { pageOf } from '../paging.ts';
import { ADDRESS_MESSAGES, MSG } from '../messages.ts';
import { CHAKUSHIN_MAIL_PATH, scopeRefused } from './account.ts';
import { body, FormError, postedConditions, postedDesignated, postedDestinations, postSettingsForm, saveDesignatedRows, saveDestinationRows, savedDesignated, savedDestinations, sendTestMail, TEST_MAIL_ACTION, type Body, type Errors } from '../settings-form.ts';

/** With this many numbers or more, 電話番号選択 offers 電話番号検索 (001 p.10). */
export const SEARCH_FROM = 33;
const SERVICE = 'chakushin_mail';


export function chakushinMailPages(): PageSet {
  return { prefix: CHAKUSHIN_MAIL_PATH, register };
}

function register(app: Parameters<PageSet['register']>[0], ctx: SiteContext) {
  const { deps } = ctx;
  const base = CHAKUSHIN_MAIL_PATH;
  app.addHook('preHandler', ctx.requireLogin);

  const numbersWithService = (req: FastifyRequest) => req.login.scope.filter((n) => n.services.includes(SERVICE)).map((n) => n.number);

  app.get('/', async (req, reply) => {
    const all = numbersWithService(req);
    if (all.length === 1) return reply.redirect(`${base}/${all[0]}`, 303);
    const q = String((req.query as Record<string, string>).q ?? '').trim();
    const searchable = all.length >= SEARCH_FROM;
    let numbers = all;
    const errors: Errors = {};
    if (searchable && q) {
      if (!/^[0-9*]{1,11}$/.test(q)) errors.q = MSG.searchBad;
      else {
        // Part of a number matches anywhere; '*' stands for any run of digits.
        const re = new RegExp(q.split('*').map((p) => p.replace(/\D/g, '')).join('\\d*'));
        numbers = all.filter((n) => re.test(n));
      }
    }
    const paged = pageOf(numbers, (req.query as Record<string, string>).page);
    return ctx.render(req, reply, 'numbers', { title: '電話番号選択', numbers: paged.items, paged, searchable, q, errors, base });
  });

  /** The number in the URL, if this login may set its 着信お知らせメール; otherwise the refusal is sent. */
  const numberInScope = async (req: FastifyRequest, reply: FastifyReply): Promise<string | undefined> => {
    const asked = (req.params as { number: string }).number;
    if (numbersWithService(req).includes(asked)) return asked;
    await scopeRefused(ctx, req, reply, asked);
    return undefined;
  };

  const pageData = (req: FastifyRequest, number: string) => ({
    number,
    base: `${base}/${number}`,
    back: numbersWithService(req).length > 1 ? base : '/services',
  });

  app.get('/:number', async (req, reply) => {
    const number = await numberInScope(req, reply);
    if (!number) return reply;
    const s = await readNotifySettings(deps.pool, number);
    return ctx.render(req, reply, 'menu', { ...pageData(req, number), title: 'サービスメニュー（着信お知らせメール）', started: s.started });
  });

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
    app.get(`/:number/${view}`, async (req, reply) => {
      const number = await numberInScope(req, reply);
      if (!number) return reply;
      const s = await readNotifySettings(deps.pool, number);
      return ctx.render(req, reply, view, { ...pageData(req, number), title, version: s.version, errors: {}, ...draw(s) });
    });
    app.post(`/:number/${view}`, async (req, reply) => {
      const number = await numberInScope(req, reply);
      if (!number) return reply;
      const b = body(req);
      return postSettingsForm({
        pool: deps.pool, number, body: b, draw, redraw,
        other: other && (() => other(req, number, b)),
        save: (client, current) => save(client, number, b, current),
        audit: (client) => ctx.audit(req, { action: `chakushin_mail.${view}`, subject: number, detail: summary(view, b) }, client),
        messages: { saved: MSG.saved, stale: MSG.stale },
        show: (data, status) => ctx.render(req, reply, view, { ...pageData(req, number), title, ...data }, status),
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
      audit: (client, detail) => ctx.audit(req, { action: TEST_MAIL_ACTION, subject: number, detail }, client),
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
