-- klartext store schema, version 10 (PostgreSQL; mirrors sqlite/010_block_case_openings.sql): a
-- block records the run of consecutive case ids its events opened (new_cases_first, new_cases)
-- instead of an event_block_cases row per opened case; the runs never overlap.

ALTER TABLE event_blocks ADD COLUMN new_cases_first BIGINT;
ALTER TABLE event_blocks ADD COLUMN new_cases INTEGER NOT NULL DEFAULT 0;
CREATE INDEX event_blocks_new_cases ON event_blocks (new_cases_first) WHERE new_cases_first IS NOT NULL;
