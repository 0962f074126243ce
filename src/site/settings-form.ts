// What the new site's and the legacy site's mail-service forms (着信お知らせメール, FAXお知らせメール)
// share: reading the posted fields and rows, drawing the saved rows, the rules a row save keeps,
// the capped test mail, the two forms every mail service has (開始／停止, 送信先), and one way to
// post a form — another button (送信テストn) or the save, in one transaction with the stale-form
// check, then the page again with the outcome. The sites differ only in their words and how they
// draw a page; the services only in their store (SettingsStore).
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Config } from '../config.ts';
import { MAX_DESIGNATED, MAX_DESTINATIONS } from '../domain/limits.ts';
import { mailAddressRefusal, type MailAddressRefusal, type MailAddressVariant } from '../domain/mail-address.ts';
import { MAIL_SERVICES, type MailService } from '../domain/subscriber.ts';
import { queueTestMail } from '../mail/test-mail.ts';
import { countAuditLocked } from '../store/audit.ts';
import { isNationalNumber } from '../domain/phone-number.ts';
import { changeFaxSettings, readFaxSettings, writeFaxDestinations, writeFaxStarted, type FaxSettings } from '../store/fax.ts';
import {
  changeNotifySettings, readNotifySettings, StaleFormError, writeDesignated, writeDestinations, writeStarted, type NotifySettings,
} from '../store/notify-settings.ts';
import { withTransaction } from '../store/transaction.ts';
import { MSG } from './messages.ts';
import { hasExtraRows, rowErrors } from './settings-rows.ts';

export type Body = Record<string, string | undefined>;
export type Errors = Record<string, string>;

export const body = (req: FastifyRequest) => (req.body ?? {}) as Body;
export const text = (b: Body, k: string) => (typeof b[k] === 'string' ? b[k]!.trim() : '');
export const checked = (b: Body, k: string) => b[k] === 'on';

/** What the settings of every mail service have: 開始／停止, up to 5 送信先, the version a form is drawn from. */
export interface MailSettings {
  started: boolean;
  /** 0: no settings row yet. */
  version: number;
  destinations: { position: number; address: string; send: boolean }[];
}

/** A mail service's settings in the store: what the forms read, the one-transaction change with its stale check, the two writes every service has. */
export interface SettingsStore<S extends MailSettings> {
  service: MailService;
  read(db: pg.Pool, number: string): Promise<S>;
  change<T>(pool: pg.Pool, number: string, expectedVersion: number, change: (client: pg.PoolClient, current: S) => Promise<T>): Promise<T>;
  writeStarted(client: pg.PoolClient, number: string, started: boolean, now: Date): Promise<void>;
  writeDestinations(client: pg.PoolClient, number: string, rows: MailSettings['destinations'], now: Date): Promise<void>;
}

export const NOTIFY_SETTINGS: SettingsStore<NotifySettings> = {
  service: 'chakushin_mail', read: readNotifySettings, change: changeNotifySettings, writeStarted, writeDestinations,
};

export const FAX_SETTINGS: SettingsStore<FaxSettings> = {
  service: 'fax_mail', read: readFaxSettings, change: changeFaxSettings, writeStarted: writeFaxStarted, writeDestinations: writeFaxDestinations,
};

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
export const savedDestinations = (s: MailSettings) =>
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
 * The posted 送信先 rows to save: a checked 送信 needs an address, each address passes the site's
 * `addressError` once, and a started service keeps at least one (FormError otherwise).
 */
export function destinationRowsToSave(b: Body, started: boolean, words: RowWords & { addressError(address: string): string | undefined }): MailSettings['destinations'] {
  refuseExtraRows(b, ['address', 'send'], MAX_DESTINATIONS, words.rows, 'address1');
  const rows = postedDestinations(b);
  const errors = rowErrors(rows.map((r) => ({ n: r.n, value: r.address, flag: r.send })), {
    field: (n) => `address${n}`, refusal: words.addressError, flagWithoutValue: words.flagWithoutValue, duplicate: MSG.duplicateAddress,
  });
  const kept = rows.filter((r) => r.address).map((r) => ({ position: r.n, address: r.address, send: r.send }));
  if (started && kept.length === 0 && !Object.keys(errors).length) errors.address1 = MSG.removeAllWhileStarted;
  if (Object.keys(errors).length) throw new FormError(errors);
  return kept;
}

/** Saves the posted 送信先 rows through `write` (destinationRowsToSave's rules). */
export async function saveDestinationRows(
  client: pg.PoolClient, number: string, b: Body, current: MailSettings, now: Date,
  words: RowWords & { addressError(address: string): string | undefined; write: SettingsStore<MailSettings>['writeDestinations'] },
): Promise<void> {
  await words.write(client, number, destinationRowsToSave(b, current.started, words), now);
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

/**
 * The audit action of a service's test mail; both sites and every mail service of a number (and
 * 故障・回復通知 of the contract whose 契約者回線番号 it is) count against one hourly cap.
 */
export const testMailAction = (service: MailService | 'failure_notice') => `${service}.test_mail`;
const TEST_MAIL_ACTIONS = [...MAIL_SERVICES, 'failure_notice' as const].map(testMailAction);

export interface TestMailRequest {
  pool: pg.Pool;
  /** Whose 送信先 the address is for (the mail names the service); or `queue`, for a service that is not a number's. */
  service?: MailService;
  /** Queues the mail in the transaction (instead of `service`'s 送信テスト of `number`); returns its outbox id. */
  queue?(client: pg.PoolClient, address: string): Promise<number>;
  config: Pick<Config, 'mail' | 'site'>;
  now: Date;
  /** The number the hourly cap counts for (a contract's service: its 契約者回線番号). */
  number: string;
  body: Body;
  /** The site's address rule: the refusal to show, or undefined. */
  addressError(address: string): string | undefined;
  /** Writes the testMailAction(service) audit row, in the queueing transaction. */
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
    const sent = await countAuditLocked(client, t.number, TEST_MAIL_ACTIONS, new Date(t.now.getTime() - 3_600_000));
    if (sent >= perHour) throw new FormError({ [`address${n}`]: MSG.testMailLimit(perHour) });
    const outboxId = t.queue ? await t.queue(client, row.address) : await queueTestMail(client, t.config, t.number, row.address, t.now, t.service);
    await t.audit(client, { position: n, outboxId });
  });
  return { n, address: row.address };
}

/** メール送信条件, as posted. */
export const postedConditions = (b: Body) => ({ designatedOnly: checked(b, 'designatedOnly'), unansweredOnly: checked(b, 'unansweredOnly') });

/**
 * One settings form of a service: the page `view` at `/${view}`, its values drawn from the saved
 * settings or from what was typed, its save (in the form's transaction), and another button than
 * 設定 where it has one (送信テストn).
 */
export interface FormSpec<S extends MailSettings> {
  view: string;
  title: string;
  draw(s: S): Record<string, unknown>;
  redraw(b: Body): Record<string, unknown>;
  /** Writes the change (throws FormError to refuse); may return the notice to show. */
  save(client: pg.PoolClient, number: string, b: Body, current: S): Promise<string | void>;
  /** A button that is not 設定: handled instead of the save; returns its notice, or undefined when it was not pressed. */
  other?(req: FastifyRequest, number: string, b: Body): Promise<string | undefined>;
  /** What the audit row says of the change (never an address). */
  summary(b: Body): Record<string, unknown>;
}

/** The words a site says 開始／停止 and 送信先 with (its guide's own), and its address rule. */
export interface MailFormWords {
  startTitle: string;
  destinationsTitle: string;
  startWithoutAddress: string;
  sendWithoutAddress: string;
  /** mailAddressRefusal's variant for the site, and the site's words for each refusal. */
  addressVariant: MailAddressVariant;
  addressMessages: Record<MailAddressRefusal, string>;
  /** The notice after 送信テストn / テストメール送信n. */
  testMailSent(n: number, address: string): string;
}

/** What the two forms need of the site beyond its words. */
export interface MailFormSite {
  pool: pg.Pool;
  config: Pick<Config, 'mail' | 'site'>;
  now(): Date;
  /** The test mail's audit row (testMailAction(service)), as the site writes it (who acts), in the queueing transaction. */
  auditTestMail(req: FastifyRequest, client: pg.PoolClient, service: MailService, number: string, detail: { position: number; outboxId: number }): Promise<void>;
}

/** The two forms every mail service has: 開始／停止 (開始 needs a 送信先, 000 p.138/p.145) and 送信先 with its test mail. */
export function mailServiceForms<S extends MailSettings>(store: SettingsStore<S>, words: MailFormWords, site: MailFormSite): FormSpec<S>[] {
  const addressError = (address: string) => {
    const refusal = mailAddressRefusal(address, words.addressVariant);
    return refusal && words.addressMessages[refusal];
  };
  /** 送信テストn: the address typed in row n (saved or not), through the mail outbox; per-number hourly cap. */
  const testMail = async (req: FastifyRequest, number: string, b: Body) => {
    const { n, address } = await sendTestMail({
      pool: site.pool, service: store.service, config: site.config, now: site.now(), number, body: b, addressError,
      audit: (client, detail) => site.auditTestMail(req, client, store.service, number, detail),
    });
    return words.testMailSent(n, address);
  };
  return [
    {
      view: 'start',
      title: words.startTitle,
      draw: (s) => ({ values: { started: s.started } }),
      redraw: (b) => ({ values: { started: checked(b, 'started') } }),
      async save(client, number, b, current) {
        const started = checked(b, 'started');
        if (started && current.destinations.length === 0) throw new FormError({ started: words.startWithoutAddress });
        await store.writeStarted(client, number, started, site.now());
      },
      summary: (b) => ({ started: checked(b, 'started') }),
    },
    {
      view: 'destinations',
      title: words.destinationsTitle,
      draw: (s) => ({ rows: savedDestinations(s) }),
      redraw: (b) => ({ rows: postedDestinations(b) }),
      save: (client, number, b, current) =>
        saveDestinationRows(client, number, b, current, site.now(), {
          rows: '送信先メールアドレス', flagWithoutValue: words.sendWithoutAddress, addressError, write: store.writeDestinations,
        }),
      other: (req, number, b) => (b.test === undefined ? Promise.resolve(undefined) : testMail(req, number, b)),
      summary: (b) => ({ rows: filledRows(b, 'address') }),
    },
  ];
}

/** How many rows of a form were filled (the audit says how many, not what). */
export const filledRows = (b: Body, prefix: string) => Object.keys(b).filter((k) => k.startsWith(prefix) && /^\d+$/.test(k.slice(prefix.length)) && b[k]).length;

/** Where a form's settings are read and changed: a mail service's of a number (storeSettings), or a contract's. */
export interface FormSettings<S extends { version: number }> {
  read(): Promise<S>;
  /** Runs `work` in a transaction holding the settings, once they are still at `version` (StaleFormError otherwise). */
  change<T>(version: number, work: (client: pg.PoolClient, current: S) => Promise<T>): Promise<T>;
}

/** A number's settings of a mail service, as a form's. */
export const storeSettings = <S extends MailSettings>(store: SettingsStore<S>, pool: pg.Pool, number: string): FormSettings<S> => ({
  read: () => store.read(pool, number),
  change: (version, work) => store.change(pool, number, version, work),
});

export interface SettingsFormPost<S extends { version: number }> {
  settings: FormSettings<S>;
  body: Body;
  /** The form's values from the saved settings, and from what was typed (over what is saved now). */
  draw(s: S): Record<string, unknown>;
  redraw(b: Body, s: S): Record<string, unknown>;
  /** A button that is not 設定: handled instead of the save; returns its notice. */
  other?(): Promise<string | undefined>;
  /** Writes the change (throws FormError to refuse); may return the notice to show. */
  save(client: pg.PoolClient, current: S): Promise<string | void>;
  /** The audit row, in the save's transaction. */
  audit(client: pg.PoolClient): Promise<void>;
  messages: { saved: string; stale: string };
  /** Draws the page with the form's version, errors, notice and values. */
  show(data: { version: number; errors: Errors; notice?: string } & Record<string, unknown>, status: number): Promise<unknown> | unknown;
}

export async function postSettingsForm<S extends { version: number }>(f: SettingsFormPost<S>): Promise<unknown> {
  const version = Number(f.body.version);
  const again = async (errors: Errors, status: number, notice?: string) => {
    // The typed values are kept and the version stays the one the form was drawn from, so a
    // stale form stays stale until reloaded; a stale one is drawn from what is saved now.
    const stale = status === 409;
    const s = await f.settings.read();
    return f.show({ version: stale ? s.version : version, errors, notice, ...(stale ? f.draw(s) : f.redraw(f.body, s)) }, status);
  };
  try {
    const otherNotice = f.other && (await f.other());
    if (otherNotice) return await again({}, 200, otherNotice);
    if (!Number.isSafeInteger(version) || version < 0) throw new StaleFormError('no version');
    const notice = await f.settings.change(version, async (client, current) => {
      const done = await f.save(client, current);
      await f.audit(client);
      return done;
    });
    const s = await f.settings.read();
    return await f.show({ version: s.version, errors: {}, notice: notice ?? f.messages.saved, ...f.draw(s) }, 200);
  } catch (err) {
    if (err instanceof FormError) return again(err.errors, 400);
    if (err instanceof StaleFormError) return again({ form: f.messages.stale }, 409);
    throw err;
  }
}
