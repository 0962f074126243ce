// ボイスワープ settings of one number: read, and changed one form's part at a time (開始／停止,
// 転送先, セレクト機能開始／停止, セレクト機能リスト) in one transaction with its audit row. The site's
// pages pass the version their form was drawn from (StaleFormError when someone saved in between);
// the phone menu changes whatever is saved now. Every change is checked by the domain's rules
// (applyVoiceWarpChange) against the row as locked, so no writer can store a 開始 without a 転送先.
import type pg from 'pg';
import {
  applyVoiceWarpChange,
  defaultVoiceWarpSettings,
  type VoiceWarpChange,
  type VoiceWarpErrors,
  type VoiceWarpSettings,
} from '../domain/voice-warp.ts';
import { writeAudit } from './audit.ts';
import { StaleFormError } from './notify-settings.ts';
import { withTransaction } from './transaction.ts';

export { StaleFormError };

type Queryable = pg.Pool | pg.PoolClient;

export interface StoredVoiceWarp extends VoiceWarpSettings {
  number: string;
  /** 0: no settings row yet (drawn from the defaults). */
  version: number;
}

/** A change the rules refuse: the message per field (condition, ringSeconds, started, destination, mode, select, list<n>). */
export class VoiceWarpRefusedError extends Error {
  override name = 'VoiceWarpRefusedError';
  constructor(readonly errors: VoiceWarpErrors) {
    super(`ボイスワープ change refused: ${Object.values(errors).join(' ')}`);
  }
}

export interface VoiceWarpLimits {
  /** 呼出秒数 of a number that has not set its own (voiceWarp.ringSecondsDefault). */
  ringSecondsDefault: number;
  selectListMax: number;
}

const READ_SQL = `
select s.started, s.condition, s.destination, s.ring_seconds, s.guidance, s.select_started, s.select_mode, s.version,
       coalesce((select json_agg(l.caller_number order by l.position) from voice_warp_select l where l.number = $1), '[]') as list
  from (select $1::text as number) n left join voice_warp_setting s on s.number = n.number`;

export async function readVoiceWarpSettings(db: Queryable, number: string, ringSecondsDefault: number): Promise<StoredVoiceWarp> {
  const { rows } = await db.query({ name: 'read_voice_warp_settings', text: READ_SQL, values: [number] });
  const r = rows[0];
  const d = defaultVoiceWarpSettings(ringSecondsDefault);
  if (r.version === null) return { ...d, number, version: 0 };
  return {
    number,
    version: Number(r.version),
    started: r.started,
    condition: r.condition,
    destination: r.destination,
    ringSeconds: r.ring_seconds ?? ringSecondsDefault,
    guidance: r.guidance,
    select: { started: r.select_started, mode: r.select_mode, list: r.list },
  };
}

/** Who made a change, for its audit row. */
export interface ChangeActor {
  /** The login number on the site, 'ivr' for the phone menu. */
  actor: string;
  /** Client address (site) or null. */
  source?: string | null;
  at: Date;
}

/**
 * Applies one part in one transaction: locks the number's row (made with the defaults if absent),
 * checks `expectedVersion` when given (a site form; 0 = drawn before any row existed), checks the
 * rules against what is saved, writes, and writes the audit row `voice_warp.<part>`. Throws
 * StaleFormError or VoiceWarpRefusedError, having written nothing.
 */
export async function saveVoiceWarpChange(
  pool: pg.Pool,
  number: string,
  change: VoiceWarpChange,
  who: ChangeActor,
  limits: VoiceWarpLimits,
  expectedVersion?: number,
): Promise<StoredVoiceWarp> {
  return withTransaction(pool, async (client) => {
    const created = (await client.query('insert into voice_warp_setting (number) values ($1) on conflict (number) do nothing', [number])).rowCount === 1;
    const { rows } = await client.query('select version from voice_warp_setting where number = $1 for update', [number]);
    const version = Number(rows[0].version);
    // A form drawn before the number had a row (0) is stale once another writer made one, even one
    // still at its first version (provisioning inserts without an update).
    if (expectedVersion !== undefined && (expectedVersion === 0 ? !created : version !== expectedVersion)) {
      throw new StaleFormError(`ボイスワープ settings of ${number} changed since the form was drawn`);
    }
    const current = await readVoiceWarpSettings(client, number, limits.ringSecondsDefault);
    const applied = applyVoiceWarpChange(current, change, number, limits);
    if ('errors' in applied) throw new VoiceWarpRefusedError(applied.errors);
    await writeVoiceWarpPart(client, number, change.part, applied.settings, who.at);
    await writeAudit(client, { actor: who.actor, action: `voice_warp.${change.part}`, subject: number, detail: auditDetail(change.part, applied.settings), source: who.source ?? null, at: who.at });
    return readVoiceWarpSettings(client, number, limits.ringSecondsDefault);
  });
}

/** What the audit row says of a change: the part's new values (numbers are not secret). */
function auditDetail(part: VoiceWarpChange['part'], s: VoiceWarpSettings): Record<string, unknown> {
  if (part === 'start') return { started: s.started, condition: s.condition, ringSeconds: s.ringSeconds, guidance: s.guidance };
  if (part === 'destination') return { destination: s.destination };
  if (part === 'select') return { started: s.select.started, mode: s.select.mode };
  return { list: s.select.list.length };
}

async function writeVoiceWarpPart(db: pg.PoolClient, number: string, part: VoiceWarpChange['part'], s: VoiceWarpSettings, now: Date): Promise<void> {
  if (part === 'start') {
    await db.query('update voice_warp_setting set started = $2, condition = $3, ring_seconds = $4, guidance = $5, updated_at = $6 where number = $1', [
      number, s.started, s.condition, s.ringSeconds, s.guidance, now,
    ]);
  } else if (part === 'destination') {
    await db.query('update voice_warp_setting set destination = $2, updated_at = $3 where number = $1', [number, s.destination, now]);
  } else if (part === 'select') {
    await db.query('update voice_warp_setting set select_started = $2, select_mode = $3, updated_at = $4 where number = $1', [number, s.select.started, s.select.mode, now]);
  } else {
    await writeSelectList(db, number, s.select.list);
    await db.query('update voice_warp_setting set updated_at = $2 where number = $1', [number, now]);
  }
}

async function writeSelectList(db: pg.PoolClient, number: string, list: readonly string[]): Promise<void> {
  await db.query('delete from voice_warp_select where number = $1', [number]);
  if (list.length) {
    await db.query(
      `insert into voice_warp_select (number, position, caller_number)
       select $1, l.ordinality, l.n from unnest($2::text[]) with ordinality as l(n, ordinality)`,
      [number, list],
    );
  }
}

/**
 * Provisioning: the number's settings become exactly `s` (null: no settings, the service as
 * delivered: stopped). Inside provisioning's transaction; the file was checked by the same rules.
 */
export async function replaceVoiceWarpSettings(db: pg.PoolClient, number: string, s: (Omit<VoiceWarpSettings, 'ringSeconds'> & { ringSeconds: number | null }) | null): Promise<void> {
  if (!s) {
    await db.query('delete from voice_warp_setting where number = $1', [number]);
    return;
  }
  await db.query(
    `insert into voice_warp_setting (number, started, condition, destination, ring_seconds, guidance, select_started, select_mode)
     values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (number) do update set started = excluded.started, condition = excluded.condition, destination = excluded.destination,
       ring_seconds = excluded.ring_seconds, guidance = excluded.guidance, select_started = excluded.select_started,
       select_mode = excluded.select_mode, updated_at = now()`,
    [number, s.started, s.condition, s.destination, s.ringSeconds, s.guidance, s.select.started, s.select.mode],
  );
  await writeSelectList(db, number, s.select.list);
}
