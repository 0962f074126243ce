-- 001: the subscriber data model, temp passwords, call records, mail outbox, audit log.
-- Never edit once landed: add a new numbered file instead.

-- 契約. pattern A = current settings site (ひかり電話設定サイト); B = legacy site (サービス設定ホームページ).
create table contract (
  id          text primary key check (id ~ '^[A-Za-z0-9_-]{1,64}$'),
  region      text not null check (region in ('east', 'west')),
  pattern     text not null check (pattern in ('A', 'B')),
  -- 認証単位: line 回線単位 / number 電話番号単位 / admin_user 管理者／ユーザ単位
  auth_unit   text not null check (auth_unit in ('line', 'number', 'admin_user')),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);

-- Numbers of a contract: one 契約者回線番号 (main) and any 追加番号 (additional).
create table phone_number (
  number       text primary key check (number ~ '^0[0-9]{9,10}$'),
  contract_id  text not null references contract(id) on delete cascade,
  role         text not null check (role in ('main', 'additional')),
  -- Option services this number subscribes.
  services     text[] not null default '{}' check (
                 services <@ array['chakushin_mail', 'fax_mail', 'voice_warp', 'number_request', 'nuisance_block']::text[]),
  -- Where the line itself is reached (着信お知らせメール B2BUA forwards here); null = configured next hop.
  sip_target   text,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now()
);
create unique index phone_number_one_main on phone_number (contract_id) where role = 'main';
create index phone_number_contract on phone_number (contract_id);

-- 認証用番号 (pattern B): numbers allowed to dial the legacy access number for a contract.
create table auth_number (
  contract_id  text not null references contract(id) on delete cascade,
  number       text not null check (number ~ '^0[0-9]{9,10}$'),
  primary key (contract_id, number)
);
create index auth_number_number on auth_number (number);

-- 迷惑電話おことわり: callers refused for a number.
create table blocked_caller (
  number         text not null references phone_number(number) on delete cascade,
  caller_number  text not null check (caller_number ~ '^0[0-9]{9,10}$'),
  primary key (number, caller_number)
);

-- 仮パスワード. One live temp password per (login number, realm): a new one replaces the old.
-- realm 'site' = pattern A settings site; 'chakushin_mail' / 'fax_mail' = pattern B per-service password.
create table temp_password (
  login_number     text not null references phone_number(number) on delete cascade,
  realm            text not null check (realm in ('site', 'chakushin_mail', 'fax_mail')),
  auth_unit        text check (auth_unit in ('line', 'number', 'admin_user')),
  hash             text not null,
  created_at       timestamptz not null default now(),
  expires_at       timestamptz not null,
  failed_attempts  integer not null default 0,
  used_at          timestamptz,
  primary key (login_number, realm)
);

-- The subscriber's own password (set on the settings site). previous_hash: a new password must differ from it.
create table password (
  login_number     text not null references phone_number(number) on delete cascade,
  realm            text not null check (realm in ('site', 'chakushin_mail', 'fax_mail')),
  hash             text not null,
  set_at           timestamptz not null default now(),
  failed_attempts  integer not null default 0,
  locked_at        timestamptz,
  previous_hash    text,
  primary key (login_number, realm)
);

create table session (
  id_hash       text primary key,
  login_number  text not null references phone_number(number) on delete cascade,
  realm         text not null,
  auth_unit     text,
  created_at    timestamptz not null default now(),
  last_seen_at  timestamptz not null default now(),
  expires_at    timestamptz not null
);

-- 着信お知らせメール settings, per number.
create table notify_setting (
  number            text primary key references phone_number(number) on delete cascade,
  started           boolean not null default false,
  -- あらかじめ指定した電話番号からの着信のみ
  designated_only   boolean not null default false,
  -- 応答できなかった着信のみ
  unanswered_only   boolean not null default false,
  updated_at        timestamptz not null default now()
);

-- 送信先メールアドレス: at most 5 per number, each with its 送信 flag.
create table notify_destination (
  number    text not null references notify_setting(number) on delete cascade,
  position  smallint not null check (position between 1 and 5),
  address   text not null check (length(address) <= 256),
  send      boolean not null default true,
  primary key (number, position)
);

-- お知らせ対象電話番号: at most 30 per number, each with its 指定 flag.
create table notify_designated (
  number         text not null references notify_setting(number) on delete cascade,
  position       smallint not null check (position between 1 and 30),
  caller_number  text not null check (caller_number ~ '^0[0-9]{9,10}$'),
  designated     boolean not null default false,
  primary key (number, position)
);

-- One row per call to a temp-password access number.
create table ivr_call (
  id             bigserial primary key,
  call_id        text not null,
  access_number  text not null,
  caller         text,
  pattern        text check (pattern in ('A', 'B')),
  unit           text,
  target         text,
  -- completed / failed_3_strikes / caller_hung_up / rejected / store_failed
  outcome        text not null,
  reason         text,
  started_at     timestamptz not null,
  ended_at       timestamptz not null,
  duration_ms    integer not null
);
create index ivr_call_started on ivr_call (started_at desc);

-- One row per 着信 seen on the notify path.
create table incoming_call (
  id              bigserial primary key,
  call_id         text not null,
  called_number   text not null,
  caller_number   text,
  -- 非通知理由: 非通知 / 公衆 / 表示圏外; null when the number was shown.
  absent_reason   text,
  invite_at       timestamptz not null,
  ring_at         timestamptz,
  answer_at       timestamptz,
  end_at          timestamptz not null,
  final_status    integer,
  -- 着信状態: 通話 / 応答なし / 転送; null when the call was refused (number request, block list).
  status          text,
  ring_seconds    integer,
  refused_by      text,
  unique (call_id, called_number)
);
create index incoming_call_end on incoming_call (end_at desc);

-- Mails waiting for or done with delivery. Written in the same transaction as the record they report.
create table mail_outbox (
  id               bigserial primary key,
  kind             text not null check (kind in ('notify', 'test')),
  incoming_call_id bigint references incoming_call(id),
  to_address       text not null,
  from_address     text not null,
  subject          text not null,
  body             text not null,
  charset          text not null,
  state            text not null default 'pending' check (state in ('pending', 'sent', 'failed')),
  attempts         integer not null default 0,
  next_attempt_at  timestamptz not null default now(),
  give_up_at       timestamptz not null,
  last_error       text,
  created_at       timestamptz not null default now(),
  sent_at          timestamptz,
  -- One call never yields two mails to the same address.
  unique (incoming_call_id, to_address)
);
create index mail_outbox_due on mail_outbox (next_attempt_at) where state = 'pending';

create table audit_log (
  id       bigserial primary key,
  at       timestamptz not null default now(),
  actor    text not null,
  action   text not null,
  subject  text,
  detail   jsonb not null default '{}'
);
create index audit_log_at on audit_log (at desc);
