-- Nodes and the call journal: a 着信 in progress is on record where every node can read it, so the
-- permanent loss of its node does not lose it (docs/notify.md, "A 着信 is durable from its INVITE").

-- One row per running node (one `chakushin start`), kept alive by its heartbeat. seen_at is the last
-- moment the node is known to have been alive; once lease_until has passed, another node may take its
-- calls over (taken_by: the node doing it, itself under lease).
create table sip_node (
  id          text primary key,
  host        text not null,
  sip_address text not null,
  pid         integer not null,
  started_at  timestamptz not null default now(),
  seen_at     timestamptz not null default now(),
  lease_until timestamptz not null,
  taken_by    text
);

-- One row per 着信 on the notify path, from its INVITE until its record is committed (the record and
-- the row's removal are one statement). worker is the process run holding the call on node node_id.
-- legs: each outgoing INVITE as it went on the wire (Request-URI, Via, From, To, Call-ID, CSeq, Route,
-- destination), from which a node taking the call over builds the CANCEL (RFC 3261 §9.1).
create table call_journal (
  call_id       text not null,
  called_number text not null,
  node_id       text not null,
  worker        text not null,
  invite_at     timestamptz not null,
  ring_at       timestamptz,
  answer_at     timestamptz,
  forwarded     boolean not null default false,
  last_at       timestamptz not null,
  caller        json not null,
  profile       json not null,
  legs          jsonb not null default '[]',
  primary key (call_id, called_number)
);
create index call_journal_worker on call_journal (worker);
create index call_journal_node on call_journal (node_id);
