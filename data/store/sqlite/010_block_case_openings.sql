-- klartext store schema, version 10: the cases an event block opens are a range on the block.
--
-- Until version 9 each (case, block) link was a row of event_block_cases. An import of a big
-- report opens most of its cases (a million-row report: about 750 k), each in the block of its
-- first event, and those links were most of the rows written after the parse. From this version a
-- block records the run of consecutive case ids its events opened (new_cases_first, new_cases): the
-- cases new_cases_first .. new_cases_first + new_cases - 1 have their first event in it. A case id
-- is opened once, so the runs never overlap, and the run of a case is the one with the greatest
-- new_cases_first not above it. Every other link stays a row of event_block_cases; blocks written
-- before this version have no run (new_cases = 0).

ALTER TABLE event_blocks ADD COLUMN new_cases_first INTEGER;
ALTER TABLE event_blocks ADD COLUMN new_cases INTEGER NOT NULL DEFAULT 0;
CREATE INDEX event_blocks_new_cases ON event_blocks (new_cases_first) WHERE new_cases_first IS NOT NULL;
