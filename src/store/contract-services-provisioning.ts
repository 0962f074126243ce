// Provisioning of the services a contract subscribes as a whole — 一括転送機能 (bulkForward) and
// 故障・回復通知機能 (failureNotice) — as part of a contract entry of the provisioning file
// (provisioning.ts): the schema, the rules across fields, and the write, which keeps the probed
// lines in step.
import type pg from 'pg';
import { z } from 'zod';
import { CONTRACT_SERVICES, mailTextProblem, mailTextRefusal } from '../domain/failure-notice.ts';
import { MAX_DESTINATIONS } from '../domain/limits.ts';
import { NATIONAL_NUMBER } from '../domain/phone-number.ts';
import { writeBulkForwardDestinations } from './bulk-forward-settings.ts';
import { writeFailureNoticeDestinations } from './failure-notice-settings.ts';
import { syncContractLines } from './line-probes.ts';
import { forwardDestinationProblem, mailDestination, nationalNumber } from './provisioning-fields.ts';

const mailText = z.string().superRefine((v, ctx) => {
  const refusal = mailTextRefusal(v);
  if (refusal) ctx.addIssue({ code: z.ZodIssueCode.custom, message: mailTextProblem(refusal) });
});

/** 故障・回復通知機能. */
export const failureNoticeSchema = z
  .object({
    started: z.boolean().default(false),
    contractorName: mailText.default(''),
    siteInfo: mailText.default(''),
    destinations: z.array(mailDestination).max(MAX_DESTINATIONS, `at most ${MAX_DESTINATIONS} destinations`).default([]),
    autoStartBulkForward: z.boolean().default(false),
    autoStopBulkForward: z.boolean().default(false),
  })
  .strict();

/** 一括転送機能: the 転送先 of the contract's numbers (転送先 rules in contractServiceRuleErrors). */
export const bulkForwardSchema = z
  .object({
    started: z.boolean().default(false),
    destinations: z.array(z.object({ number: nationalNumber, destination: z.string({ invalid_type_error: 'must be a string' }) }).strict()).default([]),
  })
  .strict();

/** The fields a contract entry gains. */
export const contractServiceFields = {
  services: z.array(z.enum(CONTRACT_SERVICES, { errorMap: () => ({ message: `unknown contract service; known: ${CONTRACT_SERVICES.join(', ')}` }) })).default([]),
  failureNotice: failureNoticeSchema.optional(),
  bulkForward: bulkForwardSchema.optional(),
};

export interface ContractServicesInput {
  id: string;
  services: (typeof CONTRACT_SERVICES)[number][];
  failureNotice?: z.infer<typeof failureNoticeSchema>;
  bulkForward?: z.infer<typeof bulkForwardSchema>;
  numbers: { number: string }[];
}

const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
const field = (x: unknown, key: string): unknown => (x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>)[key] : undefined);

/**
 * The rules across fields of one contract entry, read from the raw input (so they run beside the
 * field errors): each block needs its service; 開始 needs a 送信先 / a 転送先; the automatic
 * 一括転送 settings need 一括転送; a 転送先 is for a number of this contract, once, and obeys the
 * 転送先 rules (ボイスワープ's).
 */
export function contractServiceRuleErrors(where: string, c: unknown): string[] {
  const errors: string[] = [];
  const services = list(field(c, 'services'));
  const fn = field(c, 'failureNotice');
  const bf = field(c, 'bulkForward');
  if (fn !== undefined && !services.includes('failure_notice')) errors.push(`${where}.failureNotice: failureNotice settings given but the contract does not subscribe failure_notice`);
  if (bf !== undefined && !services.includes('bulk_forward')) errors.push(`${where}.bulkForward: bulkForward settings given but the contract does not subscribe bulk_forward`);
  if (field(fn, 'started') === true && list(field(fn, 'destinations')).length === 0) {
    errors.push(`${where}.failureNotice.started: the service cannot be started without a destination address`);
  }
  for (const flag of ['autoStartBulkForward', 'autoStopBulkForward']) {
    if (field(fn, flag) === true && !services.includes('bulk_forward')) errors.push(`${where}.failureNotice.${flag}: needs the contract to subscribe bulk_forward`);
  }
  const addresses = list(field(fn, 'destinations')).map((d) => field(d, 'address'));
  addresses.forEach((a, i) => {
    if (typeof a === 'string' && addresses.indexOf(a) !== i) errors.push(`${where}.failureNotice.destinations[${i}].address: ${a} is listed twice`);
  });
  const own = new Set(list(field(c, 'numbers')).map((n) => field(n, 'number')));
  const seen = new Map<unknown, number>();
  const destinations = list(field(bf, 'destinations'));
  destinations.forEach((d, i) => {
    const at = `${where}.bulkForward.destinations[${i}]`;
    const number = field(d, 'number');
    const destination = field(d, 'destination');
    if (typeof number === 'string' && NATIONAL_NUMBER.test(number)) {
      if (!own.has(number)) errors.push(`${at}.number: ${number} is not a number of this contract`);
      if (seen.has(number)) errors.push(`${at}.number: ${number} is already given at destinations[${seen.get(number)}]`);
      else seen.set(number, i);
      if (typeof destination === 'string') {
        const problem = forwardDestinationProblem(destination, number);
        if (problem) errors.push(`${at}.destination: ${problem}`);
      }
    }
  });
  if (field(bf, 'started') === true && destinations.length === 0) errors.push(`${where}.bulkForward.started: 一括転送 cannot be started without a 転送先`);
  return errors;
}

/**
 * Makes the contract's services and their settings what the entry says (a service listed without
 * its block gets the defaults; a service not listed loses its settings), then its probed lines.
 * 一括転送 that is started now and stays started keeps who started it; started by the file, it is
 * the operator's.
 */
export async function replaceContractServices(client: pg.PoolClient, c: ContractServicesInput): Promise<void> {
  await client.query('update contract set services = $2 where id = $1', [c.id, [...new Set(c.services)]]);
  if (c.services.includes('failure_notice')) {
    const fn = c.failureNotice ?? failureNoticeSchema.parse({});
    await client.query(
      `insert into failure_notice_setting (contract_id, started, contractor_name, site_info, auto_start_bulk_forward, auto_stop_bulk_forward)
       values ($1, $2, $3, $4, $5, $6)
       on conflict (contract_id) do update set started = excluded.started, contractor_name = excluded.contractor_name, site_info = excluded.site_info,
         auto_start_bulk_forward = excluded.auto_start_bulk_forward, auto_stop_bulk_forward = excluded.auto_stop_bulk_forward, updated_at = now()`,
      [c.id, fn.started, fn.contractorName, fn.siteInfo, fn.autoStartBulkForward, fn.autoStopBulkForward],
    );
    await writeFailureNoticeDestinations(client, c.id, fn.destinations, new Date());
  } else {
    await client.query('delete from failure_notice_setting where contract_id = $1', [c.id]);
  }
  // Lines before 一括転送: a 故障 takes its line's row, then 一括転送's, and so must everyone.
  await syncContractLines(client, c.id);
  if (c.services.includes('bulk_forward')) {
    const bf = c.bulkForward ?? bulkForwardSchema.parse({});
    await client.query(
      `insert into bulk_forward_setting (contract_id, started, started_by, started_at) values ($1, $2, case when $2 then 'operator' end, case when $2 then now() end)
       on conflict (contract_id) do update set
         started = excluded.started,
         started_by = case when excluded.started and bulk_forward_setting.started then bulk_forward_setting.started_by else excluded.started_by end,
         started_at = case when excluded.started and bulk_forward_setting.started then bulk_forward_setting.started_at else excluded.started_at end,
         updated_at = now()`,
      [c.id, bf.started],
    );
    const given = new Map(bf.destinations.map((d) => [d.number, d.destination]));
    await writeBulkForwardDestinations(client, c.id, c.numbers.map((n) => ({ number: n.number, destination: given.get(n.number) ?? null })), new Date());
  } else {
    await client.query('delete from bulk_forward_setting where contract_id = $1', [c.id]);
  }
}
