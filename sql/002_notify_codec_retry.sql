-- 002: 高音質電話 retry lookup. When a call ends in 488/415 its mails wait codecRetryWindowSec;
-- a standard-quality retry of the same caller → called within the window cancels them.
-- This partial index keeps that per-INVITE check cheap.
create index incoming_call_codec_retry on incoming_call (called_number, end_at desc)
  where final_status in (415, 488);
