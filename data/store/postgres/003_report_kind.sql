-- klartext store schema, version 3 (PostgreSQL; mirrors sqlite/003_report_kind.sql): what kind of
-- input each report was (abuse report, not a report, unreadable) and the verdict behind it (e.g.
-- "dmarc-aggregate", "delivery-status", "auto-reply"), so mails that make no events are still listed.

ALTER TABLE reports ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE reports ADD COLUMN verdict TEXT NOT NULL DEFAULT '';

-- Reports stored before this version: the ones with events were abuse reports; the rest stay ''.
UPDATE reports SET kind = 'abuse-report' WHERE events > 0;
