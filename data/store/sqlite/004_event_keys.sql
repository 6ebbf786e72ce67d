-- klartext store schema, version 4 (SQLite): compact, index-light event storage.
--
-- Events are told apart by a 64-bit key kept per day in
-- event_keys instead of a unique index on events.event_id.
--
-- The unique text index cost a random B-tree insert per event (the largest single cost of a bulk
-- ingest, and one that grows with the store). An event's identity is its id, a hash of its content;
-- its time is part of that content, so two equal events fall on the same UTC day. The writer keeps
-- the keys (XXH3-64 of events.event_id) of the days it touches in memory, loaded once per day from
-- event_keys, and appends the new keys of each day as one row per commit. Store::migrate fills
-- event_keys from the events stored before this version.

CREATE TABLE event_keys (
  id INTEGER PRIMARY KEY,
  day INTEGER NOT NULL,                 -- UTC day of the events' time (time / 86400000000)
  keys BLOB NOT NULL                    -- 64-bit keys, little-endian, 8 bytes each
);
CREATE INDEX event_keys_day ON event_keys (day);

-- SQLite cannot drop a column's UNIQUE constraint: the table is rebuilt without it.
DROP VIEW case_events;
CREATE TABLE events_v4 (
  id INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL,
  report_id INTEGER NOT NULL REFERENCES reports(id),
  classification TEXT NOT NULL,
  source_ip TEXT,
  source_port INTEGER,
  time INTEGER NOT NULL,
  severity TEXT NOT NULL DEFAULT 'unknown',
  customer_id TEXT,                       -- the holder at `time`; NULL: unassigned
  case_id INTEGER,                        -- the case this event is evidence for
  json TEXT NOT NULL,
  raw_prefix_id INTEGER,                  -- event_raw_prefixes.id; NULL: no prefix
  raw BLOB                                -- evidence after the prefix; NULL: in json
);
INSERT INTO events_v4 SELECT id, event_id, report_id, classification, source_ip, source_port, time, severity,
  customer_id, case_id, json, raw_prefix_id, raw FROM events;
DROP TABLE events;
ALTER TABLE events_v4 RENAME TO events;
CREATE INDEX events_case ON events (case_id) WHERE case_id IS NOT NULL;
CREATE VIEW case_events AS SELECT case_id, id AS event_row_id FROM events WHERE case_id IS NOT NULL;

-- Cases are found by the ingest in memory (cases::CaseBook) and by people per customer: a short
-- customer index replaces the four-column key index (a random insert of ~60 bytes per new case).
DROP INDEX cases_key;
CREATE INDEX cases_customer ON cases (customer_id);

-- An event's JSON as a delta to the first event of its report (src/store/json_delta.hpp): a
-- Shadowserver row shares about 650 of its 900 JSON bytes with the other rows of its report. Rows
-- with json_base_id NULL keep the whole JSON in events.json.
CREATE TABLE event_json_bases (
  id INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE,          -- of json (lookup key)
  json TEXT NOT NULL
);
-- No REFERENCES on json_base_id: the writer checks it (as for raw_prefix_id).
ALTER TABLE events ADD COLUMN json_base_id INTEGER;  -- event_json_bases.id; NULL: events.json is whole
ALTER TABLE events ADD COLUMN json_delta BLOB;
