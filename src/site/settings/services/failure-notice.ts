// 故障・回復通知機能 on the 設定サイト (002): サービス開始／停止, 送信メール内容設定 (契約者名, 拠点情報),
// 送信先メールアドレス設定 (with 送信テスト), 一括転送自動開始設定 and 一括転送自動停止設定 — settings of the
// whole contract, for logins that manage it (common-pages.ts, registerContractService).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MAIL_TEXT_LABELS, MAIL_TEXT_MAX_LENGTH, mailTextMessage, mailTextRefusal, type MailTextField } from '../../../domain/failure-notice.ts';
import { mailAddressRefusal } from '../../../domain/mail-address.ts';
import { queueFailureNoticeTestMail } from '../../../mail/test-mail.ts';
import {
  readFailureNotice, writeFailureNoticeAutomatic, writeFailureNoticeDestinations, writeFailureNoticeMailText, writeFailureNoticeStarted,
  type StoredFailureNotice,
} from '../../../store/failure-notice-settings.ts';
import { ADDRESS_MESSAGES, MSG } from '../../messages.ts';
import { destinationRowsToSave, FormError, postedDestinations, savedDestinations, sendTestMail, testMailAction, text, type Body } from '../../settings-form.ts';
import { contractForm, contractFormSettings } from './contract-forms.ts';
import type { ContractServiceContext, ContractServicePages } from './service-pages.ts';
import type { SiteLogin } from '../session.ts';

/** The audit action of its 送信テスト, counted against the hourly cap of the contract's 契約者回線番号 (with its number's mail services'). */
export const FAILURE_TEST_MAIL_ACTION = testMailAction('failure_notice');

const withBulkForward = (login: SiteLogin) => login.account.contractServices.includes('bulk_forward');

export const failureNotice: ContractServicePages = {
  scope: 'contract',
  service: 'failure_notice',
  name: '故障・回復通知機能',
  // The guides give no one-line description of the service itself; this is what it does.
  description: '回線の故障と回復を検知して、設定したメールアドレスにお知らせします。',
  path: '/failure-notice',
  menu: [
    { label: 'サービス開始／停止', path: '/start', description: 'サービスの開始または停止の設定を行います。' },
    { label: '送信メール内容設定', path: '/mail-text', description: '故障・回復通知の送信メールにおける契約者名、拠点情報を設定します。' },
    { label: '送信先メールアドレス設定', path: '/destinations', description: '故障・回復通知送信先メールアドレスの登録を行います。' },
    { label: '一括転送自動開始設定', path: '/auto-start', description: '故障時における一括転送自動開始機能の開始/停止を設定します。', shown: withBulkForward },
    { label: '一括転送自動停止設定', path: '/auto-stop', description: '故障回復時における一括転送自動停止機能の開始/停止を設定します。', shown: withBulkForward },
  ],
  status: async (ctx, contractId) => ((await readFailureNotice(ctx.deps.pool, contractId))?.started ? '開始' : '停止'),
  register,
};

const MAIL_TEXT_FIELDS: readonly MailTextField[] = ['contractorName', 'siteInfo'];

async function register(app: FastifyInstance, ctx: ContractServiceContext) {
  const { deps } = ctx;
  const settingsOf = (contractId: string) => contractFormSettings(deps.pool, 'failure_notice_setting', contractId, readFailureNotice);
  const form = (f: Parameters<typeof contractForm<StoredFailureNotice>>[3]) => contractForm(app, ctx, settingsOf, f);

  // サービス開始／停止: 開始 needs a 送信先 (as 着信お知らせメール); the contract's lines are probed while it is on.
  form({
    view: 'start',
    template: 'start',
    title: 'サービス開始／停止',
    draw: (s) => ({ values: { started: s.started } }),
    redraw: (b) => ({ values: { started: b.started === 'on' } }),
    async save(client, contractId, b, current) {
      const started = b.started === 'on';
      if (started && current.destinations.length === 0) throw new FormError({ started: MSG.startWithoutAddress });
      if (started !== current.started) await writeFailureNoticeStarted(client, contractId, started, deps.clock.now());
    },
    summary: (b) => ({ started: b.started === 'on' }),
  });

  // 送信メール内容設定: 契約者名 and 拠点情報 (lengths and characters: domain/failure-notice.ts).
  form({
    view: 'mail-text',
    title: '送信メール内容設定',
    draw: (s) => ({ values: { contractorName: s.contractorName, siteInfo: s.siteInfo }, ...mailTextWords }),
    redraw: (b) => ({ values: { contractorName: text(b, 'contractorName'), siteInfo: text(b, 'siteInfo') }, ...mailTextWords }),
    async save(client, contractId, b) {
      const values = { contractorName: text(b, 'contractorName'), siteInfo: text(b, 'siteInfo') };
      const errors: Record<string, string> = {};
      for (const field of MAIL_TEXT_FIELDS) {
        const refusal = mailTextRefusal(values[field]);
        if (refusal) errors[field] = mailTextMessage(field, refusal);
      }
      if (Object.keys(errors).length) throw new FormError(errors);
      await writeFailureNoticeMailText(client, contractId, values, deps.clock.now());
    },
  });

  // 送信先メールアドレス設定: 5 rows, each with 送信 and 送信テスト; the site's address rule.
  const addressError = (address: string) => {
    const refusal = mailAddressRefusal(address);
    return refusal && ADDRESS_MESSAGES[refusal];
  };
  form({
    view: 'destinations',
    template: 'destinations',
    title: '送信先メールアドレス設定',
    draw: (s) => ({ rows: savedDestinations(s) }),
    redraw: (b) => ({ rows: postedDestinations(b) }),
    async save(client, contractId, b, current) {
      const rows = destinationRowsToSave(b, current.started, { rows: '送信先メールアドレス', flagWithoutValue: MSG.sendWithoutAddress, addressError });
      await writeFailureNoticeDestinations(client, contractId, rows, deps.clock.now());
    },
    other: (req, contractId, b) => (b.test === undefined ? Promise.resolve(undefined) : sendTest(req, contractId, b)),
    summary: (b) => ({ rows: Object.keys(b).filter((k) => /^address\d+$/.test(k) && b[k]).length }),
  });

  /** 送信テストn: the address typed in row n (saved or not); the hourly cap of the contract's 契約者回線番号. */
  async function sendTest(req: FastifyRequest, contractId: string, b: Body): Promise<string> {
    const now = deps.clock.now();
    const { n, address } = await sendTestMail({
      pool: deps.pool, config: deps.config, now, number: req.login.account.number, body: b, addressError,
      queue: (client, to) => queueFailureNoticeTestMail(client, deps.config, contractId, to, now),
      audit: (client, detail) => ctx.audit(req, { actor: req.login.account.number, action: FAILURE_TEST_MAIL_ACTION, subject: req.login.account.number, detail: { ...detail, contract: contractId } }, client),
    });
    return MSG.testMailSent(n, address);
  }

  // 一括転送自動開始設定 / 一括転送自動停止設定: each 開始/停止, for a contract with 一括転送機能 only.
  await app.register(async (automatic) => {
    automatic.addHook('onRequest', async (req, reply) => {
      if (!withBulkForward(req.login)) return ctx.errorPage(req, reply, 404, { title: '一括転送自動開始／自動停止設定', message: '一括転送機能をご契約の場合に設定できます。' });
    });
    for (const [view, key, legend, hint] of AUTOMATIC) {
      contractForm(automatic, ctx, settingsOf, {
        view,
        template: 'failure-notice/automatic',
        title: `${legend}設定`,
        draw: (s) => ({ view, legend, hint, values: { on: s[key] } }),
        redraw: (b) => ({ view, legend, hint, values: { on: b.on === 'on' } }),
        async save(client, contractId, b, current) {
          const next = { autoStartBulkForward: current.autoStartBulkForward, autoStopBulkForward: current.autoStopBulkForward, [key]: b.on === 'on' };
          await writeFailureNoticeAutomatic(client, contractId, next, deps.clock.now());
        },
        summary: (b) => ({ [key]: b.on === 'on' }),
      });
    }
  });
}

/** 一括転送自動開始設定 and 一括転送自動停止設定: page, setting, legend, what 開始 does. */
const AUTOMATIC = [
  ['auto-start', 'autoStartBulkForward', '一括転送自動開始', '「開始」にすると、故障を検知したときに一括転送を自動で開始します。'],
  ['auto-stop', 'autoStopBulkForward', '一括転送自動停止', '「開始」にすると、回復を検知したときに、自動で開始した一括転送を自動で停止します。お客さまが開始した一括転送は停止しません。'],
] as const;

/** The words of 送信メール内容設定's fields and hints. */
const mailTextWords = { labels: MAIL_TEXT_LABELS, maxLength: MAIL_TEXT_MAX_LENGTH };
