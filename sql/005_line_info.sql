-- 005: 回線情報通知機能 (West manual 004). A line (フレッツ 光ネクスト) is known by its お客さまID
-- and the IPv6 prefix the network provisioned for it; its owner chooses which service providers
-- (通知先) may learn the お客さまID. Absence of a line_info_notify row is 「通知しない」.

create table line_info_provider (
  id            text primary key,          -- サービス提供者 code, e.g. W0099
  service_name  text not null,             -- サービス名
  name          text not null              -- サービス提供者名
);

create table line_info_line (
  customer_id      text primary key check (customer_id ~ '^CAF[0-9]{10}$'),
  -- The prefix delegated to the line; a provider names the line by any address inside it.
  prefix           cidr not null check (family(prefix) = 6),
  access_key_hash  text not null,          -- scrypt, never the key
  -- Two lines never share an address (checked at commit, so one load may move prefixes between lines).
  constraint line_info_prefix_disjoint exclude using gist (prefix inet_ops with &&) deferrable initially deferred
);

-- 「通知する」 per line and provider, with 設定日 and 設定方法 ('web' 申込受付ページ, 'order' provisioning).
create table line_info_notify (
  customer_id  text not null references line_info_line(customer_id) on delete cascade,
  provider_id  text not null references line_info_provider(id) on delete cascade,
  set_at       timestamptz not null,
  method       text not null check (method in ('web', 'order')),
  primary key (customer_id, provider_id)
);
create index line_info_notify_provider on line_info_notify (provider_id);

-- An accepted application (受付). The change itself waits for the work (工事) to be due; every
-- instance's worker takes due rows with FOR UPDATE SKIP LOCKED. idempotency_key is the token of the
-- 変更内容確認 page: a double-submitted 変更 finds the application the first one made.
create sequence line_info_receipt_seq;
create table line_info_application (
  id               bigserial primary key,
  receipt_no       text not null unique,
  customer_id      text not null references line_info_line(customer_id) on delete cascade,
  idempotency_key  text not null,
  setting          text not null check (setting in ('notify', 'stop')),   -- 変更後: 通知する / 通知しない
  provider_ids     text[] not null check (cardinality(provider_ids) >= 1),
  applicant_name   text not null,
  applicant_phone  text not null,
  applicant_mail   text,
  completion_mail  boolean not null,
  accepted_at      timestamptz not null,
  due_at           timestamptz not null,
  state            text not null default 'pending' check (state in ('pending', 'done')),
  done_at          timestamptz,
  unique (customer_id, idempotency_key),
  check (not completion_mail or applicant_mail is not null)
);
create index line_info_application_due on line_info_application (due_at) where state = 'pending';

-- Failed logins, for the per-ID and per-address limits shared by every instance.
create table line_info_login_failure (
  at           timestamptz not null,
  customer_id  text,
  source       text
);
create index line_info_login_failure_id on line_info_login_failure (customer_id, at);
create index line_info_login_failure_source on line_info_login_failure (source, at);
create index line_info_login_failure_at on line_info_login_failure (at);

-- A session belongs to one realm: the settings site (a phone number) or 回線情報通知 (an お客さまID).
alter table session alter column login_number drop not null;
alter table session add column customer_id text references line_info_line(customer_id) on delete cascade;
alter table session add constraint session_one_principal check (num_nonnulls(login_number, customer_id) = 1);
create index session_customer on session (customer_id);
