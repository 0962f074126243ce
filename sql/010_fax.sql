-- 010: FAXお知らせメール. Settings per number (started, up to 5 送信先 with their 送信 flag), every
-- FAX reception with its document as PDF (kept fax.retentionDays), and the outbox link of its mails.

create table fax_setting (
  number      text primary key references phone_number(number) on delete cascade,
  started     boolean not null default false,
  -- Stale-form check, as notify_setting (003): every change, from a site or provisioning, bumps it.
  version     bigint not null default 1,
  updated_at  timestamptz not null default now()
);

create table fax_destination (
  number    text not null references fax_setting(number) on delete cascade,
  position  smallint not null check (position between 1 and 5),
  address   text not null check (length(address) <= 256),
  send      boolean not null default true,
  primary key (number, position)
);

-- 003's notify_setting_bump() is the rule for any settings row: version + 1 on every update.
create trigger fax_setting_version before update on fax_setting
  for each row when (old.version = new.version)
  execute function notify_setting_bump();

create function fax_child_bump() returns trigger language plpgsql as $$
begin
  update fax_setting set version = version + 1 where number = coalesce(new.number, old.number);
  return null;
end $$;
create trigger fax_destination_version after insert or update or delete on fax_destination
  for each row execute function fax_child_bump();

-- One row per FAX call answered by the service's receiver. A number removed from provisioning takes
-- its FAXes with it (a reassigned number must never show the previous subscriber's documents).
create table fax_reception (
  id             bigserial primary key,
  call_id        text not null,
  called_number  text not null references phone_number(number) on delete cascade,
  -- As incoming_call: the number shown, or null with the 非通知理由 (非通知 / 公衆 / 表示圏外).
  caller_number  text,
  absent_reason  text,
  invite_at      timestamptz not null,
  -- 受信日時: when the receiver answered.
  received_at    timestamptz not null,
  ended_at       timestamptz not null,
  duration_ms    integer not null check (duration_ms >= 0),
  -- The sender's station identity (TSI), '' when none.
  remote_ident   text not null default '',
  pages          integer not null check (pages >= 0),
  -- Pixels per inch of the pages, e.g. 204x196; null without pages.
  resolution     text,
  result         text not null check (result in ('complete', 'partial', 'failed')),
  -- T.30 completion code (0 OK) and why it ended.
  t30_code       integer not null,
  t30_reason     text not null,
  transport      text not null check (transport in ('g711', 't38')),
  pdf            bytea,
  expires_at     timestamptz not null,
  unique (call_id, called_number)
);
create index fax_reception_list on fax_reception (called_number, received_at desc, id desc);
create index fax_reception_expiry on fax_reception (expires_at);

-- FAXお知らせメール go through the same outbox (kind 'notify', like the 着信 mail): once per
-- reception and address, and with the PDF attached when fax.attachPdf was on at reception.
alter table mail_outbox add column fax_reception_id bigint references fax_reception(id) on delete set null;
alter table mail_outbox add column attach_pdf boolean not null default false;
create unique index mail_outbox_fax_once on mail_outbox (fax_reception_id, to_address);
