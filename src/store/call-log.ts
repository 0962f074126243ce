// Recent calls of both kinds, newest first, for `chakushin calls` (and later the web).
import type pg from 'pg';

export interface CallLogEntry {
  kind: 'ivr' | 'notify';
  at: string;
  callId: string;
  [field: string]: unknown;
}

export async function recentCalls(pool: pg.Pool, opts: { limit: number; kind?: 'ivr' | 'notify' }): Promise<CallLogEntry[]> {
  const out: CallLogEntry[] = [];
  if (opts.kind !== 'notify') {
    const { rows } = await pool.query(
      `select call_id, access_number, caller, pattern, unit, target, outcome, reason, started_at, duration_ms
       from ivr_call order by started_at desc, id desc limit $1`,
      [opts.limit],
    );
    for (const r of rows) {
      out.push({
        kind: 'ivr', at: r.started_at.toISOString(), callId: r.call_id, accessNumber: r.access_number, caller: r.caller,
        pattern: r.pattern, unit: r.unit, target: r.target, outcome: r.outcome, reason: r.reason, durationMs: r.duration_ms,
      });
    }
  }
  if (opts.kind !== 'ivr') {
    const { rows } = await pool.query(
      `select c.call_id, c.called_number, c.caller_number, c.absent_reason, c.invite_at, c.final_status, c.status,
              c.ring_seconds, c.refused_by,
              (select count(*)::int from mail_outbox m where m.incoming_call_id = c.id) as mails
       from incoming_call c order by c.invite_at desc, c.id desc limit $1`,
      [opts.limit],
    );
    for (const r of rows) {
      out.push({
        kind: 'notify', at: r.invite_at.toISOString(), callId: r.call_id, called: r.called_number, caller: r.caller_number,
        absentReason: r.absent_reason, finalStatus: r.final_status, status: r.status, ringSeconds: r.ring_seconds,
        refusedBy: r.refused_by, mails: r.mails,
      });
    }
  }
  return out.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0)).slice(0, opts.limit);
}
