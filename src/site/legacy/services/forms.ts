// A service's settings forms on the legacy site: each FormSpec as a page of the login's own number
// (`GET`/`POST ${prefix}${path}/${view}`), saved through postSettingsForm with its audit row
// (`legacy.<service>.<view>`), and the legacy site's words for the forms every mail service has.
import type { FastifyInstance } from 'fastify';
import { mailAddressRefusal } from '../../../domain/mail-address.ts';
import { MSG } from '../../messages.ts';
import { body, postSettingsForm, sendTestMail, testMailAction, type FormSpec, type MailFormWords, type MailSettings, type SettingsStore } from '../../settings-form.ts';
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
        pool, store, number, body: b, draw: f.draw, redraw: f.redraw,
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
export function legacyMailWords(ctx: LegacyServiceContext): MailFormWords {
  const addressError = (address: string) => {
    const refusal = mailAddressRefusal(address, 'legacy');
    return refusal && LEGACY_ADDRESS_MESSAGES[refusal];
  };
  return {
    startTitle: '開始／停止設定',
    destinationsTitle: '送信先メールアドレス登録／確認',
    startWithoutAddress: LEGACY_MSG.startWithoutAddress,
    sendWithoutAddress: LEGACY_MSG.sendWithoutAddress,
    addressError,
    /** テストメール送信n: the address typed in row n (saved or not), through the outbox; the same hourly cap as the new site. */
    async testMail(req, number, service, b) {
      const { n, address } = await sendTestMail({
        pool: ctx.deps.pool, service, config: ctx.deps.config, now: ctx.deps.clock.now(), number, body: b, addressError,
        audit: (client, detail) => ctx.audit(req, { action: testMailAction(service), subject: number, detail: { ...detail, site: 'legacy' } }, client),
      });
      return LEGACY_MSG.testMailSent(n, address);
    },
  };
}
