-- Why the service itself ended a 着信 (null when the caller or the line did): max_ring_time (the
-- line rang past notify.maxRingSec), service_stopping, internal_error, service_crashed (recovered
-- from the call journal after the process died; final_status is then null when it was ringing).
alter table incoming_call add column end_reason text;
