-- klartext store schema, version 9 (PostgreSQL; mirrors sqlite/009_event_blocks.sql): events stored
-- in blocks of up to 256 events of one report (src/store/event_block.hpp) instead of a row each;
-- the rows of `events` written before stay and are read as before. Event ids stay one number
-- space: a block's events are numbered from its id on.

CREATE TABLE event_blocks (
  id BIGINT PRIMARY KEY,             -- the id of the block's first event; the others follow it
  report_id BIGINT NOT NULL,         -- (no REFERENCES: the writer stored the report itself)
  count BIGINT NOT NULL,             -- events in the block
  unassigned BIGINT NOT NULL,        -- of them without a holder
  data BYTEA NOT NULL
);

CREATE TABLE event_block_cases (
  case_id BIGINT NOT NULL,
  block_id BIGINT NOT NULL,
  PRIMARY KEY (case_id, block_id)
);

-- A report's original bytes in their own table (as on SQLite, where an UPDATE of the report's
-- counts rewrote the whole row with its bytes).
CREATE TABLE report_bytes (
  report_id BIGINT PRIMARY KEY REFERENCES reports(id),
  bytes BYTEA NOT NULL
);
INSERT INTO report_bytes (report_id, bytes) SELECT id, bytes FROM reports;
ALTER TABLE reports DROP COLUMN bytes;
