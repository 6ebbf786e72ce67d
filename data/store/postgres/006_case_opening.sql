-- klartext store schema, version 6: a case's opening is kept in its own row.
--
-- Every case starts with the transition "-> open" and the event that opened it. Ingest opens one
-- case per new (customer, classification, address), so a bulk ingest wrote a case_history row and
-- its index entry for each new case. From this version the opening's reason is a column of the
-- case (its time is `created`) and case_history holds the later transitions; Store::case_history
-- returns both, opening first. Cases opened before keep their opening row (opened_reason NULL).
-- Portable SQL (the PostgreSQL migration is the same).

ALTER TABLE cases ADD COLUMN opened_reason TEXT;
