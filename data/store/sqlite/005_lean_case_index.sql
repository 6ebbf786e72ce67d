-- klartext store schema, version 5: one index less to maintain per new case.
--
-- cases_state indexed a column with five values. Nothing the ingest or the letters run looks up
-- goes through it (active cases are read by id, "state <> 'closed'" cannot use it), while a bulk
-- ingest paid an index insert for every case it opened. `klartext cases --state` scans the cases
-- table instead (millions of rows per second). Portable SQL (the PostgreSQL migration is the same).

DROP INDEX cases_state;
