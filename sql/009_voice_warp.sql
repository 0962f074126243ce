-- 009: ボイスワープ (call forwarding) settings per number, as the notify path executes them and the
-- phone menu, provisioning and the settings site change them. Rules in src/domain/voice-warp.ts.

create table voice_warp_setting (
  number          text primary key references phone_number(number) on delete cascade,
  started         boolean not null default false,
  -- 転送条件: 無条件転送 / 話中時転送 / 無応答時転送 / 話中・無応答時転送
  condition       text not null default 'unconditional'
                    check (condition in ('unconditional', 'busy', 'no_answer', 'busy_no_answer')),
  -- 転送先電話番号; null until registered. 開始 needs one (checked by every writer).
  destination     text check (destination ~ '^0[0-9]{9,10}$'),
  -- 呼出秒数; null: the configured default (voiceWarp.ringSecondsDefault).
  ring_seconds    smallint check (ring_seconds between 5 and 60),
  -- 転送ガイダンス: early media 「この電話は転送されます。…」 before the forward.
  guidance        boolean not null default false,
  -- セレクト機能: forward_listed 登録番号転送 / ring_listed 登録番号着信
  select_started  boolean not null default false,
  select_mode     text not null default 'forward_listed' check (select_mode in ('forward_listed', 'ring_listed')),
  -- Stale-form check, bumped on every change (as notify_setting.version).
  version         bigint not null default 1,
  updated_at      timestamptz not null default now(),
  check (not started or destination is not null)
);

-- セレクト機能リスト: caller numbers, each once per number.
create table voice_warp_select (
  number         text not null references voice_warp_setting(number) on delete cascade,
  position       smallint not null check (position >= 1),
  caller_number  text not null check (caller_number ~ '^0[0-9]{9,10}$'),
  primary key (number, position),
  unique (number, caller_number)
);

create function voice_warp_setting_bump() returns trigger language plpgsql as $$
begin
  new.version := old.version + 1;
  return new;
end $$;
create trigger voice_warp_setting_version before update on voice_warp_setting
  for each row when (old.version = new.version)
  execute function voice_warp_setting_bump();

create function voice_warp_child_bump() returns trigger language plpgsql as $$
begin
  update voice_warp_setting set version = version + 1 where number = coalesce(new.number, old.number);
  return null;
end $$;
create trigger voice_warp_select_version after insert or update or delete on voice_warp_select
  for each row execute function voice_warp_child_bump();
