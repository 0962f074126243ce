// What the new site's and the legacy site's 着信お知らせメール forms share: reading the posted
// fields and rows, drawing the saved rows, the rules a row save keeps, the capped test mail, and
// one way to post a form — another button (送信テストn) or the save, in one
// transaction with the stale-form check, then the page again with the outcome. The sites differ
// only in their words and how they draw a page.
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Config } from '../config.ts';
import { MAX_DESIGNATED, MAX_DESTINATIONS } from '../domain/limits.ts';
import { queueTestMail } from '../mail/test-mail.ts';
import { countAuditLocked } from '../store/audit.ts';
import { isNationalNumber } from '../domain/phone-number.ts';
import { changeNotifySettings, readNotifySettings, StaleFormError, writeDesignated, writeDestinations, type NotifySettings } from '../store/notify-settings.ts';
import { withTransaction } from '../store/transaction.ts';
import { MSG } from './messages.ts';
import { hasExtraRows, rowErrors } from './settings-rows.ts';

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

/** A posted row beyond the limit (address6, number31…) is refused, not ignored. */
export function refuseExtraRows(b: Body, prefixes: readonly string[], max: number, what: string, fieldName: string): void {
  if (hasExtraRows(b, prefixes, max)) throw new FormError({ [fieldName]: MSG.tooManyRows(max, what) });
}

/** 送信先メールアドレス1..5 with 送信する, as posted. */
export const postedDestinations = (b: Body) =>
  Array.from({ length: MAX_DESTINATIONS }, (_, i) => ({ n: i + 1, address: text(b, `address${i + 1}`), send: checked(b, `send${i + 1}`) }));

/** Every 送信先 row, as saved (blank where none is). */
export const savedDestinations = (s: NotifySettings) =>
  Array.from({ length: MAX_DESTINATIONS }, (_, i) => {
    const d = s.destinations.find((x) => x.position === i + 1);
    return { n: i + 1, address: d?.address ?? '', send: d?.send ?? false };
  });

/** 発信電話番号1..30 with 指定, as posted. */
export const postedDesignated = (b: Body) =>
  Array.from({ length: MAX_DESIGNATED }, (_, i) => ({ n: i + 1, callerNumber: text(b, `number${i + 1}`), designated: checked(b, `designated${i + 1}`) }));

/** Every 発信電話番号 row, as saved (blank where none is). */
export const savedDesignated = (s: NotifySettings) =>
  Array.from({ length: MAX_DESIGNATED }, (_, i) => {
    const d = s.designated.find((x) => x.position === i + 1);
    return { n: i + 1, callerNumber: d?.callerNumber ?? '', designated: d?.designated ?? false };
  });

/** The words a site refuses a row with (its guide's own). */
export interface RowWords {
  /** The rows' name in the too-many-rows refusal (送信先メールアドレス, 発信電話番号…). */
  rows: string;
  /** A checked 送信/指定 on a row without its value. */
  flagWithoutValue: string;
}

/**
 * Saves the posted 送信先 rows: a checked 送信 needs an address, each address passes the site's
 * `addressError` once, and a started service keeps at least one.
 */
export async function saveDestinationRows(
  client: pg.PoolClient, number: string, b: Body, current: NotifySettings, now: Date, words: RowWords & { addressError(address: string): string | undefined },
): Promise<void> {
  refuseExtraRows(b, ['address', 'send'], MAX_DESTINATIONS, words.rows, 'address1');
  const rows = postedDestinations(b);
  const errors = rowErrors(rows.map((r) => ({ n: r.n, value: r.address, flag: r.send })), {
    field: (n) => `address${n}`, refusal: words.addressError, flagWithoutValue: words.flagWithoutValue, duplicate: MSG.duplicateAddress,
  });
  const kept = rows.filter((r) => r.address).map((r) => ({ position: r.n, address: r.address, send: r.send }));
  if (current.started && kept.length === 0 && !Object.keys(errors).length) errors.address1 = MSG.removeAllWhileStarted;
  if (Object.keys(errors).length) throw new FormError(errors);
  await writeDestinations(client, number, kept, now);
}

/** Saves the posted 発信電話番号 rows: a checked 指定 needs a number, each number national and given once. */
export async function saveDesignatedRows(client: pg.PoolClient, number: string, b: Body, now: Date, words: RowWords): Promise<void> {
  refuseExtraRows(b, ['number', 'designated'], MAX_DESIGNATED, words.rows, 'number1');
  const rows = postedDesignated(b);
  const errors = rowErrors(rows.map((r) => ({ n: r.n, value: r.callerNumber, flag: r.designated })), {
    field: (n) => `number${n}`,
    refusal: (v) => (isNationalNumber(v) ? undefined : MSG.badNumber),
    flagWithoutValue: words.flagWithoutValue,
    duplicate: MSG.duplicateNumber,
  });
  if (Object.keys(errors).length) throw new FormError(errors);
  const kept = rows.filter((r) => r.callerNumber).map((r) => ({ position: r.n, callerNumber: r.callerNumber, designated: r.designated }));
  await writeDesignated(client, number, kept, now);
}

/** The audit action of a test mail; both sites count it against one hourly cap per number. */
export const TEST_MAIL_ACTION = 'chakushin_mail.test_mail';

export interface TestMailRequest {
  pool: pg.Pool;
  config: Pick<Config, 'mail' | 'site'>;
  now: Date;
  number: string;
  body: Body;
  /** The site's address rule: the refusal to show, or undefined. */
  addressError(address: string): string | undefined;
  /** Writes the TEST_MAIL_ACTION audit row, in the queueing transaction. */
  audit(client: pg.PoolClient, detail: { position: number; outboxId: number }): Promise<void>;
}

/**
 * テストメール送信n / 送信テストn: the address typed in row n (saved or not), through the mail outbox,
 * at most site.testMailsPerHour an hour per number. Returns the row it went to.
 */
export async function sendTestMail(t: TestMailRequest): Promise<{ n: number; address: string }> {
  refuseExtraRows(t.body, ['address'], MAX_DESTINATIONS, '送信先メールアドレス', 'address1');
  const n = Number(t.body.test);
  const row = postedDestinations(t.body).find((r) => r.n === n);
  if (!row) throw new FormError({ address1: MSG.tooManyRows(MAX_DESTINATIONS, '送信先メールアドレス') });
  const problem = t.addressError(row.address);
  if (problem) throw new FormError({ [`address${n}`]: problem });
  const perHour = t.config.site.testMailsPerHour;
  await withTransaction(t.pool, async (client) => {
    // Count and send under a per-number lock, so two windows cannot both pass the cap.
    const sent = await countAuditLocked(client, t.number, TEST_MAIL_ACTION, new Date(t.now.getTime() - 3_600_000));
    if (sent >= perHour) throw new FormError({ [`address${n}`]: MSG.testMailLimit(perHour) });
    const outboxId = await queueTestMail(client, t.config, t.number, row.address, t.now);
    await t.audit(client, { position: n, outboxId });
  });
  return { n, address: row.address };
}

/** メール送信条件, as posted. */
export const postedConditions = (b: Body) => ({ designatedOnly: checked(b, 'designatedOnly'), unansweredOnly: checked(b, 'unansweredOnly') });

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
