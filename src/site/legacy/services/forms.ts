// A service's settings forms on the legacy site: each FormSpec as a page of the login's own number
// (`GET`/`POST ${prefix}${path}/${view}`), saved through postSettingsForm with its audit row
// (`legacy.<service>.<view>`), and the legacy site's words for the forms every mail service has.
import type { FastifyInstance } from 'fastify';
import { MSG } from '../../messages.ts';
import { body, mailServiceForms, postSettingsForm, storeSettings, testMailAction, type FormSpec, type MailFormWords, type MailSettings, type SettingsStore } from '../../settings-form.ts';
import { LEGACY_ADDRESS_MESSAGES, LEGACY_MSG } from '../messages.ts';
import type { LegacyServiceContext } from '../service-pages.ts';

export function registerLegacyForms<S extends MailSettings>(app: FastifyInstance, ctx: LegacyServiceContext, store: SettingsStore<S>, forms: readonly FormSpec<S>[]): void {
  const { pool } = ctx.deps;
  for (const f of forms) {
    app.get(`/${f.view}`, async (req, reply) => {
      const number = req.legacyLogin.account.number;
      const s = await store.read(pool, number);
      return ctx.page(req, reply, f.view, { title: f.title, number, version: s.version, ...f.draw(s) });
    });
    app.post(`/${f.view}`, async (req, reply) => {
      const number = req.legacyLogin.account.number;
      const b = body(req);
      return postSettingsForm({
        settings: storeSettings(store, pool, number), body: b, draw: f.draw, redraw: f.redraw,
        other: f.other && (() => f.other!(req, number, b)),
        save: (client, current) => f.save(client, number, b, current),
        audit: (client) => ctx.audit(req, { action: `legacy.${store.service}.${f.view}`, subject: number, detail: f.summary(b) }, client),
        messages: { saved: LEGACY_MSG.saved, stale: MSG.stale },
        show: (data, status) => ctx.page(req, reply, f.view, { title: f.title, number, ...data }, status),
      });
    });
  }
}

/** 開始／停止設定 and 送信先メールアドレス登録／確認 in the legacy guide's words and address rule (000 p.145–146). */
export const LEGACY_MAIL_WORDS: MailFormWords = {
  startTitle: '開始／停止設定',
  destinationsTitle: '送信先メールアドレス登録／確認',
  startWithoutAddress: LEGACY_MSG.startWithoutAddress,
  sendWithoutAddress: LEGACY_MSG.sendWithoutAddress,
  addressVariant: 'legacy',
  addressMessages: LEGACY_ADDRESS_MESSAGES,
  testMailSent: LEGACY_MSG.testMailSent,
};

/** The two forms every mail service has, on the legacy site (テストメール送信 counts against the new site's hourly cap too). */
export const legacyMailForms = <S extends MailSettings>(ctx: LegacyServiceContext, store: SettingsStore<S>) =>
  mailServiceForms(store, LEGACY_MAIL_WORDS, {
    pool: ctx.deps.pool, config: ctx.deps.config, now: () => ctx.deps.clock.now(),
    auditTestMail: (req, client, service, number, detail) => ctx.audit(req, { action: testMailAction(service), subject: number, detail: { ...detail, site: 'legacy' } }, client),
  });
