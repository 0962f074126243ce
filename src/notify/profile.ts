// Everything the notify path needs about a called number, read with one query per call.
import type pg from 'pg';
import type { Pattern, Region } from '../domain/subscriber.ts';
import { DEFAULT_RING_SECONDS } from '../domain/voice-warp.ts';
import type { VoiceWarpRoute } from './routing.ts';

export interface NotifyDestination {
  address: string;
  send: boolean;
}

export interface NotifyProfile {
  number: string;
  services: string[];
  sipTarget: string | null;
  region: Region;
  pattern: Pattern;
  /** false too when the number has no notify settings yet. */
  started: boolean;
  designatedOnly: boolean;
  unansweredOnly: boolean;
  destinations: NotifyDestination[];
  /** The caller's number is on the お知らせ対象 list with its 指定 flag on. */
  callerDesignated: boolean;
  /** The caller's number is on the 迷惑電話 list. */
  callerBlocked: boolean;
  /** A 488/415 call from the same caller ended within the retry window (高音質電話). */
  recentCodecRejection: boolean;
  /** ボイスワープ as set now; null when the number does not subscribe voice_warp (absent in records spooled before it existed). */
  voiceWarp?: VoiceWarpRoute | null;
  /** The caller's number is on the セレクト機能 list. */
  callerSelectListed?: boolean;
}

const PROFILE_SQL = `
select p.number, p.services, p.sip_target, c.region, c.pattern,
       coalesce(s.started, false) as started,
       coalesce(s.designated_only, false) as designated_only,
       coalesce(s.unanswered_only, false) as unanswered_only,
       coalesce((select json_agg(json_build_object('address', d.address, 'send', d.send) order by d.position)
                 from notify_destination d where d.number = p.number), '[]') as destinations,
       $2::text is not null and exists (select 1 from notify_designated g
              where g.number = p.number and g.caller_number = $2 and g.designated) as caller_designated,
       $2::text is not null and exists (select 1 from blocked_caller b
              where b.number = p.number and b.caller_number = $2) as caller_blocked,
       exists (select 1 from incoming_call i
              where i.called_number = p.number and i.final_status in (415, 488)
                and i.caller_number is not distinct from $2 and i.end_at > now() - make_interval(secs => $3)) as recent_codec_rejection,
       w.number is not null as vw_row, w.started as vw_started, w.condition as vw_condition, w.destination as vw_destination,
       w.ring_seconds as vw_ring_seconds, w.guidance as vw_guidance, w.select_started as vw_select_started, w.select_mode as vw_select_mode,
       $2::text is not null and exists (select 1 from voice_warp_select l
              where l.number = p.number and l.caller_number = $2) as caller_select_listed
  from phone_number p join contract c on c.id = p.contract_id
  left join notify_setting s on s.number = p.number
  left join voice_warp_setting w on w.number = p.number
 where p.number = $1`;

interface Row {
  number: string;
  services: string[];
  sip_target: string | null;
  region: Region;
  pattern: Pattern;
  started: boolean;
  designated_only: boolean;
  unanswered_only: boolean;
  destinations: NotifyDestination[];
  caller_designated: boolean;
  caller_blocked: boolean;
  recent_codec_rejection: boolean;
  vw_row: boolean;
  vw_started: boolean | null;
  vw_condition: VoiceWarpRoute['condition'] | null;
  vw_destination: string | null;
  vw_ring_seconds: number | null;
  vw_guidance: boolean | null;
  vw_select_started: boolean | null;
  vw_select_mode: VoiceWarpRoute['select']['mode'] | null;
  caller_select_listed: boolean;
}

/** The number's ボイスワープ; a subscriber with no settings yet has it stopped. */
function voiceWarpOf(r: Row, ringSecondsDefault: number): VoiceWarpRoute | null {
  if (!r.services.includes('voice_warp')) return null;
  return {
    started: r.vw_row && r.vw_started === true,
    condition: r.vw_condition ?? 'unconditional',
    destination: r.vw_destination,
    ringSeconds: r.vw_ring_seconds ?? ringSecondsDefault,
    guidance: r.vw_guidance === true,
    select: { started: r.vw_select_started === true, mode: r.vw_select_mode ?? 'forward_listed' },
  };
}

/** undefined when the number is not provisioned at all. */
export async function loadNotifyProfile(
  db: pg.Pool | pg.PoolClient,
  number: string,
  callerNumber: string | null,
  codecRetryWindowSec: number,
  /** voiceWarp.ringSecondsDefault: the 呼出秒数 of a number that has not set its own. */
  ringSecondsDefault = DEFAULT_RING_SECONDS,
): Promise<NotifyProfile | undefined> {
  // Named: each pooled connection parses and plans it once, not on every call.
  const { rows } = await db.query<Row>({ name: 'notify_profile', text: PROFILE_SQL, values: [number, callerNumber, codecRetryWindowSec] });
  const r = rows[0];
  if (!r) return undefined;
  return {
    number: r.number,
    services: r.services,
    sipTarget: r.sip_target,
    region: r.region,
    pattern: r.pattern,
    started: r.started,
    designatedOnly: r.designated_only,
    unansweredOnly: r.unanswered_only,
    destinations: r.destinations,
    callerDesignated: r.caller_designated,
    callerBlocked: r.caller_blocked,
    recentCodecRejection: r.recent_codec_rejection,
    voiceWarp: voiceWarpOf(r, ringSecondsDefault),
    callerSelectListed: r.caller_select_listed,
  };
}
