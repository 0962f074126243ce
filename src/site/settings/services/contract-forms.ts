// What the pages of the whole contract's services share: one form of a contract's settings, drawn
// from what is saved, posted through postSettingsForm (the stale-form check on the contract's row,
// the save and its audit row in one transaction, errors next to the fields).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { ContractSettingsTable } from '../../../store/contract-settings.ts';
import { changeContractSettings } from '../../../store/contract-settings.ts';
import { StaleFormError } from '../../../store/notify-settings.ts';
import { MSG } from '../../messages.ts';
import { body, postSettingsForm, type Body, type FormSettings } from '../../settings-form.ts';
import type { ContractServiceContext } from './service-pages.ts';

/** A contract's settings as a form's: read with `read`, changed under the stale-form check of `table`. */
export function contractFormSettings<S extends { version: number }>(
  pool: pg.Pool,
  table: ContractSettingsTable,
  contractId: string,
  read: (db: pg.Pool | pg.PoolClient, contractId: string) => Promise<S | undefined>,
): FormSettings<S> {
  const must = (s: S | undefined) => {
    // The contract gave the service up meanwhile: as stale as a form can be.
    if (!s) throw new StaleFormError(`${table} of ${contractId} is gone`);
    return s;
  };
  return {
    read: async () => must(await read(pool, contractId)),
    change: (version, work) => changeContractSettings(pool, table, contractId, version, async (client) => work(client, must(await read(client, contractId)))),
  };
}

export interface ContractForm<S extends { version: number }> {
  view: string;
  /** The template (default: `view` under the service's folder). */
  template?: string;
  title: string;
  /** The form as saved; `page` is the page of a long list asked for (GET ?page, POST page). */
  draw(s: S, page?: unknown): Record<string, unknown>;
  /** What was typed, drawn over what is saved now. */
  redraw(b: Body, s: S): Record<string, unknown>;
  /** Writes the change (throws FormError to refuse); may return the notice. */
  save(client: pg.PoolClient, contractId: string, b: Body, current: S): Promise<string | void>;
  /** A button that is not 設定 (送信テストn): handled instead of the save; returns the notice. */
  other?(req: FastifyRequest, contractId: string, b: Body): Promise<string | undefined>;
  /** What the audit row says of the change. */
  summary?(b: Body): Record<string, unknown>;
}

/** Registers GET and POST of one form of the contract's service (its audit action `<service>.<view>`). */
export function contractForm<S extends { version: number }>(
  app: FastifyInstance,
  ctx: ContractServiceContext,
  settingsOf: (contractId: string) => FormSettings<S>,
  f: ContractForm<S>,
): void {
  const template = f.template ?? `${ctx.service.path.slice(1)}/${f.view}`;
  const show = (req: FastifyRequest, reply: FastifyReply, data: Record<string, unknown>, status = 200) =>
    ctx.render(req, reply, template, { ...ctx.pageData(req), title: f.title, ...data }, status);
  app.get(`/${f.view}`, async (req, reply) => {
    const s = await settingsOf(ctx.contractIdOf(req)).read();
    return show(req, reply, { version: s.version, errors: {}, ...f.draw(s, (req.query as { page?: unknown }).page) });
  });
  app.post(`/${f.view}`, async (req, reply) => {
    const contractId = ctx.contractIdOf(req);
    const b = body(req);
    return postSettingsForm({
      settings: settingsOf(contractId), body: b, draw: (s) => f.draw(s, b.page), redraw: f.redraw,
      other: f.other && (() => f.other!(req, contractId, b)),
      save: (client, current) => f.save(client, contractId, b, current),
      audit: (client) =>
        ctx.audit(req, { actor: req.login.account.number, action: `${ctx.service.service}.${f.view.replace(/-/g, '_')}`, subject: req.login.account.number, detail: { contract: contractId, ...f.summary?.(b) } }, client),
      messages: { saved: MSG.saved, stale: MSG.stale },
      show: (data, status) => show(req, reply, data, status),
    });
  });
}
