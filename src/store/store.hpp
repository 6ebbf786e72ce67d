// klartext's persistent store: reports, events, issues, customers, cases, letters and probe results.
//
// One class, written once against the small SQL interface (store/sql.hpp); the backends (SQLite,
// PostgreSQL) only implement connections and statements. The schema lives in numbered migrations
// under data/store/<backend>/NNN_name.sql, applied in order on open (table schema_migrations).
//
// Conventions:
//  - Times are core::Timestamp (UTC, stored as microseconds since the epoch).
//  - Customers are referred to by their external id (Customer::id, e.g. "K-1001").
//  - Classifications are stored as "taxonomy/type/identifier" (core::Classification::to_string).
//  - Write methods do not open transactions themselves: wrap a unit of work in transaction()
//    (ingest does one per input). Reads work inside or outside a transaction.
//  - Not thread-safe: one Store per thread.
//  - SQL failures throw SqlError (store/sql.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cases/case.hpp"
#include "config/config.hpp"
#include "core/event.hpp"
#include "customers/customer.hpp"
#include "formats/format.hpp"
#include "store/sql.hpp"

namespace klartext::store {

namespace detail {
struct EventKeys;
struct PendingWrites;
class BufferingConnection;
}  // namespace detail

// An input as received: the original bytes are kept so letters can attach them verbatim.
struct Report {
  std::int64_t id = 0;
  std::string sha256;  // of the bytes; unique (re-ingesting the same bytes adds nothing)
  std::string input;   // name of the input (path, mail id)
  std::string format;  // detected format, e.g. "shadowserver-csv"
  std::string detail;  // e.g. Shadowserver report type "scan_ntpmonitor"
  core::Timestamp received;
  std::int64_t events = 0;  // events parsed from it
  std::int64_t issues = 0;  // parse issues recorded for it
  bool complete = false;    // every event of it is stored
  std::string kind;         // "abuse-report", "not-a-report", "unreadable", "empty" ('' before schema 3)
  std::string verdict;      // not-a-report: what it is ("dmarc-aggregate", "bounce"); unreadable: the
                            // first issue code; abuse-report: the most frequent classification
  std::string bytes;        // the original bytes; only filled by report(id, /*with_bytes=*/true)
};

// A stored event. `json` is core::Event::to_json() (includes the base64 "raw" evidence); use
// core::Event::from_json(json) to get the typed event back.
struct EventRow {
  std::int64_t id = 0;   // the store's number of the event (an events row id before schema 9)
  std::string event_id;  // core::Event::id(), unique
  std::int64_t report_id = 0;
  std::string classification;  // "taxonomy/type/identifier"
  std::optional<core::IpAddress> source_ip;
  std::optional<std::uint16_t> source_port;
  core::Timestamp time;  // time.source, else time.observation, else the report's received time
  core::Severity severity = core::Severity::kUnknown;
  std::string customer_id;              // the holder at `time`; empty: unassigned
  std::optional<std::int64_t> case_id;  // the case this event is evidence for
  std::string json;
};

// A parse or import issue as stored (report_id empty for customer imports).
struct StoredIssue {
  std::int64_t id = 0;
  std::optional<std::int64_t> report_id;
  formats::ParseIssue issue;
};

// A letter that was sent (or written to the outbox) about some of a customer's cases.
struct Notification {
  std::int64_t id = 0;
  std::string customer_id;
  core::Timestamp time;
  std::string message_id;  // RFC 5322 Message-ID
  std::string path;        // where the mail was written (outbox file), may be empty
  std::string language;    // "de" / "en"
  std::vector<std::int64_t> case_ids;
};

// What the last letter said about one case (the per-case "last notified state").
struct CaseNotification {
  std::int64_t notification_id = 0;
  std::int64_t case_id = 0;
  core::Timestamp time;
  cases::CaseState state = cases::CaseState::kOpen;  // case state when the letter was written
  std::int64_t event_count = 0;                      // case event count when the letter was written
  std::string message_id;
};

// One external check of a case (src/probe): e.g. an NTP monlist probe of the reported address.
struct ProbeResult {
  std::int64_t id = 0;
  std::int64_t case_id = 0;
  core::Timestamp time;
  std::string verdict;        // e.g. "vulnerable", "fixed", "unreachable" (the probe defines the words)
  std::optional<double> baf;  // bandwidth amplification factor, if measured
  std::optional<double> paf;  // packet amplification factor, if measured
  std::string details_json;   // free-form JSON object with the measurement
};

// What Store::add_event keeps of an event, worked out from the event alone, so that another thread
// can do it while the store's thread writes (ingest parses on one core and stores on the other):
// the texts of its fields, its JSON without the evidence and as a delta to the report's first event,
// the evidence split at its first line, and the key of the duplicate check. Made by an
// EventPreparer; a slot is meant to be reused (assignment keeps the strings' capacity).
struct PreparedEvent {
  std::string event_id;
  std::uint64_t key = 0;  // of the duplicate check (event_keys)
  std::string classification;
  std::string source_ip;  // text; empty: none
  std::optional<std::uint16_t> source_port;
  std::string_view severity;  // a static name
  bool has_raw = false;       // the evidence is `raw_prefix` + `raw`, not in `json`
  std::string raw_prefix;     // its first line with the newline (e.g. the CSV header); may be empty
  std::string raw;
  std::shared_ptr<const std::string> json_base;  // what `json` is the delta to; null: `json` is whole
  std::string json;
  bool id_in_json = false;  // the JSON's "event.id" is event_id: not stored twice
};

// Prepares the events of one report in their order: the first one's JSON becomes the base the
// others are stored against (json_delta.hpp). Independent of any store; one per thread and report.
class EventPreparer {
 public:
  void prepare(const core::Event& event, std::string_view event_id, std::string_view json, PreparedEvent& out);
  // The same from what event.append_json_parts wrote (the evidence already left out), when
  // parts.plain; stores the same bytes without searching or re-scanning the JSON.
  void prepare(const core::Event& event, const core::JsonParts& parts, std::string_view json, PreparedEvent& out);

 private:
  bool started_ = false;
  std::shared_ptr<const std::string> base_;
  std::vector<std::string_view> base_members_;
  bool base_keys_distinct_ = false;  // as an event's JSON has them (the cheaper encode_delta)
  std::string compact_;              // the JSON without its evidence (reused)
};

struct CaseFilter {
  std::string customer_id;                // empty: all customers
  std::optional<cases::CaseState> state;  // exact state
  bool active_only = false;               // state != closed
  std::string classification_prefix;      // e.g. "vulnerable/ddos-amplifier/" or a full one
  std::optional<core::IpAddress> source_ip;
};

class Store {
 public:
  // Takes over a connection and brings its schema up to date (migrations).
  explicit Store(std::unique_ptr<Connection> connection);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Opens the configured backend: SQLite at cfg.store_path (parent directory created) or
  // PostgreSQL at cfg.store_dsn. Throws SqlError / std::runtime_error.
  static std::unique_ptr<Store> open(const config::Config& cfg);
  static std::unique_ptr<Store> open_sqlite(const std::string& path);
  static std::unique_ptr<Store> open_postgres(const std::string& dsn);
  // Another store on the same database (its own connection, for another thread; the schema is
  // checked as by open); null for an SQLite database in memory.
  std::unique_ptr<Store> open_another();

  Connection& sql() { return *conn_; }
  std::string_view backend() const { return conn_->backend(); }
  int schema_version();

  // RAII transaction: rolls back unless commit() was called. Not nestable.
  // A rollback also drops the store's cached row ids (they may name rows that were rolled back).
  class Transaction {
   public:
    explicit Transaction(Connection& c, Store* store = nullptr);
    ~Transaction();
    Transaction(Transaction&& other) noexcept;
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    Transaction& operator=(Transaction&&) = delete;
    void commit();

   private:
    Connection* conn_;
    Store* store_;
  };
  Transaction transaction() { return Transaction(*conn_, this); }

  // Inside a transaction, add_event collects events into a block (schema version 9, up to 256 events
  // of one report per row; both backends), and on PostgreSQL insert_case_with_id and add_transition
  // buffer their rows for multi-row INSERTs (a round trip per 500 rows, not per row). Buffered rows
  // are written before any other statement runs on this store's connection (reads included, so
  // they see them), at commit, and when a buffer is full; a failed write therefore throws from that
  // later call. A rollback drops them. Outside a transaction add_event writes its event at once.

  // Per-row foreign key checks on or off (SQLite; PostgreSQL keeps them). For a bulk writer whose
  // rows refer only to rows it wrote itself (ingest: events to their report): SQLite checks each
  // reference with a parent lookup and a statement journal per insert. Call outside a transaction.
  void set_reference_checks(bool on);

  // ---- reports ----
  struct AddedReport {
    std::int64_t id = 0;
    bool inserted = false;  // false: these bytes were ingested before (id is the earlier report)
    bool complete = false;  // the earlier ingest finished (update_report was called); false: resume it
  };
  // Stores the bytes keyed by sha256 (computed here). Existing sha256 -> inserted=false.
  AddedReport add_report(std::string_view bytes, std::string_view input, core::Timestamp received);
  // Sets what parsing found out (format, detail, counts) and marks the report complete.
  void update_report(std::int64_t id, std::string_view format, std::string_view detail, std::int64_t events,
                     std::int64_t issues);
  // The kind of input and its verdict (see Report), set once parsing has ended.
  void set_report_kind(std::int64_t id, std::string_view kind, std::string_view verdict);
  std::optional<Report> report(std::int64_t id, bool with_bytes = false);
  std::vector<Report> list_reports();

  // ---- events ----
  // Inserts an event (event_id = event.id(), json = event.to_json(), passed in so the caller can
  // reuse buffers). Returns the row id, or nullopt when that event id is already stored (checked
  // against the keys of `time`'s UTC day, schema version 4: equal events have equal times).
  // The evidence is stored compactly (schema version 2: its first line once per distinct line, the
  // JSON without the base64; version 4: the JSON as a delta to its report's first event, and the
  // event id only inside it; version 9: as a record of an event block, see event_block.hpp); reads
  // give back the same JSON and event id. Event ids are dense and ascending per transaction.
  std::optional<std::int64_t> add_event(std::int64_t report_id, const core::Event& event, std::string_view event_id,
                                        std::string_view json, core::Timestamp time, std::string_view customer_id,
                                        std::optional<std::int64_t> case_id, bool opens_case = false);
  // The same for an event prepared by an EventPreparer for this report (possibly on another thread).
  // opens_case: the event is the first of case_id, a case opened for it (its link to the event's
  // block is then the block's run of opened cases when it continues it, schema version 10).
  std::optional<std::int64_t> add_event(std::int64_t report_id, const PreparedEvent& event, core::Timestamp time,
                                        std::string_view customer_id, std::optional<std::int64_t> case_id,
                                        bool opens_case = false);
  // A hint before add_event of a prepared event: starts loading what its duplicate check reads, so a
  // caller with a batch of events overlaps their cache misses.
  void prefetch_event(std::uint64_t key, core::Timestamp time) const;
  std::optional<EventRow> event(std::int64_t row_id);
  // Evidence of a case, oldest first; limit 0 = all.
  std::vector<EventRow> case_events(std::int64_t case_id, std::size_t limit = 0);
  // Events without a holder (never dropped), newest first; limit 0 = all.
  std::vector<EventRow> unassigned_events(std::size_t limit = 0);
  std::int64_t count_events();

  // ---- parse issues ----
  void add_issue(std::optional<std::int64_t> report_id, const formats::ParseIssue& issue);
  std::vector<StoredIssue> issues(std::optional<std::int64_t> report_id);  // nullopt: import issues

  // ---- customers ----
  // Inserts or replaces the customer with this id.
  void upsert_customer(const customers::Customer& c);
  std::optional<customers::Customer> customer(std::string_view id);
  std::vector<customers::Customer> list_customers();
  // Adds a static assignment; false when the same (customer, prefix, valid_from, valid_to) exists.
  bool add_assignment(const customers::StaticAssignment& a);
  std::vector<customers::StaticAssignment> list_assignments();
  // Adds a session. With a session_key, a second call for the same key merges: the earlier start
  // and any known stop are kept (RADIUS Start + Stop records). Without a key, identical sessions
  // (customer, prefix, ports, start) are not added twice. Returns true when something changed.
  bool upsert_session(const customers::Session& s);
  void for_each_session(const std::function<void(const customers::Session&)>& fn);
  // The fields the holder index needs, without copies (views valid during the call): the fast path
  // for building the index from a million sessions.
  struct SessionView {
    std::string_view customer_id;
    std::string_view prefix;  // text, e.g. "192.0.2.1/32"
    std::optional<std::uint16_t> port_from, port_to;
    core::Timestamp start;
    std::optional<core::Timestamp> stop;
  };
  void for_each_session_view(const std::function<void(const SessionView&)>& fn);
  std::int64_t count_sessions();

  // ---- holder index snapshot (customers::HolderIndex::from_store; schema version 7) ----
  // The customer data's generation and the image saved for it, if any. add_assignment and
  // upsert_session make the image stale when they change something (the first such call of a
  // transaction bumps the generation); a change made by other SQL must call
  // customer_data_changed() itself.
  struct HolderSnapshot {
    std::int64_t generation = 0;
    std::optional<std::string> image;
  };
  HolderSnapshot holder_snapshot();
  // Saves an image built from the customer data of `generation` (read by holder_snapshot() before
  // the data was read); nothing when the data changed since (another writer). Inside a transaction.
  void save_holder_snapshot(std::int64_t generation, std::string_view image);
  void customer_data_changed();
  bool in_transaction() const { return in_transaction_; }

  // ---- cases (the lifecycle rules live in src/cases; these are plain reads and writes) ----
  std::int64_t insert_case(const cases::Case& c);  // returns the new id (c.id is ignored)
  // With c.id as the id (numbered by the caller, e.g. cases::CaseBook from max_case_id() inside its
  // write transaction); the backend's id sequence is moved past it. With an opened_reason the case's
  // opening transition (-> kOpen at c.created) is recorded in the case row itself (schema version 6;
  // case_history() lists it first): then do not add_transition() it as well.
  void insert_case_with_id(const cases::Case& c, std::string_view opened_reason = {});
  // A classification as the case and event rows store it: "taxonomy/type/identifier", the second
  // '/' also when the identifier is empty.
  static std::string classification_text(const core::Classification& c);
  // A case as cases::CaseBook opens it, in views of the book's own strings (no cases::Case per row):
  // state kOpen, no letter yet, resolved never.
  struct NewCase {
    std::int64_t id = 0;
    std::string_view customer_id;
    std::string_view classification;  // classification_text()
    core::IpAddress source_ip;
    std::int64_t event_count = 0;
    core::Timestamp first_seen, last_seen;
    core::Severity severity = core::Severity::kUnknown;
    std::optional<std::uint16_t> source_port;
    core::Timestamp created, updated;
    std::string_view opened_reason;  // empty: none
  };
  // insert_case_with_id(c, c.opened_reason) for each, in order, with the same rows; SQLite writes them
  // as multi-row INSERTs (the bulk path of an ingest that opens hundreds of thousands of cases).
  void insert_new_cases(const std::vector<NewCase>& cases);
  std::int64_t max_case_id();              // 0 when there is none
  void update_case(const cases::Case& c);  // all mutable fields, by c.id
  // What an event changes (event count, first/last seen, severity, source port, updated) and,
  // with_state, the state; leaves the letter fields alone.
  void update_case_events(const cases::Case& c, bool with_state);
  // The same from the fields themselves (cases::CaseBook::flush, no cases::Case per row).
  struct CaseEvents {
    std::int64_t id = 0;
    std::int64_t event_count = 0;
    core::Timestamp first_seen, last_seen;
    core::Severity severity = core::Severity::kUnknown;
    std::optional<std::uint16_t> source_port;
    core::Timestamp updated;
    std::optional<cases::CaseState> state;  // set: the state changed
  };
  void update_case_events(const CaseEvents& c);
  void delete_case(std::int64_t id);  // only for a case that never got an event
  std::optional<cases::Case> get_case(std::int64_t id);
  // The case that is not closed for this key, if any.
  std::optional<cases::Case> find_active_case(std::string_view customer_id, const core::Classification& cls,
                                              const core::IpAddress& source_ip);
  std::vector<cases::Case> list_cases(const CaseFilter& filter = {});
  // Cases that are not closed with an id above after_id, by id (bulk load for case aggregation).
  std::vector<cases::Case> active_cases_after(std::int64_t after_id);
  void add_transition(const cases::Transition& t);
  std::vector<cases::Transition> case_history(std::int64_t case_id);  // the opening first, then as recorded

  // ---- notifications (letters sent) ----
  // Stores the letter and, for each case id, the case's state and event count at this moment
  // (read from the cases table), and bumps the case's notification fields. Returns the new id.
  // Leaves the case states alone: a letter's state changes are add_letter's (cases::CaseBook::record_letter).
  std::int64_t add_notification(const Notification& n);
  // What a letter does to its cases (cases::CaseBook::record_letter's rule, applied here so a letter
  // costs one read of two columns and two or three one-row writes per case): add_notification, and
  // each kOpen/kResolved case moves to kNotified (notified_state too) with a history row `reason`;
  // a kEscalated case stays with a history row `escalated_reason`; other states get the
  // notification fields only. Returns the new notification id.
  std::int64_t add_letter(const Notification& n, std::string_view reason, std::string_view escalated_reason);
  std::optional<CaseNotification> last_notification(std::int64_t case_id);
  std::vector<Notification> notifications(std::string_view customer_id = {});

  // ---- probe results ----
  std::int64_t add_probe_result(const ProbeResult& r);           // returns the new id
  std::vector<ProbeResult> probe_results(std::int64_t case_id);  // oldest first
  std::optional<ProbeResult> latest_probe_result(std::int64_t case_id);

 private:
  friend class detail::BufferingConnection;
  void migrate();
  std::int64_t insert_notification(const Notification& n);  // the notifications row; returns its id
  bool buffering() const;
  std::int64_t read_next_event_id();  // after the highest event id stored
  void write_block();                 // the event block being filled
  void write_block_cases();           // the event_block_cases rows of the blocks written
  void flush_cases();                 // the buffered cases (then the sequence is moved past their ids)
  void flush_pending();               // every buffered row: cases, history, events
  void end_pending(bool commit);      // at commit (flushes, returns unused event ids) or rollback
  std::optional<std::int64_t> raw_prefix_id(std::string_view prefix);
  // The event_json_bases id of a prepared event's base (stored the first time).
  std::int64_t json_base_id(const std::shared_ptr<const std::string>& base);
  void forget_cached_ids();
  // The duplicate check: false when this event id is stored already, else it is claimed (its key
  // is written with the next commit).
  bool claim_event(std::uint64_t key, core::Timestamp time);
  std::int64_t insert_event_keys(std::int64_t day,
                                 const std::vector<std::uint64_t>& keys);  // one event_keys row; its id
  void write_event_keys();     // the keys claimed since the last commit, one event_keys row per day
  void backfill_event_keys();  // migration 4: keys of the events stored before it
  // conn_ is the backend's connection wrapped so that any statement first writes the buffered rows;
  // raw_ is the backend's connection itself, for the bulk paths that must not flush.
  std::unique_ptr<Connection> conn_;
  Connection* raw_ = nullptr;
  std::unique_ptr<detail::PendingWrites> pending_;
  std::unique_ptr<detail::EventKeys> keys_;
  // The last evidence prefix (e.g. a CSV header line) and its event_raw_prefixes id.
  std::string prefix_;
  std::int64_t prefix_id_ = 0;
  // add_event(event): the preparer of the report its events came from.
  std::int64_t preparer_report_ = 0;
  EventPreparer preparer_;
  PreparedEvent prepared_;
  // The last JSON base and its event_json_bases id (held, so its address names it).
  std::shared_ptr<const std::string> json_base_;
  std::int64_t json_base_id_ = 0;
  bool in_transaction_ = false;
  bool generation_bumped_ = false;  // customer_data_changed() in this transaction already
};

}  // namespace klartext::store
