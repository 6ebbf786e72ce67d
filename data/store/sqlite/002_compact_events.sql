-- klartext store schema, version 2 (SQLite): compact event storage.
--
-- An event's evidence (core::Event::raw) is mostly the report's header line repeated per row. From
-- version 2 on it is stored split: the first line (e.g. the CSV header) once in event_raw_prefixes,
-- the rest in events.raw, and events.json holds the event JSON with an empty "raw" value. Readers
-- put the base64 of prefix + raw back into "raw", so EventRow::json is byte-identical to
-- core::Event::to_json(). Rows with raw IS NULL (written by version 1, or events without evidence)
-- keep the whole JSON.

CREATE TABLE event_raw_prefixes (
  id INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE,          -- of bytes (lookup key)
  bytes BLOB NOT NULL
);

-- No REFERENCES on raw_prefix_id: it is checked by the writer, and a foreign key check per event
-- row would cost the bulk ingest a lookup each.
ALTER TABLE events ADD COLUMN raw_prefix_id INTEGER;  -- event_raw_prefixes.id; NULL: no prefix
ALTER TABLE events ADD COLUMN raw BLOB;               -- evidence after the prefix; NULL: in json
