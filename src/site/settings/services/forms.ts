// A service's settings forms on the 設定サイト: each FormSpec as a page under the number's サービスメニュー
// (`GET`/`POST ${path}/:number/${view}`), saved through postSettingsForm with its audit row
// (`<service>.<view>`), and the site's words for the forms every mail service has.
import type { FastifyInstance } from 'fastify';
import { ADDRESS_MESSAGES, MSG } from '../../messages.ts';
import { body, mailServiceForms, postSettingsForm, storeSettings, testMailAction, type FormSpec, type MailFormWords, type MailSettings, type SettingsStore } from '../../settings-form.ts';
import type { ServiceContext } from './service-pages.ts';

export function registerForms<S extends MailSettings>(app: FastifyInstance, ctx: ServiceContext, store: SettingsStore<S>, forms: readonly FormSpec<S>[]): void {
  const { pool } = ctx.deps;
  for (const f of forms) {
    app.get(`/${f.view}`, async (req, reply) => {
      const s = await store.read(pool, ctx.numberOf(req));
      return ctx.render(req, reply, f.view, { ...ctx.pageData(req), title: f.title, version: s.version, errors: {}, ...f.draw(s) });
    });
    app.post(`/${f.view}`, async (req, reply) => {
      const number = ctx.numberOf(req);
      const b = body(req);
      return postSettingsForm({
        settings: storeSettings(store, pool, number), body: b, draw: f.draw, redraw: f.redraw,
        other: f.other && (() => f.other!(req, number, b)),
        save: (client, current) => f.save(client, number, b, current),
        audit: (client) => ctx.audit(req, { actor: req.login.account.number, action: `${store.service}.${f.view}`, subject: number, detail: f.summary(b) }, client),
        messages: { saved: MSG.saved, stale: MSG.stale },
        show: (data, status) => ctx.render(req, reply, f.view, { ...ctx.pageData(req), title: f.title, ...data }, status),
      });
    });
  }
}

/** サービス開始／停止 and 送信先メールアドレス設定 in the 設定サイト's words and address rule (000 p.137–139). */
export const SITE_MAIL_WORDS: MailFormWords = {
  startTitle: 'サービス開始／停止',
  destinationsTitle: '送信先メールアドレス設定',
  startWithoutAddress: MSG.startWithoutAddress,
  sendWithoutAddress: MSG.sendWithoutAddress,
  addressVariant: 'site',
  addressMessages: ADDRESS_MESSAGES,
  testMailSent: MSG.testMailSent,
};

/** The two forms every mail service has, on the 設定サイト (the login's number acts). */
export const siteMailForms = <S extends MailSettings>(ctx: ServiceContext, store: SettingsStore<S>) =>
  mailServiceForms(store, SITE_MAIL_WORDS, {
    pool: ctx.deps.pool, config: ctx.deps.config, now: () => ctx.deps.clock.now(),
    auditTestMail: (req, client, service, number, detail) => ctx.audit(req, { actor: req.login.account.number, action: testMailAction(service), subject: number, detail }, client),
  });
