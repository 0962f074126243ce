-- 012: 一括転送機能 and 故障・回復通知機能, the two services a contract subscribes as a whole
-- (issue 21): their settings, the probed lines with their state, and the 故障/回復 events.

-- Services of the whole contract (the per-number ones are phone_number.services).
alter table contract add column services text[] not null default '{}'
  check (services <@ array['bulk_forward', 'failure_notice']::text[]);

-- 一括転送機能: while started, every number of the contract with a 転送先 is forwarded
-- unconditionally. A row exists while the contract subscribes bulk_forward.
create table bulk_forward_setting (
  contract_id  text primary key references contract(id) on delete cascade,
  started      boolean not null default false,
  -- Who started it: subscriber (the site), operator (provisioning), service (故障, 一括転送自動開始).
  -- 回復 stops it only when the service started it.
  started_by   text check (started_by in ('subscriber', 'operator', 'service')),
  started_at   timestamptz,
  -- Stale-form check, as notify_setting (003): every change, from the site, provisioning or the service.
  version      bigint not null default 1,
  updated_at   timestamptz not null default now(),
  check (started = (started_by is not null) and started = (started_at is not null))
);
-- 003's notify_setting_bump() is the rule for any settings row: version + 1 on every update.
create trigger bulk_forward_setting_version before update on bulk_forward_setting
  for each row when (old.version = new.version)
  execute function notify_setting_bump();

-- 転送先電話番号 per number of the contract (the ボイスワープ 転送先 rules; checked by every writer).
create table bulk_forward_destination (
  number       text primary key references phone_number(number) on delete cascade,
  contract_id  text not null references bulk_forward_setting(contract_id) on delete cascade,
  destination  text not null check (destination ~ '^0[0-9]{9,10}$')
);
create index bulk_forward_destination_contract on bulk_forward_destination (contract_id);

-- 故障・回復通知機能. A row exists while the contract subscribes failure_notice.
create table failure_notice_setting (
  contract_id              text primary key references contract(id) on delete cascade,
  started                  boolean not null default false,
  -- 送信メール内容設定 (rules in src/domain/failure-notice.ts); '' when not set.
  contractor_name          text not null default '',
  site_info                text not null default '',
  -- 一括転送自動開始 (on 故障) and 一括転送自動停止 (on 回復).
  auto_start_bulk_forward  boolean not null default false,
  auto_stop_bulk_forward   boolean not null default false,
  version                  bigint not null default 1,
  updated_at               timestamptz not null default now()
);
create trigger failure_notice_setting_version before update on failure_notice_setting
  for each row when (old.version = new.version)
  execute function notify_setting_bump();

-- 送信先メールアドレス: at most 5 per contract, each with its 送信 flag.
create table failure_notice_destination (
  contract_id  text not null references failure_notice_setting(contract_id) on delete cascade,
  position     smallint not null check (position between 1 and 5),
  address      text not null check (length(address) <= 256),
  send         boolean not null default true,
  primary key (contract_id, position)
);

create function contract_settings_child_bump() returns trigger language plpgsql as $$
begin
  -- TG_ARGV[0]: the settings table whose version the child row belongs to.
  execute format('update %I set version = version + 1 where contract_id = $1', tg_argv[0])
    using coalesce(new.contract_id, old.contract_id);
  return null;
end $$;
create trigger bulk_forward_destination_version after insert or update or delete on bulk_forward_destination
  for each row execute function contract_settings_child_bump('bulk_forward_setting');
create trigger failure_notice_destination_version after insert or update or delete on failure_notice_destination
  for each row execute function contract_settings_child_bump('failure_notice_setting');

-- The lines of contracts whose 故障・回復通知 is started, as the prober sees them. A line is a SIP
-- target (the numbers sharing it are one line) or a number without one, reached at notify.nextHop.
-- Kept in step with the numbers and the setting by the writers (store/line-probes.ts syncContractLines).
create table line_probe (
  contract_id    text not null references contract(id) on delete cascade,
  line           text not null,
  -- unknown until the first verdict; up / down as declared (故障 and 回復 are the transitions).
  state          text not null default 'unknown' check (state in ('unknown', 'up', 'down')),
  state_since    timestamptz not null default now(),
  -- Consecutive failures and answers (probes, and calls that timed out or got 503).
  fails          integer not null default 0,
  answers        integer not null default 0,
  -- Hold-down: when the last 故障 was declared, and whether its 回復 has been declared since.
  down_at        timestamptz,
  recovered      boolean not null default false,
  last_result    text,
  last_status    integer,
  last_probe_at  timestamptz,
  next_probe_at  timestamptz not null default now(),
  -- A call failed while a probe was out: probe again as soon as that one is in.
  probe_soon     boolean not null default false,
  -- The instance probing the line now, until when: one line is probed by one instance at a time.
  lease_holder   text,
  lease_until    timestamptz,
  primary key (contract_id, line)
);
create index line_probe_due on line_probe (next_probe_at);

-- Every 故障 and 回復 declared, with what it did; written with its mails in one transaction.
create table line_event (
  id            bigserial primary key,
  contract_id   text not null references contract(id) on delete cascade,
  line          text not null,
  kind          text not null check (kind in ('down', 'up')),
  at            timestamptz not null,
  -- The numbers on the line at that moment.
  numbers       text[] not null,
  -- What 一括転送 did: started / stopped automatically, kept (on, and not the service's to stop), none.
  bulk_forward  text not null check (bulk_forward in ('started', 'stopped', 'kept', 'none')),
  -- The probe or call result that decided it.
  cause         text not null,
  mails         integer not null
);
create index line_event_contract on line_event (contract_id, at desc);
