// Everything the notify path needs about a called number, read with one query per call.
import type pg from 'pg';
import type { Pattern, Region } from '../domain/subscriber.ts';

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
                and i.caller_number is not distinct from $2 and i.end_at > now() - make_interval(secs => $3)) as recent_codec_rejection
  from phone_number p join contract c on c.id = p.contract_id
  left join notify_setting s on s.number = p.number
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
}

/** undefined when the number is not provisioned at all. */
export async function loadNotifyProfile(
  db: pg.Pool | pg.PoolClient,
  number: string,
  callerNumber: string | null,
  codecRetryWindowSec: number,
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
  };
}
