// line_probe and line_event: the lines the 故障・回復通知 prober watches, their state, and each
// 故障/回復 declared. Any number of instances share them: a line is leased to one instance while
// its probe is out (claimDueLines), and its state only ever changes under its row lock
// (lockLines / lockLineOfNumber), so one result is applied once to the state all instances see.
import type pg from 'pg';
import type { LineHealth, LineState } from '../domain/line-health.ts';

type Queryable = pg.Pool | pg.PoolClient;

export interface LineKey {
  contractId: string;
  /** A SIP target, or a number probed at notify.nextHop (isNumberLine). */
  line: string;
}

export interface LineRow extends LineKey {
  health: LineHealth;
  stateSince: Date;
  /** The instance that claimed it last and has not settled it (a holder whose lease ran out still counts until another claims it). */
  leaseHolder: string | null;
  probeSoon: boolean;
}

/** A line that is a number (no SIP target of its own): probed at notify.nextHop as the number. */
export function isNumberLine(line: string): boolean {
  return /^0[0-9]{9,10}$/.test(line);
}

/**
 * Makes the contract's probed lines what its numbers and its 故障・回復通知 say: one line per SIP
 * target and per number without one while the service is started, none otherwise. Lines that stay
 * keep their state; new ones are probed at once. Call it in the transaction that changed either.
 */
export async function syncContractLines(client: pg.PoolClient, contractId: string): Promise<void> {
  await client.query(
    `with wanted as (
       select distinct coalesce(p.sip_target, p.number) as line
         from phone_number p join failure_notice_setting f on f.contract_id = p.contract_id and f.started
        where p.contract_id = $1),
     gone as (
       delete from line_probe l where l.contract_id = $1 and not exists (select 1 from wanted w where w.line = l.line))
     insert into line_probe (contract_id, line) select $1, line from wanted on conflict do nothing`,
    [contractId],
  );
}

/**
 * Leases up to `limit` lines due for a probe to `holder` for `leaseSec` (a line whose lease ran
 * out, its holder gone, is due again). Oldest due first.
 */
export async function claimDueLines(db: Queryable, opts: { holder: string; leaseSec: number; limit: number }): Promise<LineKey[]> {
  const { rows } = await db.query<{ contract_id: string; line: string }>(
    `with due as (
       select contract_id, line from line_probe
        where next_probe_at <= now() and (lease_until is null or lease_until < now())
        order by next_probe_at
        limit $1
        for update skip locked)
     update line_probe l set lease_holder = $2, lease_until = now() + make_interval(secs => $3), probe_soon = false
       from due where l.contract_id = due.contract_id and l.line = due.line
     returning l.contract_id, l.line`,
    [opts.limit, opts.holder, opts.leaseSec],
  );
  return rows.map((r) => ({ contractId: r.contract_id, line: r.line }));
}

/** Gives back every lease `holder` still has (a stopping prober), so the lines are due for others at once. */
export async function releaseLeases(db: Queryable, holder: string): Promise<void> {
  await db.query('update line_probe set lease_holder = null, lease_until = null where lease_holder = $1', [holder]);
}

interface Row {
  contract_id: string;
  line: string;
  state: LineState;
  state_since: Date;
  fails: number;
  answers: number;
  down_at: Date | null;
  recovered: boolean;
  lease_holder: string | null;
  probe_soon: boolean;
}

const ROW_COLUMNS = 'contract_id, line, state, state_since, fails, answers, down_at, recovered, lease_holder, probe_soon';

function lineRow(r: Row): LineRow {
  return {
    contractId: r.contract_id,
    line: r.line,
    health: { state: r.state, fails: r.fails, answers: r.answers, downAt: r.down_at, recovered: r.recovered },
    stateSince: r.state_since,
    leaseHolder: r.lease_holder,
    probeSoon: r.probe_soon,
  };
}

/** The lines, locked for this transaction (always in key order, so two writers never deadlock on them). */
export async function lockLines(client: pg.PoolClient, keys: LineKey[]): Promise<LineRow[]> {
  if (keys.length === 0) return [];
  const { rows } = await client.query<Row>(
    `select ${ROW_COLUMNS} from line_probe
      where (contract_id, line) in (select * from unnest($1::text[], $2::text[]))
      order by contract_id, line
      for update`,
    [keys.map((k) => k.contractId), keys.map((k) => k.line)],
  );
  return rows.map(lineRow);
}

/** The probed line a number is on, locked; undefined when the number's contract has no probed line for it. */
export async function lockLineOfNumber(client: pg.PoolClient, number: string): Promise<LineRow | undefined> {
  const { rows } = await client.query<Row>(
    `select ${ROW_COLUMNS.split(', ').map((c) => `l.${c}`).join(', ')}
       from phone_number p join line_probe l on l.contract_id = p.contract_id and l.line = coalesce(p.sip_target, p.number)
      where p.number = $1
      for update of l`,
    [number],
  );
  return rows[0] && lineRow(rows[0]);
}

export interface LineUpdate extends LineKey {
  health: LineHealth;
  /** The state changed now (state_since moves). */
  stateChanged: boolean;
  /** What was said last, for the operator: a ProbeResult, 'held' or a call's. */
  result: string;
  /** The final status of a probe, or of the failed call. */
  status: number | null;
  at: Date;
  /** A probe result: the next probe is due an interval from now (sooner if a call failed meanwhile). */
  probed?: { holder: string; intervalSec: number };
}

/**
 * Writes the lines' new health in one statement. A probe's result also ends the prober's lease
 * and sets the next probe; a call's result asks for a probe soon (at once when none is out).
 */
export async function saveLines(client: pg.PoolClient, updates: LineUpdate[]): Promise<void> {
  if (updates.length === 0) return;
  await client.query(
    `update line_probe l set
        state = u.state, fails = u.fails, answers = u.answers, down_at = u.down_at, recovered = u.recovered,
        state_since = case when u.state_changed then u.at else l.state_since end,
        last_result = u.result, last_status = u.status, last_probe_at = u.at,
        next_probe_at = case
          when u.holder is not null and l.probe_soon then now()
          when u.holder is not null then now() + make_interval(secs => u.interval_sec)
          when l.lease_holder is null or l.lease_until < now() then now()
          else l.next_probe_at end,
        probe_soon = case when u.holder is not null then false when l.lease_holder is not null and l.lease_until >= now() then true else l.probe_soon end,
        lease_holder = case when u.holder is not null then null else l.lease_holder end,
        lease_until = case when u.holder is not null then null else l.lease_until end
       from json_to_recordset($1::json) as u(contract_id text, line text, state text, fails int, answers int, down_at timestamptz,
            recovered boolean, state_changed boolean, result text, status int, at timestamptz, holder text, interval_sec float8)
      where l.contract_id = u.contract_id and l.line = u.line
        and (u.holder is null or l.lease_holder = u.holder)`,
    [
      JSON.stringify(
        updates.map((u) => ({
          contract_id: u.contractId, line: u.line, state: u.health.state, fails: u.health.fails, answers: u.health.answers,
          down_at: u.health.downAt, recovered: u.health.recovered, state_changed: u.stateChanged, result: u.result, status: u.status,
          at: u.at, holder: u.probed?.holder ?? null, interval_sec: u.probed?.intervalSec ?? 0,
        })),
      ),
    ],
  );
}

/** The numbers on a line now (its SIP target's, or the one number). */
export async function numbersOfLine(db: Queryable, key: LineKey): Promise<string[]> {
  const { rows } = await db.query<{ number: string }>(
    `select number from phone_number where contract_id = $1 and coalesce(sip_target, number) = $2 order by role desc, number`,
    [key.contractId, key.line],
  );
  return rows.map((r) => r.number);
}

/** Whether any other line of the contract is 故障 now (一括転送 is stopped automatically only once none is). */
export async function otherLinesDown(db: Queryable, key: LineKey): Promise<boolean> {
  const { rows } = await db.query(`select 1 from line_probe where contract_id = $1 and line <> $2 and state = 'down' limit 1`, [key.contractId, key.line]);
  return rows.length > 0;
}

export type BulkForwardAction = 'started' | 'stopped' | 'kept' | 'none';

export interface NewLineEvent extends LineKey {
  kind: 'down' | 'up';
  at: Date;
  numbers: string[];
  bulkForward: BulkForwardAction;
  cause: string;
  mails: number;
}

export async function insertLineEvent(client: pg.PoolClient, e: NewLineEvent): Promise<number> {
  const { rows } = await client.query<{ id: number }>(
    `insert into line_event (contract_id, line, kind, at, numbers, bulk_forward, cause, mails)
     values ($1, $2, $3, $4, $5, $6, $7, $8) returning id`,
    [e.contractId, e.line, e.kind, e.at, e.numbers, e.bulkForward, e.cause, e.mails],
  );
  return rows[0]!.id;
}

export interface LineEventRow extends NewLineEvent {
  id: number;
}

export async function listLineEvents(db: Queryable, opts: { contractId?: string; limit: number }): Promise<LineEventRow[]> {
  const { rows } = await db.query(
    `select id, contract_id, line, kind, at, numbers, bulk_forward, cause, mails from line_event
      where ($1::text is null or contract_id = $1) order by at desc, id desc limit $2`,
    [opts.contractId ?? null, opts.limit],
  );
  return rows.map((r) => ({
    id: Number(r.id), contractId: r.contract_id, line: r.line, kind: r.kind, at: r.at, numbers: r.numbers,
    bulkForward: r.bulk_forward, cause: r.cause, mails: r.mails,
  }));
}

/** One line as the operator sees it (`chakushin lines`). */
export interface LineView extends LineKey {
  state: LineState;
  stateSince: Date;
  fails: number;
  answers: number;
  lastResult: string | null;
  lastStatus: number | null;
  lastProbeAt: Date | null;
  nextProbeAt: Date;
  leaseHolder: string | null;
  numbers: string[];
}

export async function listLines(db: Queryable, opts: { state?: LineState; contractId?: string; limit: number }): Promise<LineView[]> {
  const { rows } = await db.query(
    `select l.contract_id, l.line, l.state, l.state_since, l.fails, l.answers, l.last_result, l.last_status, l.last_probe_at,
            l.next_probe_at, case when l.lease_until > now() then l.lease_holder end as lease_holder,
            coalesce((select array_agg(p.number order by p.number) from phone_number p
                       where p.contract_id = l.contract_id and coalesce(p.sip_target, p.number) = l.line), '{}') as numbers
       from line_probe l
      where ($1::text is null or l.state = $1) and ($2::text is null or l.contract_id = $2)
      order by l.state = 'down' desc, l.state_since desc, l.contract_id, l.line
      limit $3`,
    [opts.state ?? null, opts.contractId ?? null, opts.limit],
  );
  return rows.map((r) => ({
    contractId: r.contract_id, line: r.line, state: r.state, stateSince: r.state_since, fails: r.fails, answers: r.answers,
    lastResult: r.last_result, lastStatus: r.last_status, lastProbeAt: r.last_probe_at, nextProbeAt: r.next_probe_at,
    leaseHolder: r.lease_holder, numbers: r.numbers,
  }));
}

/** Lines per state, over every contract (chakushin_line_state). */
export async function countLinesByState(db: Queryable): Promise<Record<LineState, number>> {
  const { rows } = await db.query<{ state: LineState; n: number }>('select state, count(*)::int as n from line_probe group by state');
  const counts: Record<LineState, number> = { unknown: 0, up: 0, down: 0 };
  for (const r of rows) counts[r.state] = r.n;
  return counts;
}
