-- 003: the settings site (設定サイト, pattern A). Builds on 001's password, session and audit_log tables.

-- Sessions: @fastify/session keeps its data here, keyed by a hash of the session id (the id
-- itself, a bearer token, is never stored). Only logged-in sessions are saved.
alter table session add column data jsonb not null default '{}';
create index session_expires on session (expires_at);
create index session_login on session (login_number);

-- Who did it from where: the client address as the site saw it (after trusted-proxy handling).
alter table audit_log add column source text;
create index audit_log_subject on audit_log (subject, action, at desc);

-- Stale-form check: every change to a number's 着信お知らせメール settings, from the site or from
-- provisioning, bumps version; a form carries the version it was drawn from.
alter table notify_setting add column version bigint not null default 1;

create function notify_setting_bump() returns trigger language plpgsql as $$
begin
  new.version := old.version + 1;
  return new;
end $$;
-- Any update counts (provisioning rewrites the row on every load); an update that sets version
-- itself (the child-table trigger below) is not bumped twice.
create trigger notify_setting_version before update on notify_setting
  for each row when (old.version = new.version)
  execute function notify_setting_bump();

create function notify_child_bump() returns trigger language plpgsql as $$
begin
  update notify_setting set version = version + 1 where number = coalesce(new.number, old.number);
  return null;
end $$;
create trigger notify_destination_version after insert or update or delete on notify_destination
  for each row execute function notify_child_bump();
create trigger notify_designated_version after insert or update or delete on notify_designated
  for each row execute function notify_child_bump();

-- Site notices (パスワード無効 mail) go through the same outbox as 着信 and test mails.
alter table mail_outbox drop constraint mail_outbox_kind_check;
alter table mail_outbox add constraint mail_outbox_kind_check check (kind in ('notify', 'test', 'notice'));
