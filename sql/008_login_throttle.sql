-- 008: login throttling, so that no stranger can lock a subscriber out (phone numbers and お客さまIDs
-- are not secret). Per subject (what a login names: a phone number or an お客さまID) the failures
-- of the current streak from every source, when the last attempt came, and whether the owner was
-- warned; per subject and source the failures that source made in the streak. A streak ends at a
-- right entry, when the credential is set anew, or after a long quiet (rows swept).
create table login_throttle (
  subject       text primary key,
  failures      integer not null default 0,
  streak_start  timestamptz not null,
  last_at       timestamptz not null,
  warned_at     timestamptz
);
create index login_throttle_last_at on login_throttle (last_at);

create table login_throttle_source (
  subject   text not null references login_throttle(subject) on delete cascade,
  -- An IPv4 address or an IPv6 /64: one household or one attacker's host, not one address of many.
  source    text not null,
  failures  integer not null,
  primary key (subject, source)
);
