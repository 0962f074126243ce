// The call journal's rows (table call_journal, sql/011): a 着信 on the notify path from its INVITE until
// its record is committed. A worker writes its calls' events in batches, one statement each; a node
// taking over a dead worker's or node's calls reads them back. The row goes away with the record
// (store/call-records.ts), in the same statement.
import type pg from 'pg';

type Queryable = pg.Pool | pg.PoolClient | pg.Client;

/** Who holds the calls: the node (one `chakushin start`) and its worker process run. */
export interface JournalOwner {
  node: string;
  worker: string;
}

/** A call's first write: everything its record needs, as known then. JSON-ready (dates as ISO strings). */
export interface JournalInsert {
  c: string;
  n: string;
  invite_at: string;
  ring_at: string | null;
  answer_at: string | null;
  fw: boolean;
  last_at: string;
  caller: unknown;
  profile: unknown;
  legs: unknown[];
}

/** Later events of a call already written: only what changed. */
export interface JournalUpdate {
  c: string;
  n: string;
  ring_at: string | null;
  answer_at: string | null;
  fw: boolean;
  /** null: nothing but a leg happened (the call's last moment stays). */
  last_at: string | null;
  legs: unknown[];
}

/** A call the journal lets go of without a record (it is recorded elsewhere, e.g. as a FAX reception). */
export interface JournalKey {
  c: string;
  n: string;
}

/** Writes a batch of new calls, of events of calls already written, and of calls let go, as one statement. */
export async function writeJournal(db: Queryable, owner: JournalOwner, inserts: JournalInsert[], updates: JournalUpdate[], gone: JournalKey[] = []): Promise<void> {
  await db.query({
    name: 'call_journal_write',
    text: `with gone as (
             delete from call_journal j using json_to_recordset($5::json) as g(c text, n text)
              where j.call_id = g.c and j.called_number = g.n),
           ins as (
             insert into call_journal (call_id, called_number, node_id, worker, invite_at, ring_at, answer_at, forwarded, last_at, caller, profile, legs)
             select r.c, r.n, $1, $2, r.invite_at, r.ring_at, r.answer_at, r.fw, r.last_at, r.caller, r.profile, r.legs
               from json_to_recordset($3::json) as r(c text, n text, invite_at timestamptz, ring_at timestamptz, answer_at timestamptz,
                                                     fw boolean, last_at timestamptz, caller json, profile json, legs jsonb)
             on conflict (call_id, called_number) do nothing)
           update call_journal j
              set ring_at = coalesce(j.ring_at, u.ring_at), answer_at = coalesce(j.answer_at, u.answer_at),
                  forwarded = j.forwarded or u.fw, last_at = greatest(j.last_at, u.last_at), legs = j.legs || u.legs
             from json_to_recordset($4::json) as u(c text, n text, ring_at timestamptz, answer_at timestamptz, fw boolean, last_at timestamptz, legs jsonb)
            where j.call_id = u.c and j.called_number = u.n`,
    values: [owner.node, owner.worker, JSON.stringify(inserts), JSON.stringify(updates), JSON.stringify(gone)],
  });
}

export interface JournalRow {
  callId: string;
  calledNumber: string;
  node: string;
  worker: string;
  inviteAt: Date;
  ringAt: Date | null;
  answerAt: Date | null;
  forwarded: boolean;
  lastAt: Date;
  caller: unknown;
  profile: unknown;
  legs: unknown[];
}

/** The open calls of one worker run, or of every worker of one node. */
export async function journalRows(db: Queryable, of: { worker: string } | { node: string }): Promise<JournalRow[]> {
  const { rows } = await db.query(
    `select call_id, called_number, node_id, worker, invite_at, ring_at, answer_at, forwarded, last_at, caller, profile, legs
       from call_journal where ${'worker' in of ? 'worker' : 'node_id'} = $1 order by invite_at`,
    ['worker' in of ? of.worker : of.node],
  );
  return rows.map((r) => ({
    callId: r.call_id, calledNumber: r.called_number, node: r.node_id, worker: r.worker, inviteAt: r.invite_at, ringAt: r.ring_at,
    answerAt: r.answer_at, forwarded: r.forwarded, lastAt: r.last_at, caller: r.caller, profile: r.profile, legs: r.legs,
  }));
}

/** The worker runs of a node that have calls in the journal. */
export async function journalWorkers(db: Queryable, node: string): Promise<string[]> {
  const { rows } = await db.query<{ worker: string }>('select distinct worker from call_journal where node_id = $1', [node]);
  return rows.map((r) => r.worker);
}
