-- 007: the settings sites' rate limits (logins, code sends, the line-info lookup API), counted here
-- so that every instance behind the proxy counts the same hits. One row per limited route and
-- client (an address or a token digest, never a secret): a fixed window opened by its first hit.
-- Rows past their window are swept; a later hit on the same key reopens its row in place.
-- fillfactor leaves room on each page, so the update every hit makes stays a HOT update.
create table rate_limit (
  key             text primary key,
  hits            integer not null,
  window_ends_at  timestamptz not null
) with (fillfactor = 70);
