-- klartext store schema, version 1 (SQLite). Times are microseconds since 1970-01-01 UTC.

CREATE TABLE reports (
  id INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE,
  input TEXT NOT NULL,
  format TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '',
  received INTEGER NOT NULL,
  events INTEGER NOT NULL DEFAULT 0,
  issues INTEGER NOT NULL DEFAULT 0,
  complete INTEGER NOT NULL DEFAULT 0,    -- 1 once every event of the report is stored
  bytes BLOB NOT NULL
);

CREATE TABLE customers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  emails TEXT NOT NULL DEFAULT '',      -- one address per line
  language TEXT NOT NULL DEFAULT '',
  time_zone TEXT NOT NULL DEFAULT '',
  accounts TEXT NOT NULL DEFAULT ''     -- RADIUS User-Name / Class values, one per line
);

CREATE TABLE assignments (
  id INTEGER PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers(id),
  prefix TEXT NOT NULL,
  valid_from INTEGER,
  valid_to INTEGER,
  UNIQUE (customer_id, prefix, valid_from, valid_to)
);

CREATE TABLE sessions (
  id INTEGER PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers(id),
  prefix TEXT NOT NULL,
  port_from INTEGER,
  port_to INTEGER,
  start INTEGER NOT NULL,
  stop INTEGER,
  session_key TEXT,
  source TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX sessions_key ON sessions (session_key) WHERE session_key IS NOT NULL;
CREATE INDEX sessions_prefix ON sessions (prefix, start);

CREATE TABLE cases (
  id INTEGER PRIMARY KEY,
  customer_id TEXT NOT NULL,
  classification TEXT NOT NULL,          -- taxonomy/type/identifier
  source_ip TEXT NOT NULL,
  state TEXT NOT NULL,
  event_count INTEGER NOT NULL DEFAULT 0,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  severity TEXT NOT NULL DEFAULT 'unknown',
  source_port INTEGER,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  notifications INTEGER NOT NULL DEFAULT 0,
  last_notified INTEGER,
  notified_event_count INTEGER NOT NULL DEFAULT 0,
  notified_state TEXT,
  resolved_at INTEGER
);
CREATE INDEX cases_key ON cases (customer_id, classification, source_ip, state);
CREATE INDEX cases_state ON cases (state);

CREATE TABLE case_history (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  from_state TEXT,
  to_state TEXT NOT NULL,
  time INTEGER NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX case_history_case ON case_history (case_id, id);

CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  report_id INTEGER NOT NULL REFERENCES reports(id),
  classification TEXT NOT NULL,
  source_ip TEXT,
  source_port INTEGER,
  time INTEGER NOT NULL,
  severity TEXT NOT NULL DEFAULT 'unknown',
  customer_id TEXT,                       -- the holder at `time`; NULL: unassigned
  case_id INTEGER,                        -- the case this event is evidence for
  json TEXT NOT NULL
);
CREATE INDEX events_case ON events (case_id) WHERE case_id IS NOT NULL;

-- The evidence rows of each case.
CREATE VIEW case_events AS SELECT case_id, id AS event_row_id FROM events WHERE case_id IS NOT NULL;

CREATE TABLE parse_issues (
  id INTEGER PRIMARY KEY,
  report_id INTEGER REFERENCES reports(id),
  code TEXT NOT NULL,
  input TEXT NOT NULL,
  line INTEGER NOT NULL,
  byte_offset INTEGER NOT NULL,
  reason TEXT NOT NULL,
  excerpt TEXT NOT NULL,
  hint TEXT NOT NULL
);
CREATE INDEX parse_issues_report ON parse_issues (report_id);

CREATE TABLE notifications (
  id INTEGER PRIMARY KEY,
  customer_id TEXT NOT NULL,
  time INTEGER NOT NULL,
  message_id TEXT NOT NULL,
  path TEXT NOT NULL DEFAULT '',
  language TEXT NOT NULL DEFAULT ''
);
CREATE INDEX notifications_customer ON notifications (customer_id);

-- Per case and letter: the state the letter described (the last row is the last notified state).
CREATE TABLE notification_cases (
  notification_id INTEGER NOT NULL REFERENCES notifications(id),
  case_id INTEGER NOT NULL REFERENCES cases(id),
  state TEXT NOT NULL,
  event_count INTEGER NOT NULL,
  PRIMARY KEY (notification_id, case_id)
);
CREATE INDEX notification_cases_case ON notification_cases (case_id, notification_id);

CREATE TABLE probe_results (
  id INTEGER PRIMARY KEY,
  case_id INTEGER NOT NULL REFERENCES cases(id),
  time INTEGER NOT NULL,
  verdict TEXT NOT NULL,
  baf REAL,
  paf REAL,
  details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX probe_results_case ON probe_results (case_id, time);
