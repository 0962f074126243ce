// The record every call to a temp-password access number leaves behind.
import type pg from 'pg';
import type { Pattern } from '../domain/subscriber.ts';

/** cut_off: the service hung up on the caller while shutting down. no_ack: our 200 was never acknowledged. */
export type IvrOutcome = 'completed' | 'failed_3_strikes' | 'caller_hung_up' | 'rejected' | 'store_failed' | 'cut_off' | 'no_ack';

export interface IvrCallRecord {
  callId: string;
  accessNumber: string;
  caller: string | null;
  pattern: Pattern | null;
  /** Auth unit chosen (pattern A) or service chosen (pattern B). */
  unit: string | null;
  target: string | null;
  outcome: IvrOutcome;
  /** Why a call was rejected (withheld, not_in_service, data_only, …) or where it failed. */
  reason: string | null;
  startedAt: Date;
  endedAt: Date;
}

export async function insertIvrCall(pool: pg.Pool, r: IvrCallRecord): Promise<void> {
  await pool.query(
    `insert into ivr_call (call_id, access_number, caller, pattern, unit, target, outcome, reason, started_at, ended_at, duration_ms)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [r.callId, r.accessNumber, r.caller, r.pattern, r.unit, r.target, r.outcome, r.reason, r.startedAt, r.endedAt,
      Math.max(0, r.endedAt.getTime() - r.startedAt.getTime())],
  );
}
