// What the new site's and the legacy site's 着信お知らせメール forms share: reading the posted
// fields, and one way to post a form — another button (送信テストn) or the save, in one
// transaction with the stale-form check, then the page again with the outcome. The sites differ
// only in their words and how they draw a page.
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import { changeNotifySettings, readNotifySettings, StaleFormError, type NotifySettings } from '../store/notify-settings.ts';

export type Body = Record<string, string | undefined>;
export type Errors = Record<string, string>;

export const body = (req: FastifyRequest) => (req.body ?? {}) as Body;
export const text = (b: Body, k: string) => (typeof b[k] === 'string' ? b[k]!.trim() : '');
export const checked = (b: Body, k: string) => b[k] === 'on';

/** A refused form: the reason per field, shown next to it. */
export class FormError extends Error {
  constructor(readonly errors: Errors) {
    super('form refused');
  }
}

export interface SettingsFormPost {
  pool: pg.Pool;
  number: string;
  body: Body;
  /** The form's values from the saved settings, and from what was typed. */
  draw(s: NotifySettings): Record<string, unknown>;
  redraw(b: Body): Record<string, unknown>;
  /** A button that is not 設定: handled instead of the save; returns its notice. */
  other?(): Promise<string | undefined>;
  /** Writes the change (throws FormError to refuse); may return the notice to show. */
  save(client: pg.PoolClient, current: NotifySettings): Promise<string | void>;
  /** The audit row, in the save's transaction. */
  audit(client: pg.PoolClient): Promise<void>;
  messages: { saved: string; stale: string };
  /** Draws the page with the form's version, errors, notice and values. */
  show(data: { version: number; errors: Errors; notice?: string } & Record<string, unknown>, status: number): Promise<unknown> | unknown;
}

export async function postSettingsForm(f: SettingsFormPost): Promise<unknown> {
  const version = Number(f.body.version);
  const again = async (errors: Errors, status: number, notice?: string) => {
    // The typed values are kept and the version stays the one the form was drawn from, so a
    // stale form stays stale until reloaded; a stale one is drawn from what is saved now.
    const stale = status === 409;
    const s = await readNotifySettings(f.pool, f.number);
    return f.show({ version: stale ? s.version : version, errors, notice, ...(stale ? f.draw(s) : f.redraw(f.body)) }, status);
  };
  try {
    const otherNotice = f.other && (await f.other());
    if (otherNotice) return await again({}, 200, otherNotice);
    if (!Number.isSafeInteger(version) || version < 0) throw new StaleFormError('no version');
    const notice = await changeNotifySettings(f.pool, f.number, version, async (client, current) => {
      const done = await f.save(client, current);
      await f.audit(client);
      return done;
    });
    const s = await readNotifySettings(f.pool, f.number);
    return await f.show({ version: s.version, errors: {}, notice: notice ?? f.messages.saved, ...f.draw(s) }, 200);
  } catch (err) {
    if (err instanceof FormError) return again(err.errors, 400);
    if (err instanceof StaleFormError) return again({ form: f.messages.stale }, 409);
    throw err;
  }
}
