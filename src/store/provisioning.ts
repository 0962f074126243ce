// Provisioning: how the carrier's order system loads subscribers. A file describes whole
// contracts; loading it is an idempotent upsert in one transaction, and a file with any bad
// entry changes nothing. Every problem is reported with its JSON path.
import type pg from 'pg';
import { z } from 'zod';
import { mailAddressProblem } from '../domain/mail-address.ts';
import { MAX_DESIGNATED, MAX_DESTINATIONS } from '../domain/limits.ts';
import { NATIONAL_NUMBER } from '../domain/phone-number.ts';
import { AUTH_UNITS, NUMBER_ROLES, PATTERNS, REGIONS, SERVICES } from '../domain/subscriber.ts';
import {
  DEFAULT_SELECT_LIST_MAX,
  DESTINATION_MESSAGES,
  FORWARD_CONDITIONS,
  RING_SECONDS,
  SELECT_MODES,
  destinationRefusal,
  selectListRefusal,
  startRefusal,
} from '../domain/voice-warp.ts';
import { withTransaction } from './transaction.ts';
import { replaceFaxSettings } from './fax.ts';
import { replaceVoiceWarpSettings } from './voice-warp-settings.ts';

const nationalNumber = z
  .string({ invalid_type_error: 'must be a string' })
  .regex(NATIONAL_NUMBER, 'must be a national number: 0 followed by 9–10 digits, no hyphens');

const destination = z
  .object({
    address: z.string().superRefine((a, ctx) => {
      const problem = mailAddressProblem(a);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `mail address ${problem}` });
    }),
    send: z.boolean().default(true),
  })
  .strict();

const notify = z
  .object({
    started: z.boolean().default(false),
    destinations: z.array(destination).max(MAX_DESTINATIONS, `at most ${MAX_DESTINATIONS} destinations`).default([]),
    designatedOnly: z.boolean().default(false),
    unansweredOnly: z.boolean().default(false),
    designated: z
      .array(z.union([nationalNumber, z.object({ number: nationalNumber, designated: z.boolean().default(true) }).strict()]))
      .max(MAX_DESIGNATED, `at most ${MAX_DESIGNATED} designated numbers`)
      .default([]),
  })
  .strict();

/** FAXお知らせメール: 開始／停止 and up to 5 送信先 (needs fax_mail). */
const fax = z
  .object({
    started: z.boolean().default(false),
    destinations: z.array(destination).max(MAX_DESTINATIONS, `at most ${MAX_DESTINATIONS} destinations`).default([]),
  })
  .strict();

/** ボイスワープ (voice_warp); the rules that need the number itself are in contractRuleErrors. */
const voiceWarp = z
  .object({
    started: z.boolean().default(false),
    condition: z.enum(FORWARD_CONDITIONS).default('unconditional'),
    destination: z.string().nullable().default(null),
    /** Absent: the configured default (voiceWarp.ringSecondsDefault), now and after a config change. */
    ringSeconds: z.number().int().min(RING_SECONDS.min).max(RING_SECONDS.max).nullable().default(null),
    guidance: z.boolean().default(false),
    select: z
      .object({
        started: z.boolean().default(false),
        mode: z.enum(SELECT_MODES).default('forward_listed'),
        list: z.array(nationalNumber).default([]),
      })
      .strict()
      .default({}),
  })
  .strict();

const phoneNumber = z
  .object({
    number: nationalNumber,
    role: z.enum(NUMBER_ROLES),
    services: z.array(z.enum(SERVICES, { errorMap: () => ({ message: `unknown service; known: ${SERVICES.join(', ')}` }) })).default([]),
    target: z.string().regex(/^sips?:/, 'must be a sip: or sips: URI').optional(),
    notify: notify.optional(),
    fax: fax.optional(),
    voiceWarp: voiceWarp.optional(),
    blocked: z.array(nationalNumber).default([]),
  })
  .strict();

const contract = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 letters, digits, _ or -'),
    region: z.enum(REGIONS),
    pattern: z.enum(PATTERNS),
    authUnit: z.enum(AUTH_UNITS),
    numbers: z.array(phoneNumber).min(1, 'a contract needs its main number'),
    authNumbers: z.array(nationalNumber).default([]),
  })
  .strict();

const provisioningFile = z.object({ contracts: z.array(contract) }).strict();

export type ProvisioningFile = z.infer<typeof provisioningFile>;
export type ContractInput = z.infer<typeof contract>;

/** Limits provisioning takes from the configuration. */
export interface ProvisioningLimits {
  /** voiceWarp.selectListMax */
  selectListMax: number;
}
const DEFAULT_LIMITS: ProvisioningLimits = { selectListMax: DEFAULT_SELECT_LIST_MAX };

export interface ValidationResult {
  file?: ProvisioningFile;
  errors: string[];
}

function pathText(path: (string | number)[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/**
 * Checks a whole file. Field errors (shape, formats, limits) and the rules that span fields,
 * numbers or contracts are checked together, so one run lists everything to fix.
 */
export function validateProvisioning(input: unknown, limits: ProvisioningLimits = DEFAULT_LIMITS): ValidationResult {
  const parsed = provisioningFile.safeParse(input);
  const errors = parsed.success ? [] : parsed.error.issues.map((i) => `${pathText(i.path) || '(file)'}: ${i.message}`);
  errors.push(...contractRuleErrors(input, limits));
  return parsed.success && errors.length === 0 ? { file: parsed.data, errors } : { errors };
}

// The rules below read the raw input, so they also run where some field is malformed; a
// value they cannot read is left to the field errors.
const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
const field = (x: unknown, key: string): unknown => (x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>)[key] : undefined);
const numberIn = (x: unknown): string | undefined => (typeof x === 'string' && NATIONAL_NUMBER.test(x) ? x : undefined);

function contractRuleErrors(input: unknown, limits: ProvisioningLimits): string[] {
  const errors: string[] = [];
  const contractAt = new Map<string, number>();
  /** Every number of every contract in the file → where it is given, and its contract's id. */
  const numberAt = new Map<string, { where: string; contract: unknown }>();
  const authAt = new Map<string, { where: string; contract: unknown }>();
  const contracts = list(field(input, 'contracts'));
  contracts.forEach((c, ci) => {
    const id = field(c, 'id');
    if (typeof id === 'string') {
      const prev = contractAt.get(id);
      if (prev !== undefined) errors.push(`contracts[${ci}].id: contract ${id} already given at contracts[${prev}]`);
      else contractAt.set(id, ci);
    }
    const numbers = list(field(c, 'numbers'));
    const mains = numbers.filter((n) => field(n, 'role') === 'main').length;
    // An empty list already has its field error ("a contract needs its main number").
    if (numbers.length > 0 && mains !== 1) errors.push(`contracts[${ci}].numbers: exactly one main number (契約者回線番号) is required, found ${mains}`);
    numbers.forEach((n, ni) => {
      const where = `contracts[${ci}].numbers[${ni}]`;
      const number = numberIn(field(n, 'number'));
      if (number) {
        const other = numberAt.get(number);
        if (other) errors.push(`${where}.number: ${number} is already given at ${other.where}`);
        else numberAt.set(number, { where, contract: id });
      }
      const services = list(field(n, 'services'));
      const notify = field(n, 'notify');
      if (notify !== undefined && !services.includes('chakushin_mail')) {
        errors.push(`${where}.notify: notify settings given but the number does not subscribe chakushin_mail`);
      }
      const faxSettings = field(n, 'fax');
      if (faxSettings !== undefined && !services.includes('fax_mail')) {
        errors.push(`${where}.fax: FAX settings given but the number does not subscribe fax_mail`);
      }
      if (field(faxSettings, 'started') === true && list(field(faxSettings, 'destinations')).length === 0) {
        errors.push(`${where}.fax.started: the service cannot be started without a destination address`);
      }
      if (field(notify, 'started') === true && list(field(notify, 'destinations')).length === 0) {
        // The guides: 本サービスを「開始」するには、あらかじめ「送信先メールアドレス設定」が必要です。
        errors.push(`${where}.notify.started: the service cannot be started without a destination address`);
      }
      if (list(field(n, 'blocked')).length > 0 && !services.includes('nuisance_block')) {
        errors.push(`${where}.blocked: block list given but the number does not subscribe nuisance_block`);
      }
      errors.push(...voiceWarpRuleErrors(`${where}.voiceWarp`, number, services, field(n, 'voiceWarp'), limits));
      const designated = list(field(notify, 'designated')).map((d) => numberIn(d) ?? numberIn(field(d, 'number')));
      designated.forEach((d, di) => {
        if (d !== undefined && designated.indexOf(d) !== di) errors.push(`${where}.notify.designated[${di}]: ${d} is listed twice`);
      });
    });
    list(field(c, 'authNumbers')).forEach((a, ai) => {
      const number = numberIn(a);
      if (!number) return;
      const where = `contracts[${ci}].authNumbers[${ai}]`;
      const other = authAt.get(number);
      // The IVR finds a caller's contract by the number: it must lead to one contract only.
      if (other && other.contract !== id) errors.push(`${where}: ${number} is already an auth number (認証用番号) of another contract at ${other.where}`);
      else if (!other) authAt.set(number, { where, contract: id });
    });
  });
  for (const [number, auth] of authAt) {
    const own = numberAt.get(number);
    if (own && own.contract !== auth.contract) {
      errors.push(`${auth.where}: ${number} is a number of another contract (${own.where}); a call from it would be that contract's`);
    }
  }
  return errors;
}

/** The ボイスワープ rules of src/domain/voice-warp.ts, for one number's block as given. */
function voiceWarpRuleErrors(where: string, number: string | undefined, services: unknown[], vw: unknown, limits: ProvisioningLimits): string[] {
  if (vw === undefined) return [];
  const errors: string[] = [];
  if (!services.includes('voice_warp')) errors.push(`${where}: voiceWarp settings given but the number does not subscribe voice_warp`);
  const destination = field(vw, 'destination');
  if (typeof destination === 'string' && number) {
    const refusal = destinationRefusal(destination, number);
    if (refusal) errors.push(`${where}.destination: ${refusal}: ${DESTINATION_MESSAGES[refusal]}`);
    else if (!NATIONAL_NUMBER.test(destination)) errors.push(`${where}.destination: give the digits only, e.g. 0612345678`);
  }
  const start = startRefusal({ started: field(vw, 'started') === true, destination: typeof destination === 'string' ? destination : null });
  if (start) errors.push(`${where}.started: ${start}`);
  const select = field(vw, 'select');
  const numbers = list(field(select, 'list')).filter((x): x is string => typeof x === 'string');
  const listProblem = selectListRefusal(numbers.filter((x) => NATIONAL_NUMBER.test(x)), limits.selectListMax);
  if (listProblem && listProblem.refusal !== 'format') errors.push(`${where}.select.list: ${listProblem.message}`);
  if (field(select, 'started') === true && numbers.length === 0) errors.push(`${where}.select.started: セレクト機能リストに電話番号を登録してから開始してください。`);
  return errors;
}

export class ProvisioningError extends Error {
  constructor(readonly errors: string[]) {
    super(`provisioning rejected, nothing was changed:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
    this.name = 'ProvisioningError';
  }
}

export interface ProvisioningSummary {
  contracts: number;
  numbers: number;
}

/**
 * Loads a validated file. A listed contract is described whole: its numbers, auth numbers,
 * block lists and notify settings become exactly what the file says (numbers it no longer
 * lists are removed). Contracts not in the file are untouched.
 */
export async function applyProvisioning(pool: pg.Pool, input: unknown, actor = 'provision', limits: ProvisioningLimits = DEFAULT_LIMITS): Promise<ProvisioningSummary> {
  const { file, errors } = validateProvisioning(input, limits);
  return withTransaction(pool, async (client) => {
    // One provisioning at a time: the checks against other contracts below must still hold at commit.
    await client.query(`select pg_advisory_xact_lock(hashtext('chakushin:provision'))`);
    // Checked for a bad file too, so one run lists everything to fix.
    const conflicts = await conflictsWithOtherContracts(client, input);
    if (!file || conflicts.length) throw new ProvisioningError([...errors, ...conflicts]);
    let numbers = 0;
    for (const c of file.contracts) {
      await upsertContract(client, c);
      numbers += c.numbers.length;
    }
    await client.query('insert into audit_log (actor, action, detail) values ($1, $2, $3)', [
      actor,
      'provision',
      JSON.stringify({ contracts: file.contracts.map((c) => c.id) }),
    ]);
    return { contracts: file.contracts.length, numbers };
  });
}

/**
 * What the file would take from, or share with, contracts it does not describe: a number of
 * theirs, or an auth number (認証用番号) of theirs, either way round. Each would leave the IVR
 * unable to tell which contract a call from that number is for. Reads the raw input, like
 * the file's own rules, so it also runs for a file with field errors.
 */
async function conflictsWithOtherContracts(client: pg.PoolClient, input: unknown): Promise<string[]> {
  const ids: string[] = [];
  const claims: { where: string; number: string; as: 'number' | 'auth' }[] = [];
  list(field(input, 'contracts')).forEach((c, ci) => {
    const id = field(c, 'id');
    if (typeof id === 'string') ids.push(id);
    list(field(c, 'numbers')).forEach((n, ni) => {
      const number = numberIn(field(n, 'number'));
      if (number) claims.push({ where: `contracts[${ci}].numbers[${ni}].number`, number, as: 'number' });
    });
    list(field(c, 'authNumbers')).forEach((a, ai) => {
      const number = numberIn(a);
      if (number) claims.push({ where: `contracts[${ci}].authNumbers[${ai}]`, number, as: 'auth' });
    });
  });
  if (claims.length === 0) return [];
  const others = await client.query<{ number: string; contract_id: string; kind: 'number' | 'auth' }>(
    `select number, contract_id, 'number' as kind from phone_number where number = any($1) and not (contract_id = any($2))
     union all
     select number, contract_id, 'auth' from auth_number where number = any($1) and not (contract_id = any($2))`,
    [claims.map((c) => c.number), ids],
  );
  return claims.flatMap(({ where, number, as }) =>
    others.rows
      .filter((o) => o.number === number)
      .map((o) => {
        if (as === 'number') {
          return o.kind === 'number'
            ? `${where}: ${number} belongs to contract ${o.contract_id}; remove it there first`
            : `${where}: ${number} is an auth number (認証用番号) of contract ${o.contract_id}; remove it there first`;
        }
        return o.kind === 'number'
          ? `${where}: ${number} is a number of contract ${o.contract_id}; a call from it would be that contract's`
          : `${where}: ${number} is already an auth number (認証用番号) of contract ${o.contract_id}`;
      }),
  );
}

async function upsertContract(client: pg.PoolClient, c: ContractInput): Promise<void> {
  await client.query(
    `insert into contract (id, region, pattern, auth_unit) values ($1, $2, $3, $4)
     on conflict (id) do update set region = excluded.region, pattern = excluded.pattern,
       auth_unit = excluded.auth_unit, updated_at = now()`,
    [c.id, c.region, c.pattern, c.authUnit],
  );
  const listed = c.numbers.map((n) => n.number);
  await client.query('delete from phone_number where contract_id = $1 and not (number = any($2))', [c.id, listed]);
  // Numbers may swap roles (main ↔ additional) or move between contracts of this file;
  // demote first so the one-main-per-contract index holds at every step.
  await client.query(`update phone_number set role = 'additional' where number = any($1)`, [listed]);
  for (const n of c.numbers.filter((x) => x.role === 'additional').concat(c.numbers.filter((x) => x.role === 'main'))) {
    await client.query(
      `insert into phone_number (number, contract_id, role, services, sip_target) values ($1, $2, $3, $4, $5)
       on conflict (number) do update set contract_id = excluded.contract_id, role = excluded.role,
         services = excluded.services, sip_target = excluded.sip_target, updated_at = now()`,
      [n.number, c.id, n.role, [...new Set(n.services)], n.target ?? null],
    );
    await client.query('delete from blocked_caller where number = $1', [n.number]);
    for (const b of new Set(n.blocked)) {
      await client.query('insert into blocked_caller (number, caller_number) values ($1, $2)', [n.number, b]);
    }
    await replaceNotifySettings(client, n.number, n.notify);
    await replaceFaxSettings(client, n.number, n.fax);
    await replaceVoiceWarpSettings(client, n.number, n.voiceWarp ?? null);
  }
  await client.query('delete from auth_number where contract_id = $1', [c.id]);
  for (const a of new Set(c.authNumbers)) {
    await client.query('insert into auth_number (contract_id, number) values ($1, $2)', [c.id, a]);
  }
}

async function replaceNotifySettings(client: pg.PoolClient, number: string, notify: ContractInput['numbers'][number]['notify']) {
  if (!notify) {
    await client.query('delete from notify_setting where number = $1', [number]);
    return;
  }
  await client.query(
    `insert into notify_setting (number, started, designated_only, unanswered_only) values ($1, $2, $3, $4)
     on conflict (number) do update set started = excluded.started, designated_only = excluded.designated_only,
       unanswered_only = excluded.unanswered_only, updated_at = now()`,
    [number, notify.started, notify.designatedOnly, notify.unansweredOnly],
  );
  await client.query('delete from notify_destination where number = $1', [number]);
  await client.query('delete from notify_designated where number = $1', [number]);
  for (const [i, d] of notify.destinations.entries()) {
    await client.query('insert into notify_destination (number, position, address, send) values ($1, $2, $3, $4)', [number, i + 1, d.address, d.send]);
  }
  for (const [i, d] of notify.designated.entries()) {
    const entry = typeof d === 'string' ? { number: d, designated: true } : d;
    await client.query('insert into notify_designated (number, position, caller_number, designated) values ($1, $2, $3, $4)', [
      number,
      i + 1,
      entry.number,
      entry.designated,
    ]);
  }
}
