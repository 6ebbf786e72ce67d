-- klartext store schema, version 8: no index of cases by customer.
--
-- Nothing on the ingest or letter path looks cases up by customer: ingest keeps the active cases in
-- memory (cases::CaseBook), `klartext notify` reads all active cases once and groups them. Only
-- `klartext cases --customer` filtered through it, and a scan of the cases table does that in well
-- under a second per million cases. The index cost every new case a random insert (a first import
-- of a large report opens hundreds of thousands of cases at once: about a second per million rows).
-- Portable SQL (the PostgreSQL migration is the same).

DROP INDEX cases_customer;
