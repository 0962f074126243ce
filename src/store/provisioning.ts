// Provisioning: how the carrier's order system loads subscribers. A file describes whole
// contracts; loading it is an idempotent upsert in one transaction, and a file with any bad
// entry changes nothing. Every problem is reported with its JSON path.
import type pg from 'pg';
import { z } from 'zod';
import { mailAddressProblem } from '../domain/mail-address.ts';
import { MAX_DESIGNATED, MAX_DESTINATIONS } from '../domain/limits.ts';
import { NATIONAL_NUMBER } from '../domain/phone-number.ts';

export const SERVICES = ['chakushin_mail', 'fax_mail', 'voice_warp', 'number_request', 'nuisance_block'] as const;

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

const phoneNumber = z
  .object({
    number: nationalNumber,
    role: z.enum(['main', 'additional']),
    services: z.array(z.enum(SERVICES, { errorMap: () => ({ message: `unknown service; known: ${SERVICES.join(', ')}` }) })).default([]),
    target: z.string().regex(/^sips?:/, 'must be a sip: or sips: URI').optional(),
    notify: notify.optional(),
    blocked: z.array(nationalNumber).default([]),
  })
  .strict();

const contract = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 letters, digits, _ or -'),
    region: z.enum(['east', 'west']),
    pattern: z.enum(['A', 'B']),
    authUnit: z.enum(['line', 'number', 'admin_user']),
    numbers: z.array(phoneNumber).min(1, 'a contract needs its main number'),
    authNumbers: z.array(nationalNumber).default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    const mains = c.numbers.filter((n) => n.role === 'main').length;
    if (mains !== 1) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['numbers'], message: `exactly one main number (契約者回線番号) is required, found ${mains}` });
    }
    c.numbers.forEach((n, i) => {
      if (n.notify && !n.services.includes('chakushin_mail')) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['numbers', i, 'notify'], message: 'notify settings given but the number does not subscribe chakushin_mail' });
      }
      if (n.notify?.started && n.notify.destinations.length === 0) {
        // The guides: 本サービスを「開始」するには、あらかじめ「送信先メールアドレス設定」が必要です。
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['numbers', i, 'notify', 'started'], message: 'the service cannot be started without a destination address' });
      }
      if (n.blocked.length && !n.services.includes('nuisance_block')) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['numbers', i, 'blocked'], message: 'block list given but the number does not subscribe nuisance_block' });
      }
    });
  });

const provisioningFile = z.object({ contracts: z.array(contract) }).strict();

export type ProvisioningFile = z.infer<typeof provisioningFile>;
export type ContractInput = z.infer<typeof contract>;

export interface ValidationResult {
  file?: ProvisioningFile;
  errors: string[];
}

function pathText(path: (string | number)[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/** Checks a whole file, including duplicates across contracts. Returns every error found. */
export function validateProvisioning(input: unknown): ValidationResult {
  const parsed = provisioningFile.safeParse(input);
  if (!parsed.success) {
    return { errors: parsed.error.issues.map((i) => `${pathText(i.path) || '(file)'}: ${i.message}`) };
  }
  const errors: string[] = [];
  const seenNumber = new Map<string, string>();
  const seenContract = new Map<string, number>();
  parsed.data.contracts.forEach((c, ci) => {
    const prev = seenContract.get(c.id);
    if (prev !== undefined) errors.push(`contracts[${ci}].id: contract ${c.id} already given at contracts[${prev}]`);
    seenContract.set(c.id, ci);
    c.numbers.forEach((n, ni) => {
      const where = `contracts[${ci}].numbers[${ni}]`;
      const other = seenNumber.get(n.number);
      if (other) errors.push(`${where}.number: ${n.number} is already given at ${other}`);
      else seenNumber.set(n.number, where);
      n.notify?.designated.forEach((d, di) => {
        const num = typeof d === 'string' ? d : d.number;
        const first = n.notify!.designated.findIndex((x) => (typeof x === 'string' ? x : x.number) === num);
        if (first !== di) errors.push(`${where}.notify.designated[${di}]: ${num} is listed twice`);
      });
    });
  });
  return errors.length ? { errors } : { file: parsed.data, errors };
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
export async function applyProvisioning(pool: pg.Pool, input: unknown, actor = 'provision'): Promise<ProvisioningSummary> {
  const { file, errors } = validateProvisioning(input);
  if (!file) throw new ProvisioningError(errors);
  const client = await pool.connect();
  try {
    await client.query('begin');
    const foreign = await client.query<{ number: string; contract_id: string }>(
      'select number, contract_id from phone_number where number = any($1)',
      [file.contracts.flatMap((c) => c.numbers.map((n) => n.number))],
    );
    const owner = new Map(foreign.rows.map((r) => [r.number, r.contract_id]));
    const moved: string[] = [];
    file.contracts.forEach((c, ci) =>
      c.numbers.forEach((n, ni) => {
        const current = owner.get(n.number);
        if (current && current !== c.id && !file.contracts.some((o) => o.id === current)) {
          moved.push(`contracts[${ci}].numbers[${ni}].number: ${n.number} belongs to contract ${current}; remove it there first`);
        }
      }),
    );
    if (moved.length) throw new ProvisioningError(moved);
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
    await client.query('commit');
    return { contracts: file.contracts.length, numbers };
  } catch (err) {
    await client.query('rollback');
    throw err;
  } finally {
    client.release();
  }
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
