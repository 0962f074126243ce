// Provisioning of 回線情報通知機能: the service providers (通知先), the lines with their IPv6
// prefix and アクセスキー, and each line's 「通知する」 set. Same semantics as contracts: a listed
// line is described whole, lines not listed are untouched, loading a file twice changes nothing,
// and a file with any bad entry changes nothing, every problem reported with its JSON path.
import type pg from 'pg';
import { z } from 'zod';
import { CUSTOMER_ID, parsePrefix, prefixesOverlap, type Ipv6Prefix } from '../domain/line-info.ts';
import { writeAudit } from './audit.ts';
import { hashPassword, verifyPassword } from './password-hash.ts';
import { withTransaction } from './transaction.ts';

/** アクセスキー as the operator's file gives it in plain text: 4–32 half-width letters and digits. */
const ACCESS_KEY = /^[0-9A-Za-z]{4,32}$/;
const SCRYPT_HASH = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;

const provider = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1–32 letters, digits, _ or -'),
    serviceName: z.string().min(1).max(64),
    name: z.string().min(1).max(128),
  })
  .strict();

const notifyEntry = z.union([
  z.string(),
  z.object({ provider: z.string(), since: z.string().datetime({ offset: true, message: 'must be an ISO 8601 date-time with offset' }).optional() }).strict(),
]);

const line = z
  .object({
    customerId: z.string().regex(CUSTOMER_ID, 'must be an お客さまID: CAF and 10 digits'),
    prefix: z.string().superRefine((p, ctx) => {
      const parsed = parsePrefix(p);
      if (parsed === 'syntax') ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be an IPv6 prefix like 2001:db8:1234:5600::/56' });
      else if (parsed === 'host_bits') ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'has bits set after the prefix length' });
    }),
    accessKey: z.string().regex(ACCESS_KEY, 'must be 4–32 half-width letters and digits').optional(),
    accessKeyHash: z.string().regex(SCRYPT_HASH, 'must be a scrypt hash as chakushin writes it (scrypt$N$r$p$salt$key)').optional(),
    /** Providers set to 通知する; every other provider is 通知しない. */
    notify: z.array(notifyEntry).default([]),
  })
  .strict()
  .superRefine((l, ctx) => {
    if (l.accessKey && l.accessKeyHash) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['accessKeyHash'], message: 'give accessKey or accessKeyHash, not both' });
  });

const lineInfoFile = z
  .object({ lineInfo: z.object({ providers: z.array(provider).default([]), lines: z.array(line).default([]) }).strict() })
  .strict();

export type LineInfoFile = z.infer<typeof lineInfoFile>;

function pathText(path: (string | number)[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

const providerOf = (n: z.infer<typeof notifyEntry>) => (typeof n === 'string' ? n : n.provider);

/** Checks a whole file, including duplicates and overlapping prefixes within it. */
export function validateLineInfo(input: unknown): { file?: LineInfoFile; errors: string[] } {
  const parsed = lineInfoFile.safeParse(input);
  if (!parsed.success) return { errors: parsed.error.issues.map((i) => `${pathText(i.path) || '(file)'}: ${i.message}`) };
  const { providers, lines } = parsed.data.lineInfo;
  const errors: string[] = [];
  const seenProvider = new Map<string, number>();
  providers.forEach((p, i) => {
    const prev = seenProvider.get(p.id);
    if (prev !== undefined) errors.push(`lineInfo.providers[${i}].id: provider ${p.id} already given at lineInfo.providers[${prev}]`);
    else seenProvider.set(p.id, i);
  });
  const seenLine = new Map<string, number>();
  const prefixes: { prefix: Ipv6Prefix; at: number }[] = [];
  lines.forEach((l, i) => {
    const where = `lineInfo.lines[${i}]`;
    const prev = seenLine.get(l.customerId);
    if (prev !== undefined) errors.push(`${where}.customerId: ${l.customerId} already given at lineInfo.lines[${prev}]`);
    else seenLine.set(l.customerId, i);
    const prefix = parsePrefix(l.prefix) as Ipv6Prefix;
    const clash = prefixes.find((o) => prefixesOverlap(o.prefix, prefix));
    if (clash) errors.push(`${where}.prefix: ${l.prefix} overlaps lineInfo.lines[${clash.at}].prefix`);
    prefixes.push({ prefix, at: i });
    l.notify.forEach((n, ni) => {
      const id = providerOf(n);
      if (l.notify.findIndex((x) => providerOf(x) === id) !== ni) errors.push(`${where}.notify[${ni}]: provider ${id} is listed twice`);
    });
  });
  return errors.length ? { errors } : { file: parsed.data, errors };
}

export class LineInfoProvisioningError extends Error {
  constructor(readonly errors: string[]) {
    super(`line-info provisioning rejected, nothing was changed:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
    this.name = 'LineInfoProvisioningError';
  }
}

export interface LineInfoSummary {
  providers: number;
  lines: number;
}

/**
 * Loads a file in one transaction. A line without accessKey/accessKeyHash keeps its key (a new
 * line must have one); a plain accessKey that the stored hash already matches is not rehashed, so
 * a second load writes the same rows. 設定日 of a provider already 通知する is kept.
 */
export async function applyLineInfo(pool: pg.Pool, input: unknown, opts: { actor?: string; now?: Date } = {}): Promise<LineInfoSummary> {
  const { file, errors } = validateLineInfo(input);
  if (!file) throw new LineInfoProvisioningError(errors);
  const { providers, lines } = file.lineInfo;
  const now = opts.now ?? new Date();
  return withTransaction(pool, async (client) => {
    // One loader at a time: the checks below read what the writes depend on.
    await client.query("select pg_advisory_xact_lock(hashtext('line_info_provisioning'))");
    const ids = lines.map((l) => l.customerId);
    const existing = new Map(
      (await client.query<{ customer_id: string; access_key_hash: string }>('select customer_id, access_key_hash from line_info_line where customer_id = any($1)', [ids]))
        .rows.map((r) => [r.customer_id, r.access_key_hash]),
    );
    const known = new Set([
      ...providers.map((p) => p.id),
      ...(await client.query<{ id: string }>('select id from line_info_provider')).rows.map((r) => r.id),
    ]);
    const problems: string[] = [];
    const clashes = await client.query<{ customer_id: string; prefix: string; i: number }>(
      `select l.customer_id, l.prefix::text, f.i::int from line_info_line l
         join unnest($1::cidr[]) with ordinality as f(prefix, i) on l.prefix && f.prefix
        where l.customer_id <> all($2)`,
      [lines.map((l) => l.prefix), ids],
    );
    for (const c of clashes.rows) problems.push(`lineInfo.lines[${c.i - 1}].prefix: overlaps ${c.prefix} of line ${c.customer_id}, which this file does not list`);
    lines.forEach((l, i) => {
      if (!l.accessKey && !l.accessKeyHash && !existing.has(l.customerId)) problems.push(`lineInfo.lines[${i}].accessKey: a new line needs accessKey or accessKeyHash`);
      l.notify.forEach((n, ni) => {
        if (!known.has(providerOf(n))) problems.push(`lineInfo.lines[${i}].notify[${ni}]: unknown provider ${providerOf(n)}`);
      });
    });
    if (problems.length) throw new LineInfoProvisioningError(problems);

    for (const p of providers) {
      await client.query(
        `insert into line_info_provider (id, service_name, name) values ($1, $2, $3)
         on conflict (id) do update set service_name = excluded.service_name, name = excluded.name`,
        [p.id, p.serviceName, p.name],
      );
    }
    // Listed lines may trade prefixes within one file: the exclusion is checked at commit (deferred).
    for (const l of lines) {
      const old = existing.get(l.customerId);
      const hash = l.accessKeyHash ?? (l.accessKey ? (old && (await verifyPassword(l.accessKey, old)) ? old : await hashPassword(l.accessKey)) : old!);
      await client.query(
        `insert into line_info_line (customer_id, prefix, access_key_hash) values ($1, $2, $3)
         on conflict (customer_id) do update set prefix = excluded.prefix, access_key_hash = excluded.access_key_hash`,
        [l.customerId, l.prefix, hash],
      );
      const wanted = l.notify.map((n) => ({ provider: providerOf(n), since: typeof n === 'string' || !n.since ? now : new Date(n.since) }));
      await client.query('delete from line_info_notify where customer_id = $1 and provider_id <> all($2)', [l.customerId, wanted.map((w) => w.provider)]);
      for (const w of wanted) {
        await client.query(
          `insert into line_info_notify (customer_id, provider_id, set_at, method) values ($1, $2, $3, 'order')
           on conflict (customer_id, provider_id) do nothing`,
          [l.customerId, w.provider, w.since],
        );
      }
    }
    await writeAudit(client, { actor: opts.actor ?? 'provisioning', action: 'line_info.provision', subject: null, detail: { providers: providers.length, lines: lines.length }, at: now });
    return { providers: providers.length, lines: lines.length };
  });
}
