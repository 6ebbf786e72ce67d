-- klartext store schema, version 9: events stored in blocks.
--
-- Until version 8 every event was a row of `events` with an entry in the index by case: about
-- 3.5 µs per event, most of a bulk ingest (a Shadowserver report has up to millions of rows). From
-- this version new events go into event_blocks, up to 256 events of one report per row, encoded as
-- src/store/event_block.hpp describes; the rows of `events` written before stay and are read as
-- before. Event ids stay one number space: a block's events are numbered from its id on.
--
-- A case finds its evidence through event_block_cases (one row per case and block that holds any
-- of its events); events without a holder through the blocks' `unassigned` counts.

CREATE TABLE event_blocks (
  id INTEGER PRIMARY KEY,            -- the id of the block's first event; the others follow it
  report_id INTEGER NOT NULL,        -- (no REFERENCES: the writer stored the report itself)
  count INTEGER NOT NULL,            -- events in the block
  unassigned INTEGER NOT NULL,       -- of them without a holder
  data BLOB NOT NULL
);

CREATE TABLE event_block_cases (
  case_id INTEGER NOT NULL,
  block_id INTEGER NOT NULL,
  PRIMARY KEY (case_id, block_id)
) WITHOUT ROWID;

-- A report's original bytes in their own table: SQLite rewrites a whole row on any UPDATE, and the
-- ingest updates a report's row twice after parsing it (format and counts, kind and verdict): with
-- the bytes in the row that copied a large report (tens of megabytes) twice more into the log.
CREATE TABLE report_bytes (
  report_id INTEGER PRIMARY KEY REFERENCES reports(id),
  bytes BLOB NOT NULL
);
INSERT INTO report_bytes (report_id, bytes) SELECT id, bytes FROM reports;
ALTER TABLE reports DROP COLUMN bytes;
