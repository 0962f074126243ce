-- 007: ワンタイムパスワード for the settings site (001 p.5–13). One row per login number once the
-- subscriber has chosen; 確認用ID and 確認用パスワード are stored hashed like passwords.
create table otp_setting (
  number               text primary key references phone_number(number) on delete cascade,
  use_otp              boolean not null,
  -- 本登録 (confirmed) address; the pending one waits for its URL to be followed.
  address              text,
  pending_address      text,
  check_id_hash        text,
  check_password_hash  text,
  updated_at           timestamptz not null default now()
);

-- Single-use secrets: the 本登録 URL token (24 h) and the login code (300 s). Only a SHA-256 of
-- each is kept; a code's hash also covers a secret held by the login attempt's session, so a
-- code is good for that attempt only.
create table otp_token (
  id               bigserial primary key,
  number           text not null references phone_number(number) on delete cascade,
  kind             text not null check (kind in ('register', 'code')),
  secret_hash      text not null,
  address          text not null,
  expires_at       timestamptz not null,
  used_at          timestamptz,
  failed_attempts  integer not null default 0,
  created_at       timestamptz not null default now()
);
create unique index otp_token_secret on otp_token (secret_hash);
create index otp_token_number on otp_token (number, kind);
