// The store, written once against the SQL interface; schema from numbered migrations in data/store/.
#include "store/store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/embedded.hpp"
#include "store/event_block.hpp"
#include "store/event_keys.hpp"
#include "store/json_delta.hpp"
#include "store/row_buffer.hpp"

namespace klartext::store {
namespace {

std::string join_lines(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += '\n';
    out += s;
  }
  return out;
}

std::vector<std::string> split_lines(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto nl = s.find('\n');
    auto part = s.substr(0, nl);
    if (!part.empty()) out.emplace_back(part);
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  return out;
}

std::optional<core::Timestamp> opt_time(const Statement& st, int col) {
  if (st.is_null(col)) return std::nullopt;
  return core::Timestamp::from_micros(st.get_int(col));
}

std::optional<std::int64_t> opt_micros(const std::optional<core::Timestamp>& t) {
  if (!t) return std::nullopt;
  return t->micros();
}

core::Classification parse_classification(std::string_view s) {
  auto a = s.find('/');
  auto b = a == std::string_view::npos ? a : s.find('/', a + 1);
  if (b != std::string_view::npos) {
    if (auto c = core::Classification::parse(s.substr(0, a), s.substr(a + 1, b - a - 1), s.substr(b + 1))) return *c;
  } else if (a != std::string_view::npos) {
    // "taxonomy/type" without identifier (Classification::to_string of e.g. other/undetermined).
    if (auto c = core::Classification::parse(s.substr(0, a), s.substr(a + 1), {})) return *c;
  }
  return core::Classification::undetermined(std::string(s));
}

cases::CaseState state_of(std::string_view s) {
  return cases::parse_case_state(s).value_or(cases::CaseState::kOpen);
}

constexpr std::string_view kCaseColumns =
    "id, customer_id, classification, source_ip, state, event_count, first_seen, last_seen, severity, source_port, "
    "created, updated, notifications, last_notified, notified_event_count, notified_state, resolved_at";

cases::Case read_case(const Statement& st) {
  cases::Case c;
  c.id = st.get_int(0);
  c.customer_id = std::string(st.get_text(1));
  c.classification = parse_classification(st.get_text(2));
  c.source_ip = core::IpAddress::parse(st.get_text(3)).value_or(core::IpAddress{});
  c.state = state_of(st.get_text(4));
  c.event_count = st.get_int(5);
  c.first_seen = core::Timestamp::from_micros(st.get_int(6));
  c.last_seen = core::Timestamp::from_micros(st.get_int(7));
  c.severity = core::parse_severity(st.get_text(8)).value_or(core::Severity::kUnknown);
  if (!st.is_null(9)) c.source_port = static_cast<std::uint16_t>(st.get_int(9));
  c.created = core::Timestamp::from_micros(st.get_int(10));
  c.updated = core::Timestamp::from_micros(st.get_int(11));
  c.notifications = st.get_int(12);
  c.last_notified = opt_time(st, 13);
  c.notified_event_count = st.get_int(14);
  if (!st.is_null(15)) c.notified_state = cases::parse_case_state(st.get_text(15));
  c.resolved_at = opt_time(st, 16);
  return c;
}

// Events are read with their evidence prefix (schema version 2, see 002_compact_events.sql).
constexpr std::string_view kEventSelect =
    "SELECT e.id, e.event_id, e.report_id, e.classification, e.source_ip, e.source_port, e.time, e.severity, "
    "e.customer_id, e.case_id, e.json, e.raw, p.bytes, e.json_base_id, b.json, e.json_delta FROM events e "
    "LEFT JOIN event_raw_prefixes p ON p.id = e.raw_prefix_id LEFT JOIN event_json_bases b ON b.id = e.json_base_id";

// Where the value of the top-level string member `key_colon_quote` (e.g. `"raw":"`) starts in an
// event JSON written by core::Event::append_json, or npos. Inside a JSON string every quote is
// escaped, so the key with bare quotes after ',' or '{' can only be the member itself.
std::size_t string_value_pos(std::string_view json, std::string_view key_colon_quote) {
  // memmem: an event JSON has a hundred quotes, which make a first-character search slow.
  for (std::size_t pos = 0; pos < json.size();) {
    const void* hit = memmem(json.data() + pos, json.size() - pos, key_colon_quote.data(), key_colon_quote.size());
    if (hit == nullptr) break;
    const auto at = static_cast<std::size_t>(static_cast<const char*>(hit) - json.data());
    if (at > 0 && (json[at - 1] == ',' || json[at - 1] == '{')) return at + key_colon_quote.size();
    pos = at + 1;
  }
  return std::string_view::npos;
}

// A classification as the case and event rows store it: "taxonomy/type/identifier", the second '/'
// also when the identifier is empty (core::Classification::to_string drops it).
void append_classification(std::string& out, const core::Classification& c) {
  out += core::to_string(c.taxonomy);
  out += '/';
  out += core::to_string(c.type);
  out += '/';
  out += c.identifier;
}

std::size_t raw_value_pos(std::string_view json) {
  return string_value_pos(json, "\"raw\":\"");
}

// The value of the top-level "event.id" member (an id has no characters that need escaping), or
// empty.
std::string_view event_id_in_json(std::string_view json) {
  const std::size_t start = string_value_pos(json, "\"event.id\":\"");
  const std::size_t end = start == std::string_view::npos ? start : json.find('"', start);
  return end == std::string_view::npos ? std::string_view() : json.substr(start, end - start);
}

// Puts an event's JSON back together as core::Event::to_json() wrote it (into e.json), from what
// the store keeps: `stored` is the JSON whole or, with a `base`, its delta against that base
// (schema 4); with `evidence` the JSON's "raw" value was left empty and is the base64 of
// prefix + raw (schema 2). An event id stored only inside the JSON is taken from there.
void assemble_json(EventRow& e, std::string_view stored, std::optional<std::string_view> base,
                   std::optional<std::pair<std::string_view, std::string_view>> evidence) {
  std::string_view json = stored;
  std::string whole;
  if (base) {
    thread_local std::vector<std::string_view> members;
    if (!detail::split_members(*base, members) || !detail::decode_delta(members, stored, whole)) {
      throw SqlError("event " + std::to_string(e.id) + ": stored JSON delta does not decode");
    }
    json = whole;
  }
  if (e.event_id.empty()) e.event_id = std::string(event_id_in_json(json));  // stored in the JSON only
  const auto pos = evidence ? raw_value_pos(json) : std::string_view::npos;
  if (pos == std::string_view::npos) {
    e.json = std::string(json);
    return;
  }
  const auto [prefix, raw] = *evidence;
  std::string bytes;
  bytes.reserve(prefix.size() + raw.size());
  bytes.append(prefix).append(raw);
  e.json.reserve(json.size() + bytes.size() * 4 / 3 + 4);
  e.json.assign(json.substr(0, pos));
  core::append_base64(e.json, bytes);
  e.json.append(json.substr(pos));
}

EventRow read_event(const Statement& st) {
  EventRow e;
  e.id = st.get_int(0);
  e.event_id = std::string(st.get_text(1));
  e.report_id = st.get_int(2);
  e.classification = std::string(st.get_text(3));
  if (!st.is_null(4)) e.source_ip = core::IpAddress::parse(st.get_text(4));
  if (!st.is_null(5)) e.source_port = static_cast<std::uint16_t>(st.get_int(5));
  e.time = core::Timestamp::from_micros(st.get_int(6));
  e.severity = core::parse_severity(st.get_text(7)).value_or(core::Severity::kUnknown);
  e.customer_id = std::string(st.get_text(8));
  e.case_id = st.get_opt_int(9);
  // get_blob copies: the bytes live here while the JSON is put together.
  std::string prefix, raw, delta;
  std::optional<std::pair<std::string_view, std::string_view>> evidence;
  if (!st.is_null(11)) {
    if (!st.is_null(12)) prefix = st.get_blob(12);
    raw = st.get_blob(11);
    evidence.emplace(prefix, raw);
  }
  if (st.is_null(13)) {
    assemble_json(e, st.get_text(10), std::nullopt, evidence);
  } else {
    delta = st.get_blob(15);
    assemble_json(e, delta, st.get_text(14), evidence);
  }
  return e;
}

void bind_state(Statement& st, int i, const std::optional<cases::CaseState>& s) {
  if (s) {
    st.bind(i, cases::to_string(*s));
  } else {
    st.bind_null(i);
  }
}

std::string with_limit(std::string sql, std::size_t limit) {
  if (limit > 0) sql += " LIMIT " + std::to_string(limit);
  return sql;
}

}  // namespace

namespace detail {

// The rows add_event, insert_case_with_id and add_transition buffer on PostgreSQL (store.hpp).
struct PendingWrites {
  bool in_tx = false;  // PostgreSQL, inside a transaction: buffer
  RowBuffer cases{"INSERT INTO cases (id, " + std::string(kCaseColumns.substr(4)) + ", opened_reason)", 18};
  RowBuffer history{"INSERT INTO case_history (case_id, from_state, to_state, time, reason)", 5};
  // The event block being filled (both backends, inside a transaction; schema version 9) and the
  // cases its events belong to.
  struct Block {
    std::int64_t report_id = 0;
    std::int64_t first_id = 0;
    std::int64_t unassigned = 0;
    BlockWriter writer;
    std::vector<std::int64_t> case_ids;
    // The run of consecutive case ids the block's events opened (schema version 10); 0: none.
    std::int64_t new_cases_first = 0;
    std::int64_t new_cases = 0;
    // Whether `case_id`, opened by an event of this block, continues the run (and now is in it).
    bool extend_run(std::int64_t case_id) {
      if (new_cases == 0) {
        new_cases_first = case_id;
      } else if (case_id != new_cases_first + new_cases) {
        return false;
      }
      ++new_cases;
      return true;
    }
  } block;
  // (case, block) pairs of the blocks written since the last flush: written sorted by case, so the
  // index receives them in order (events of known cases would otherwise land all over it).
  std::vector<std::pair<std::int64_t, std::int64_t>> block_cases;
  RowBuffer block_case_rows{"INSERT INTO event_block_cases (case_id, block_id)", 2};
  std::unordered_set<std::int64_t> case_ids;  // of the buffered cases
  std::int64_t max_case_id = 0;
  // The id the next event gets; 0: read from the store first (once per transaction: writers take
  // turns, see claim_event).
  std::int64_t next_event_id = 0;
  bool any() const { return !cases.empty() || !history.empty() || block.writer.count() != 0 || !block_cases.empty(); }
};

// The store's connection: writes the buffered rows before any statement of others runs, and ends
// the buffering with the transaction.
class BufferingConnection final : public Connection {
 public:
  BufferingConnection(std::unique_ptr<Connection> inner, Store& store) : inner_(std::move(inner)), store_(store) {}
  Connection& inner() { return *inner_; }
  std::string_view backend() const override { return inner_->backend(); }
  Statement& prepare(std::string_view sql) override {
    store_.flush_pending();
    return inner_->prepare(sql);
  }
  void exec_script(std::string_view sql) override {
    store_.flush_pending();
    inner_->exec_script(sql);
  }
  void begin() override {
    inner_->begin();
    store_.pending_->in_tx = inner_->backend() == "postgres";
  }
  void commit() override {
    store_.end_pending(true);
    inner_->commit();
  }
  void rollback() override {
    store_.end_pending(false);
    inner_->rollback();
  }
  void set_bulk_writes(bool on) override { inner_->set_bulk_writes(on); }
  std::unique_ptr<Connection> open_another() const override { return inner_->open_another(); }

 private:
  std::unique_ptr<Connection> inner_;
  Store& store_;
};

}  // namespace detail

Store::Store(std::unique_ptr<Connection> connection)
    : pending_(std::make_unique<detail::PendingWrites>()), keys_(std::make_unique<detail::EventKeys>()) {
  auto wrapped = std::make_unique<detail::BufferingConnection>(std::move(connection), *this);
  raw_ = &wrapped->inner();
  conn_ = std::move(wrapped);
  migrate();
}
Store::~Store() = default;

std::unique_ptr<Store> Store::open(const config::Config& cfg) {
  if (cfg.store_backend == "sqlite") return open_sqlite(cfg.store_path);
  if (cfg.store_backend == "postgres") return open_postgres(cfg.store_dsn);
  throw std::runtime_error("unknown store backend '" + cfg.store_backend + "' (sqlite or postgres)");
}
std::unique_ptr<Store> Store::open_another() {
  auto connection = raw_->open_another();
  return connection ? std::make_unique<Store>(std::move(connection)) : nullptr;
}
std::unique_ptr<Store> Store::open_sqlite(const std::string& path) {
  return std::make_unique<Store>(store::open_sqlite(path));
}
std::unique_ptr<Store> Store::open_postgres(const std::string& dsn) {
  return std::make_unique<Store>(store::open_postgres(dsn));
}

// ---- transactions ----
Store::Transaction::Transaction(Connection& c, Store* store) : conn_(&c), store_(store) {
  conn_->begin();
  if (store_ != nullptr) {
    // Other writers may have stored events since this store's last transaction.
    store_->keys_->sync_needed = true;
    store_->in_transaction_ = true;
    store_->generation_bumped_ = false;
  }
}
Store::Transaction::Transaction(Transaction&& other) noexcept
    : conn_(std::exchange(other.conn_, nullptr)), store_(other.store_) {}
Store::Transaction::~Transaction() {
  if (conn_ == nullptr) return;
  if (store_ != nullptr) {
    store_->forget_cached_ids();
    store_->in_transaction_ = store_->generation_bumped_ = false;
  }
  try {
    conn_->rollback();
  } catch (const std::exception& e) {
    spdlog::error("rollback failed error={}", e.what());
  }
}
void Store::Transaction::commit() {
  if (conn_ == nullptr) return;
  if (store_ != nullptr) store_->write_event_keys();
  conn_->commit();
  conn_ = nullptr;
  if (store_ != nullptr) store_->in_transaction_ = store_->generation_bumped_ = false;
}

// ---- schema ----
void Store::set_reference_checks(bool on) {
  if (backend() == "sqlite") conn_->exec_script(on ? "PRAGMA foreign_keys=ON" : "PRAGMA foreign_keys=OFF");
}

void Store::migrate() {
  // Processes opening a new database at once take turns: PostgreSQL with a session lock (released
  // below or when the connection ends), SQLite by BEGIN IMMEDIATE; each checks the version again
  // inside its transaction, so a migration another process just applied is skipped.
  static constexpr std::string_view kLockKey = "7268696";  // any fixed number: klartext's migrations
  struct Unlock {
    Connection* pg;
    ~Unlock() {
      try {
        if (pg != nullptr) pg->exec_script("SELECT pg_advisory_unlock(" + std::string(kLockKey) + ")");
      } catch (const std::exception& e) {
        spdlog::warn("migration unlock failed error={}", e.what());
      }
    }
  } unlock{conn_->backend() == "postgres" ? conn_.get() : nullptr};
  if (unlock.pg != nullptr) conn_->exec_script("SELECT pg_advisory_lock(" + std::string(kLockKey) + ")");
  conn_->exec_script(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
      "applied BIGINT NOT NULL)");
  // Every version not applied yet, not only those above the highest: migrations written on
  // parallel branches may land in a store that already has a higher one.
  std::set<int> applied;
  {
    auto& st = conn_->prepare("SELECT version FROM schema_migrations");
    while (st.step()) applied.insert(static_cast<int>(st.get_int(0)));
  }
  std::string dir = "store/" + std::string(conn_->backend()) + "/";
  for (auto path : core::embedded_files(dir)) {
    auto name = path.substr(dir.size());
    int version = 0;
    auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), version);
    if (ec != std::errc{} || p == name.data() || !name.ends_with(".sql")) continue;
    if (applied.count(version) != 0) continue;
    auto sql = core::embedded_file(path);
    auto tx = transaction();
    auto& again = conn_->prepare("SELECT 1 FROM schema_migrations WHERE version = ?");
    again.bind(1, version);
    const bool done_meanwhile = again.step();
    again.reset();
    if (done_meanwhile) continue;
    conn_->exec_script(*sql);
    if (version == 4) backfill_event_keys();
    conn_->prepare("INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)")
        .bind(1, version)
        .bind(2, name)
        .bind(3, core::Timestamp::now().micros())
        .execute();
    tx.commit();
    spdlog::debug("schema migrated backend={} version={} name={}", conn_->backend(), version, name);
  }
}

int Store::schema_version() {
  auto& st = conn_->prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  return st.step() ? static_cast<int>(st.get_int(0)) : 0;
}

// ---- reports ----
Store::AddedReport Store::add_report(std::string_view bytes, std::string_view input, core::Timestamp received) {
  auto sha = core::sha256_hex(bytes);
  auto& find = conn_->prepare("SELECT id, complete FROM reports WHERE sha256 = ?");
  find.bind(1, sha);
  if (find.step()) {
    AddedReport known{find.get_int(0), false, find.get_int(1) != 0};
    find.execute();
    return known;
  }
  auto& ins = conn_->prepare("INSERT INTO reports (sha256, input, received) VALUES (?, ?, ?) RETURNING id");
  ins.bind(1, sha).bind(2, input).bind(3, received.micros());
  if (!ins.step()) throw SqlError("insert report returned no id");
  auto id = ins.get_int(0);
  ins.execute();
  conn_->prepare("INSERT INTO report_bytes (report_id, bytes) VALUES (?, ?)")
      .bind(1, id)
      .bind_blob_ref(2, bytes)
      .execute();
  return {id, true, false};
}

void Store::update_report(std::int64_t id, std::string_view format, std::string_view detail, std::int64_t events,
                          std::int64_t issues) {
  conn_->prepare("UPDATE reports SET format = ?, detail = ?, events = ?, issues = ?, complete = TRUE WHERE id = ?")
      .bind(1, format)
      .bind(2, detail)
      .bind(3, events)
      .bind(4, issues)
      .bind(5, id)
      .execute();
}

void Store::set_report_kind(std::int64_t id, std::string_view kind, std::string_view verdict) {
  conn_->prepare("UPDATE reports SET kind = ?, verdict = ? WHERE id = ?")
      .bind(1, kind)
      .bind(2, verdict)
      .bind(3, id)
      .execute();
}

std::optional<Report> Store::report(std::int64_t id, bool with_bytes) {
  auto& st =
      conn_->prepare(with_bytes ? "SELECT id, sha256, input, format, detail, received, events, issues, complete, "
                                  "kind, verdict, b.bytes FROM reports r JOIN report_bytes b ON b.report_id = r.id "
                                  "WHERE id = ?"
                                : "SELECT id, sha256, input, format, detail, received, events, issues, complete, "
                                  "kind, verdict FROM reports WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  Report r;
  r.id = st.get_int(0);
  r.sha256 = std::string(st.get_text(1));
  r.input = std::string(st.get_text(2));
  r.format = std::string(st.get_text(3));
  r.detail = std::string(st.get_text(4));
  r.received = core::Timestamp::from_micros(st.get_int(5));
  r.events = st.get_int(6);
  r.issues = st.get_int(7);
  r.complete = st.get_int(8) != 0;
  r.kind = std::string(st.get_text(9));
  r.verdict = std::string(st.get_text(10));
  if (with_bytes) r.bytes = st.get_blob(11);
  st.execute();
  return r;
}

std::vector<Report> Store::list_reports() {
  std::vector<Report> out;
  auto& st = conn_->prepare("SELECT id FROM reports ORDER BY id");
  std::vector<std::int64_t> ids;
  while (st.step()) ids.push_back(st.get_int(0));
  for (auto id : ids) out.push_back(*report(id));
  return out;
}

// ---- events ----
namespace {
// The PostgreSQL advisory lock of event writers (any fixed number; the migrations use another).
constexpr std::string_view kEventKeysLock = "7268697";
}  // namespace

void Store::forget_cached_ids() {
  prefix_.clear();
  prefix_id_ = 0;
  json_base_.reset();
  json_base_id_ = 0;
  // The claimed keys were rolled back; the loaded ones are read again when needed.
  *keys_ = detail::EventKeys{};
}

bool Store::claim_event(std::uint64_t key, core::Timestamp time) {
  auto& k = *keys_;
  if ((k.synced_id < 0 || k.sync_needed) && backend() == "postgres") {
    // Writers take turns per transaction, as SQLite's BEGIN IMMEDIATE makes them: the keys read
    // below then include every committed event, and nobody adds one until this commit.
    raw_->prepare("SELECT pg_advisory_xact_lock(" + std::string(kEventKeysLock) + ")").execute();
  }
  if (k.synced_id < 0) {
    // First use: days loaded from now on are read whole; later rows arrive through the sync below.
    auto& st = raw_->prepare("SELECT COALESCE(MAX(id), 0) FROM event_keys");
    k.synced_id = st.step() ? st.get_int(0) : 0;
    st.execute();
    k.sync_needed = false;
  } else if (k.sync_needed) {
    k.sync_needed = false;
    auto& st = raw_->prepare("SELECT id, day, keys FROM event_keys WHERE id > ? ORDER BY id");
    st.bind(1, k.synced_id);
    while (st.step()) {
      k.synced_id = st.get_int(0);
      if (std::find(k.own_rows.begin(), k.own_rows.end(), k.synced_id) != k.own_rows.end()) continue;
      auto day = k.days.find(st.get_int(1));
      if (day != k.days.end()) detail::EventKeys::merge_blob(day->second.keys, st.get_blob(2));
    }
    k.own_rows.clear();
  }
  const auto d = detail::EventKeys::day_of(time.micros());
  auto [it, fresh] = k.days.try_emplace(d);
  auto& day = it->second;
  if (fresh) {
    auto& st = raw_->prepare("SELECT keys FROM event_keys WHERE day = ? AND id <= ?");
    st.bind(1, d).bind(2, k.synced_id);
    while (st.step()) detail::EventKeys::merge_blob(day.keys, st.get_blob(0));
  }
  if (!day.keys.insert(key)) return false;
  day.added.push_back(key);
  return true;
}

std::int64_t Store::insert_event_keys(std::int64_t day, const std::vector<std::uint64_t>& keys) {
  std::string blob;
  detail::EventKeys::append_blob(blob, keys);
  auto& st = raw_->prepare("INSERT INTO event_keys (day, keys) VALUES (?, ?) RETURNING id");
  st.bind(1, day).bind_blob(2, blob);
  if (!st.step()) throw SqlError("insert event keys returned no id");
  const std::int64_t id = st.get_int(0);
  st.execute();
  return id;
}

void Store::write_event_keys() {
  auto& k = *keys_;
  k.own_rows.clear();
  for (auto& [d, day] : k.days) {
    if (day.added.empty()) continue;
    k.own_rows.push_back(insert_event_keys(d, day.added));
    day.added.clear();
  }
}

void Store::backfill_event_keys() {
  std::map<std::int64_t, std::vector<std::uint64_t>> by_day;
  auto& st = conn_->prepare("SELECT event_id, time FROM events");
  while (st.step()) {
    by_day[detail::EventKeys::day_of(st.get_int(1))].push_back(detail::EventKeys::key_of(st.get_text(0)));
  }
  for (const auto& [d, keys] : by_day) insert_event_keys(d, keys);
}

std::int64_t Store::json_base_id(const std::shared_ptr<const std::string>& base) {
  if (base == json_base_) return json_base_id_;
  const auto sha = core::sha256_hex(*base);
  std::int64_t id = 0;
  auto& find = raw_->prepare("SELECT id FROM event_json_bases WHERE sha256 = ?");
  find.bind(1, sha);
  if (find.step()) {
    id = find.get_int(0);
    find.execute();
  } else {
    auto& ins = raw_->prepare("INSERT INTO event_json_bases (sha256, json) VALUES (?, ?) RETURNING id");
    ins.bind(1, sha).bind(2, *base);
    if (!ins.step()) throw SqlError("insert event JSON base returned no id");
    id = ins.get_int(0);
    ins.execute();
  }
  json_base_ = base;
  json_base_id_ = id;
  return id;
}

std::optional<std::int64_t> Store::raw_prefix_id(std::string_view prefix) {
  if (!prefix_.empty() && prefix == prefix_) return prefix_id_;
  auto sha = core::sha256_hex(prefix);
  auto& find = raw_->prepare("SELECT id FROM event_raw_prefixes WHERE sha256 = ?");
  find.bind(1, sha);
  std::int64_t id = 0;
  if (find.step()) {
    id = find.get_int(0);
    find.execute();
  } else {
    auto& ins = raw_->prepare("INSERT INTO event_raw_prefixes (sha256, bytes) VALUES (?, ?) RETURNING id");
    ins.bind(1, sha).bind_blob(2, prefix);
    if (!ins.step()) throw SqlError("insert event prefix returned no id");
    id = ins.get_int(0);
    ins.execute();
  }
  prefix_.assign(prefix);
  prefix_id_ = id;
  return id;
}

namespace {

// What EventPreparer::prepare keeps of an event besides its JSON and evidence.
void prepare_texts(const core::Event& event, std::string_view event_id, PreparedEvent& out) {
  out.event_id.assign(event_id);
  out.key = detail::EventKeys::key_of(event_id);
  out.classification.clear();
  append_classification(out.classification, event.classification());
  out.source_ip.clear();
  if (auto ip = event.source_ip()) ip->append_to(out.source_ip);
  out.source_port = event.source_port();
  out.severity = core::to_string(event.severity());
}

// The evidence after its first line into out.raw, the first line into out.raw_prefix.
void split_evidence(std::string_view raw, PreparedEvent& out) {
  out.raw_prefix.clear();
  const auto nl = raw.find('\n');
  if (nl != std::string_view::npos && nl + 1 < raw.size()) {
    out.raw_prefix.assign(raw.substr(0, nl + 1));
    raw.remove_prefix(nl + 1);
  }
  out.raw.assign(raw);
}

// The report's base JSON (json_delta.hpp) from its first event's `json`: `base` stays null when
// that JSON cannot be split into members.
void start_base(std::string_view json, std::shared_ptr<const std::string>& base, std::vector<std::string_view>& members,
                bool& keys_distinct) {
  auto first = std::make_shared<std::string>(json);
  if (!detail::split_members(*first, members)) return;
  base = std::move(first);
  keys_distinct = detail::distinct_keys(members);
}

// `json` as a delta to `base` (scanning its members), or whole when it has none or cannot be split.
void encode_json(const std::shared_ptr<const std::string>& base, const std::vector<std::string_view>& members,
                 std::string_view json, std::string_view event_id, PreparedEvent& out) {
  out.json.clear();
  if (base && detail::encode_delta(members, json, out.json)) {
    out.json_base = base;
    out.id_in_json = event_id_in_json(json) == event_id;
  } else {
    out.json.assign(json);
    out.json_base.reset();
    out.id_in_json = false;
  }
}

}  // namespace

void EventPreparer::prepare(const core::Event& event, const core::JsonParts& parts, std::string_view json,
                            PreparedEvent& out) {
  // The JSON is what prepare() below makes of append_json's (the "raw" value emptied), and plain
  // keys and values make the members the ones split_members finds.
  const std::string_view event_id(parts.id, sizeof parts.id);
  prepare_texts(event, event_id, out);
  out.has_raw = !event.raw.empty();
  if (out.has_raw) {
    split_evidence(event.raw, out);
  } else {
    out.raw_prefix.clear();
    out.raw.clear();
  }
  if (!started_) {
    started_ = true;
    start_base(json, base_, base_members_, base_keys_distinct_);
  }
  if (base_ && base_keys_distinct_) {
    out.json.clear();
    detail::encode_delta(base_members_, json, parts.member_ends, out.json);
    out.json_base = base_;
    out.id_in_json = true;  // the one "event.id" member holds parts.id
  } else {
    encode_json(base_, base_members_, json, event_id, out);
  }
}

void EventPreparer::prepare(const core::Event& event, std::string_view event_id, std::string_view json,
                            PreparedEvent& out) {
  prepare_texts(event, event_id, out);
  // Compact evidence: the first line (e.g. the CSV header) kept once per distinct line by the
  // store, the rest as bytes, and the JSON with an empty "raw" value (assemble_json refills it).
  const std::size_t value = event.raw.empty() ? std::string_view::npos : raw_value_pos(json);
  const std::size_t value_end = value == std::string_view::npos ? value : json.find('"', value);
  std::string_view stored = json;
  out.has_raw = value_end != std::string_view::npos;
  out.raw_prefix.clear();
  out.raw.clear();
  if (out.has_raw) {
    compact_.assign(json.substr(0, value));
    compact_.append(json.substr(value_end));
    stored = compact_;
    split_evidence(event.raw, out);
  }
  // The JSON as a delta to the report's first event (json_delta.hpp), or whole.
  if (!started_) {
    started_ = true;
    start_base(stored, base_, base_members_, base_keys_distinct_);
  }
  encode_json(base_, base_members_, stored, event_id, out);
}

std::optional<std::int64_t> Store::add_event(std::int64_t report_id, const core::Event& event,
                                             std::string_view event_id, std::string_view json, core::Timestamp time,
                                             std::string_view customer_id, std::optional<std::int64_t> case_id,
                                             bool opens_case) {
  if (report_id != preparer_report_) {
    preparer_ = EventPreparer{};
    preparer_report_ = report_id;
  }
  preparer_.prepare(event, event_id, json, prepared_);
  return add_event(report_id, prepared_, time, customer_id, case_id, opens_case);
}

std::optional<std::int64_t> Store::add_event(std::int64_t report_id, const PreparedEvent& ev, core::Timestamp time,
                                             std::string_view customer_id, std::optional<std::int64_t> case_id,
                                             bool opens_case) {
  // The hot path of ingest: the event becomes a record of the block being filled (schema version 9),
  // written with the block when it is full, at commit, or before a read.
  if (!claim_event(ev.key, time)) return std::nullopt;
  auto& p = *pending_;
  auto& block = p.block;
  if (block.writer.count() != 0 && (block.report_id != report_id || block.writer.count() >= detail::kBlockEvents)) {
    write_block();
  }
  if (p.next_event_id == 0) p.next_event_id = read_next_event_id();
  if (block.writer.count() == 0) {
    block.report_id = report_id;
    block.first_id = p.next_event_id;
  }
  const std::int64_t id = p.next_event_id++;

  detail::BlockEvent rec;
  rec.classification = ev.classification;
  rec.source_ip = ev.source_ip;
  rec.source_port = ev.source_port;
  rec.time = time.micros();
  rec.severity = ev.severity;
  rec.customer_id = customer_id;
  rec.case_id = case_id;
  if (ev.has_raw) {
    if (!ev.raw_prefix.empty()) rec.raw_prefix_id = *raw_prefix_id(ev.raw_prefix);
    rec.raw = ev.raw;
  }
  rec.json = ev.json;
  if (ev.json_base) rec.json_base_id = json_base_id(ev.json_base);
  if (!ev.json_base || !ev.id_in_json) rec.event_id = ev.event_id;
  block.writer.append(rec);
  if (customer_id.empty()) ++block.unassigned;
  if (case_id && !(opens_case && block.extend_run(*case_id))) block.case_ids.push_back(*case_id);
  if (!in_transaction_) {
    // Outside a transaction every statement stands alone: so does this event.
    write_block();
    write_block_cases();
    p.next_event_id = 0;
  }
  return id;
}

std::int64_t Store::read_next_event_id() {
  // Writers take turns (SQLite: BEGIN IMMEDIATE; PostgreSQL: the lock claim_event takes), so no
  // other writer numbers events until this transaction ends.
  auto& st = raw_->prepare(
      "SELECT COALESCE(MAX(m), 0) FROM (SELECT MAX(id) AS m FROM events UNION ALL "
      "SELECT MAX(id + count - 1) AS m FROM event_blocks) AS ids");
  const std::int64_t last = st.step() ? st.get_int(0) : 0;
  st.execute();
  return last + 1;
}

void Store::write_block() {
  auto& block = pending_->block;
  if (block.writer.count() == 0) return;
  auto& st = raw_->prepare(
      "INSERT INTO event_blocks (id, report_id, count, unassigned, data, new_cases_first, new_cases) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)");
  st.bind(1, block.first_id)
      .bind(2, block.report_id)
      .bind(3, static_cast<std::int64_t>(block.writer.count()))
      .bind(4, block.unassigned)
      .bind_blob_ref(5, block.writer.data())
      .bind(7, block.new_cases);
  if (block.new_cases == 0) {
    st.bind_null(6);
  } else {
    st.bind(6, block.new_cases_first);
  }
  st.execute();
  auto& ids = block.case_ids;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (const auto case_id : ids) pending_->block_cases.emplace_back(case_id, block.first_id);
  block.writer.clear();
  block.case_ids.clear();
  block.unassigned = 0;
  block.new_cases_first = block.new_cases = 0;
}

namespace {

// An event_blocks row, copied out of its statement (its events are decoded after the statement
// ran, with lookups of their JSON bases and prefixes in between).
struct StoredBlock {
  std::int64_t id = 0;
  std::int64_t report_id = 0;
  std::string data;
};

std::vector<StoredBlock> select_blocks(Connection& c, std::string_view sql, std::optional<std::int64_t> param) {
  auto& st = c.prepare(sql);
  if (param) st.bind(1, *param);
  std::vector<StoredBlock> out;
  while (st.step()) out.push_back({st.get_int(0), st.get_int(1), st.get_blob(2)});
  return out;
}

// Appends the events of `blocks` that keep(id, event) accepts to `out`, as read_event gives them.
template <typename Keep>
void decode_blocks(Connection& c, const std::vector<StoredBlock>& blocks, Keep&& keep, std::vector<EventRow>& out) {
  std::unordered_map<std::int64_t, std::string> bases, prefixes;
  auto lookup = [&](std::unordered_map<std::int64_t, std::string>& cache, std::string_view sql,
                    std::int64_t id) -> std::string_view {
    auto it = cache.find(id);
    if (it == cache.end()) {
      auto& st = c.prepare(sql);
      st.bind(1, id);
      if (!st.step())
        throw SqlError("event block refers to a missing row " + std::string(sql) + " id=" + std::to_string(id));
      it = cache.emplace(id, st.get_blob(0)).first;
      st.execute();
    }
    return it->second;
  };
  for (const auto& b : blocks) {
    const bool ok = detail::decode_block(b.data, [&](std::size_t i, const detail::BlockEvent& ev) {
      const std::int64_t id = b.id + static_cast<std::int64_t>(i);
      if (!keep(id, ev)) return;
      EventRow e;
      e.id = id;
      e.event_id = std::string(ev.event_id);
      e.report_id = b.report_id;
      e.classification = std::string(ev.classification);
      if (!ev.source_ip.empty()) e.source_ip = core::IpAddress::parse(ev.source_ip);
      e.source_port = ev.source_port;
      e.time = core::Timestamp::from_micros(ev.time);
      e.severity = core::parse_severity(ev.severity).value_or(core::Severity::kUnknown);
      e.customer_id = std::string(ev.customer_id);
      e.case_id = ev.case_id;
      std::optional<std::pair<std::string_view, std::string_view>> evidence;
      if (ev.raw) {
        evidence.emplace(ev.raw_prefix_id == 0
                             ? std::string_view()
                             : lookup(prefixes, "SELECT bytes FROM event_raw_prefixes WHERE id = ?", ev.raw_prefix_id),
                         *ev.raw);
      }
      std::optional<std::string_view> base;
      if (ev.json_base_id != 0) {
        base = lookup(bases, "SELECT json FROM event_json_bases WHERE id = ?", ev.json_base_id);
      }
      assemble_json(e, ev.json, base, evidence);
      out.push_back(std::move(e));
    });
    if (!ok) throw SqlError("event block " + std::to_string(b.id) + " does not decode");
  }
}

// Sorts by `before` and keeps the first `limit` (0: all).
template <typename Before>
void sort_and_limit(std::vector<EventRow>& rows, std::size_t limit, Before before) {
  if (limit > 0 && rows.size() > limit) {
    std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(limit), rows.end(), before);
    rows.resize(limit);
  } else {
    std::sort(rows.begin(), rows.end(), before);
  }
}

}  // namespace

std::optional<EventRow> Store::event(std::int64_t row_id) {
  {
    auto& st = conn_->prepare(std::string(kEventSelect) + " WHERE e.id = ?");
    st.bind(1, row_id);
    if (st.step()) {
      auto e = read_event(st);
      st.execute();
      return e;
    }
  }
  std::vector<EventRow> out;
  decode_blocks(
      *conn_,
      select_blocks(*conn_, "SELECT id, report_id, data FROM event_blocks WHERE id <= ? ORDER BY id DESC LIMIT 1",
                    row_id),
      [&](std::int64_t id, const detail::BlockEvent&) { return id == row_id; }, out);
  if (out.empty()) return std::nullopt;
  return std::move(out.front());
}

std::vector<EventRow> Store::case_events(std::int64_t case_id, std::size_t limit) {
  std::vector<EventRow> out;
  {
    auto& st =
        conn_->prepare(with_limit(std::string(kEventSelect) + " WHERE e.case_id = ? ORDER BY e.time, e.id", limit));
    st.bind(1, case_id);
    while (st.step()) out.push_back(read_event(st));
  }
  auto blocks = select_blocks(*conn_,
                              "SELECT b.id, b.report_id, b.data FROM event_block_cases c JOIN event_blocks b ON "
                              "b.id = c.block_id WHERE c.case_id = ? ORDER BY b.id",
                              case_id);
  // The block that opened the case, when the case is in its run of opened cases (version 10).
  std::optional<std::int64_t> opened_in;
  {
    auto& st = conn_->prepare(
        "SELECT id, new_cases_first, new_cases FROM event_blocks WHERE new_cases_first <= ? "
        "ORDER BY new_cases_first DESC LIMIT 1");
    st.bind(1, case_id);
    if (st.step() && case_id < st.get_int(1) + st.get_int(2)) opened_in = st.get_int(0);
    st.execute();
  }
  if (opened_in && std::none_of(blocks.begin(), blocks.end(), [&](const auto& b) { return b.id == *opened_in; })) {
    auto more = select_blocks(*conn_, "SELECT id, report_id, data FROM event_blocks WHERE id = ?", *opened_in);
    blocks.insert(std::upper_bound(blocks.begin(), blocks.end(), *opened_in,
                                   [](std::int64_t id, const auto& b) { return id < b.id; }),
                  std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  decode_blocks(
      *conn_, blocks, [&](std::int64_t, const detail::BlockEvent& ev) { return ev.case_id == case_id; }, out);
  sort_and_limit(out, limit,
                 [](const EventRow& a, const EventRow& b) { return a.time != b.time ? a.time < b.time : a.id < b.id; });
  return out;
}

std::vector<EventRow> Store::unassigned_events(std::size_t limit) {
  auto before = [](const EventRow& a, const EventRow& b) { return a.time != b.time ? a.time > b.time : a.id > b.id; };
  std::vector<EventRow> out;
  {
    auto& st = conn_->prepare(
        with_limit(std::string(kEventSelect) + " WHERE e.customer_id IS NULL ORDER BY e.time DESC, e.id DESC", limit));
    while (st.step()) out.push_back(read_event(st));
  }
  // Block by block, so a limited listing holds about `limit` decoded events, not all of them.
  std::vector<std::int64_t> ids;
  {
    auto& st = conn_->prepare("SELECT id FROM event_blocks WHERE unassigned > 0 ORDER BY id");
    while (st.step()) ids.push_back(st.get_int(0));
  }
  for (const auto id : ids) {
    decode_blocks(
        *conn_, select_blocks(*conn_, "SELECT id, report_id, data FROM event_blocks WHERE id = ?", id),
        [](std::int64_t, const detail::BlockEvent& ev) { return ev.customer_id.empty(); }, out);
    if (limit > 0 && out.size() > 2 * limit) sort_and_limit(out, limit, before);
  }
  sort_and_limit(out, limit, before);
  return out;
}

std::int64_t Store::count_events() {
  auto& st =
      conn_->prepare("SELECT (SELECT COUNT(*) FROM events) + (SELECT COALESCE(SUM(count), 0) FROM event_blocks)");
  return st.step() ? st.get_int(0) : 0;
}

// ---- issues ----
void Store::add_issue(std::optional<std::int64_t> report_id, const formats::ParseIssue& i) {
  // Between buffered events (ingest): on the backend's connection, so they stay buffered.
  raw_->prepare(
          "INSERT INTO parse_issues (report_id, code, input, line, byte_offset, reason, excerpt, hint) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(1, report_id)
      .bind(2, i.code)
      .bind(3, i.input)
      .bind(4, static_cast<std::int64_t>(i.line))
      .bind(5, static_cast<std::int64_t>(i.byte_offset))
      .bind(6, i.reason)
      .bind(7, i.excerpt)
      .bind(8, i.hint)
      .execute();
}

std::vector<StoredIssue> Store::issues(std::optional<std::int64_t> report_id) {
  auto& st = conn_->prepare(
      report_id ? "SELECT id, report_id, code, input, line, byte_offset, reason, excerpt, hint FROM parse_issues "
                  "WHERE report_id = ? ORDER BY id"
                : "SELECT id, report_id, code, input, line, byte_offset, reason, excerpt, hint FROM parse_issues "
                  "WHERE report_id IS NULL ORDER BY id");
  if (report_id) st.bind(1, *report_id);
  std::vector<StoredIssue> out;
  while (st.step()) {
    StoredIssue s;
    s.id = st.get_int(0);
    s.report_id = st.get_opt_int(1);
    s.issue.code = std::string(st.get_text(2));
    s.issue.input = std::string(st.get_text(3));
    s.issue.line = static_cast<std::uint64_t>(st.get_int(4));
    s.issue.byte_offset = static_cast<std::uint64_t>(st.get_int(5));
    s.issue.reason = std::string(st.get_text(6));
    s.issue.excerpt = std::string(st.get_text(7));
    s.issue.hint = std::string(st.get_text(8));
    out.push_back(std::move(s));
  }
  return out;
}

// ---- holder index snapshot ----
Store::HolderSnapshot Store::holder_snapshot() {
  auto& st = conn_->prepare(
      "SELECT generation, CASE WHEN built_generation = generation THEN image END FROM holder_snapshot WHERE id = 1");
  HolderSnapshot out;
  if (!st.step()) return out;
  out.generation = st.get_int(0);
  if (!st.is_null(1)) out.image = st.get_blob(1);
  st.execute();
  return out;
}

void Store::save_holder_snapshot(std::int64_t generation, std::string_view image) {
  if (!in_transaction_) throw std::logic_error("save_holder_snapshot outside a transaction");
  conn_->prepare("UPDATE holder_snapshot SET built_generation = generation, image = ? WHERE id = 1 AND generation = ?")
      .bind_blob(1, image)
      .bind(2, generation)
      .execute();
}

void Store::customer_data_changed() {
  if (generation_bumped_) return;
  // The image goes at once: a stale one is never read again, and it is tens of megabytes.
  conn_
      ->prepare(
          "UPDATE holder_snapshot SET generation = generation + 1, built_generation = NULL, image = NULL "
          "WHERE id = 1")
      .execute();
  generation_bumped_ = in_transaction_;
}

// ---- customers ----
void Store::upsert_customer(const customers::Customer& c) {
  // The holder index knows customers by their id only, from assignments and sessions.
  conn_
      ->prepare(
          "INSERT INTO customers (id, name, emails, language, time_zone, accounts) VALUES (?, ?, ?, ?, ?, ?) "
          "ON CONFLICT (id) DO UPDATE SET name = excluded.name, emails = excluded.emails, "
          "language = excluded.language, time_zone = excluded.time_zone, accounts = excluded.accounts")
      .bind(1, c.id)
      .bind(2, c.name)
      .bind(3, join_lines(c.emails))
      .bind(4, c.language)
      .bind(5, c.time_zone)
      .bind(6, join_lines(c.accounts))
      .execute();
}

namespace {
customers::Customer read_customer(const Statement& st) {
  customers::Customer c;
  c.id = std::string(st.get_text(0));
  c.name = std::string(st.get_text(1));
  c.emails = split_lines(st.get_text(2));
  c.language = std::string(st.get_text(3));
  c.time_zone = std::string(st.get_text(4));
  c.accounts = split_lines(st.get_text(5));
  return c;
}
}  // namespace

std::optional<customers::Customer> Store::customer(std::string_view id) {
  auto& st = conn_->prepare("SELECT id, name, emails, language, time_zone, accounts FROM customers WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  auto c = read_customer(st);
  st.execute();
  return c;
}

std::vector<customers::Customer> Store::list_customers() {
  auto& st = conn_->prepare("SELECT id, name, emails, language, time_zone, accounts FROM customers ORDER BY id");
  std::vector<customers::Customer> out;
  while (st.step()) out.push_back(read_customer(st));
  return out;
}

bool Store::add_assignment(const customers::StaticAssignment& a) {
  // UNIQUE treats NULLs as distinct, so look for the same row first (IS NOT DISTINCT FROM: NULL-safe
  // equality in both SQLite and PostgreSQL).
  auto& find = conn_->prepare(
      "SELECT 1 FROM assignments WHERE customer_id = ? AND prefix = ? AND valid_from IS NOT DISTINCT FROM ? AND "
      "valid_to IS NOT DISTINCT FROM ?");
  auto prefix = a.prefix.to_string();
  find.bind(1, a.customer_id).bind(2, prefix).bind(3, opt_micros(a.valid_from)).bind(4, opt_micros(a.valid_to));
  if (find.step()) {
    find.execute();
    return false;
  }
  customer_data_changed();
  conn_->prepare("INSERT INTO assignments (customer_id, prefix, valid_from, valid_to) VALUES (?, ?, ?, ?)")
      .bind(1, a.customer_id)
      .bind(2, prefix)
      .bind(3, opt_micros(a.valid_from))
      .bind(4, opt_micros(a.valid_to))
      .execute();
  return true;
}

std::vector<customers::StaticAssignment> Store::list_assignments() {
  auto& st = conn_->prepare("SELECT customer_id, prefix, valid_from, valid_to FROM assignments ORDER BY id");
  std::vector<customers::StaticAssignment> out;
  while (st.step()) {
    auto p = core::IpPrefix::parse(st.get_text(1));
    if (!p) continue;
    out.push_back({std::string(st.get_text(0)), *p, opt_time(st, 2), opt_time(st, 3)});
  }
  return out;
}

bool Store::upsert_session(const customers::Session& s) {
  auto prefix = s.prefix.to_string();
  std::optional<std::int64_t> pf, pt;
  if (s.port_from) pf = *s.port_from;
  if (s.port_to) pt = *s.port_to;
  if (s.session_key.empty()) {
    auto& find = conn_->prepare(
        "SELECT 1 FROM sessions WHERE customer_id = ? AND prefix = ? AND port_from IS NOT DISTINCT FROM ? AND port_to "
        "IS NOT DISTINCT FROM ? AND "
        "start = ? AND session_key IS NULL");
    find.bind(1, s.customer_id).bind(2, prefix).bind(3, pf).bind(4, pt).bind(5, s.start.micros());
    if (find.step()) {
      find.execute();
      return false;
    }
  }
  auto& st = conn_->prepare(
      "INSERT INTO sessions (customer_id, prefix, port_from, port_to, start, stop, session_key, source) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session_key) WHERE session_key IS NOT NULL DO UPDATE SET "
      "start = CASE WHEN excluded.start < sessions.start THEN excluded.start ELSE sessions.start END, "
      "stop = COALESCE(excluded.stop, sessions.stop) "
      "WHERE excluded.start < sessions.start OR (excluded.stop IS NOT NULL AND "
      "(sessions.stop IS NULL OR sessions.stop <> excluded.stop))");
  st.bind(1, s.customer_id).bind(2, prefix).bind(3, pf).bind(4, pt).bind(5, s.start.micros());
  st.bind(6, opt_micros(s.stop));
  if (s.session_key.empty()) {
    st.bind_null(7);
  } else {
    st.bind(7, s.session_key);
  }
  st.bind(8, s.source).execute();
  if (st.changes() == 0) return false;
  customer_data_changed();
  return true;
}

namespace {
// Columns customer_id, prefix, port_from, port_to, start, stop (the first six of a sessions SELECT).
void read_session_view(const Statement& st, Store::SessionView& v) {
  v.customer_id = st.get_text(0);
  v.prefix = st.get_text(1);
  v.port_from.reset();
  v.port_to.reset();
  if (!st.is_null(2)) v.port_from = static_cast<std::uint16_t>(st.get_int(2));
  if (!st.is_null(3)) v.port_to = static_cast<std::uint16_t>(st.get_int(3));
  v.start = core::Timestamp::from_micros(st.get_int(4));
  v.stop = opt_time(st, 5);
}
}  // namespace

void Store::for_each_session(const std::function<void(const customers::Session&)>& fn) {
  auto& st = conn_->prepare(
      "SELECT customer_id, prefix, port_from, port_to, start, stop, session_key, source FROM sessions ORDER BY id");
  customers::Session s;
  SessionView v;
  while (st.step()) {
    read_session_view(st, v);
    auto p = core::IpPrefix::parse(v.prefix);
    if (!p) continue;
    s.customer_id.assign(v.customer_id);
    s.prefix = *p;
    s.port_from = v.port_from;
    s.port_to = v.port_to;
    s.start = v.start;
    s.stop = v.stop;
    s.session_key.assign(st.get_text(6));
    s.source.assign(st.get_text(7));
    fn(s);
  }
}

void Store::for_each_session_view(const std::function<void(const SessionView&)>& fn) {
  auto& st = conn_->prepare("SELECT customer_id, prefix, port_from, port_to, start, stop FROM sessions ORDER BY id");
  SessionView v;
  while (st.step()) {
    read_session_view(st, v);
    fn(v);
  }
}

std::int64_t Store::count_sessions() {
  auto& st = conn_->prepare("SELECT COUNT(*) FROM sessions");
  return st.step() ? st.get_int(0) : 0;
}

// ---- cases ----
namespace {
// Keeps the cases id sequence ahead of ids written explicitly (a serial column's sequence does not see them).
constexpr const char* kCaseSequencePast =
    "SELECT setval(pg_get_serial_sequence('cases', 'id'), GREATEST(?, nextval(pg_get_serial_sequence('cases', 'id'))))";

// Binds every column of a case but its id, in kCaseColumns order, from parameter `first` on.
// Text is bound by reference (to `c` and to buffers reused per call): run the statement before the
// next bind_case.
void bind_case(Statement& st, int first, const cases::Case& c) {
  thread_local std::string cls, ip;
  cls.clear();
  append_classification(cls, c.classification);
  ip.clear();
  c.source_ip.append_to(ip);
  st.bind_ref(first, c.customer_id)
      .bind_ref(first + 1, cls)
      .bind_ref(first + 2, ip)
      .bind_ref(first + 3, cases::to_string(c.state))
      .bind(first + 4, c.event_count)
      .bind(first + 5, c.first_seen.micros())
      .bind(first + 6, c.last_seen.micros())
      .bind_ref(first + 7, core::to_string(c.severity));
  if (c.source_port) {
    st.bind(first + 8, static_cast<std::int64_t>(*c.source_port));
  } else {
    st.bind_null(first + 8);
  }
  st.bind(first + 9, c.created.micros())
      .bind(first + 10, c.updated.micros())
      .bind(first + 11, c.notifications)
      .bind(first + 12, opt_micros(c.last_notified))
      .bind(first + 13, c.notified_event_count);
  bind_state(st, first + 14, c.notified_state);
  st.bind(first + 15, opt_micros(c.resolved_at));
}
// Binds every column of a new case (NewCase) as insert_case_with_id does, id first; `ip` is its
// source_ip's text. Bound by reference: run the statement before the views go.
void bind_new_case(Statement& st, const Store::NewCase& c, std::string_view ip) {
  st.bind(1, c.id)
      .bind_ref(2, c.customer_id)
      .bind_ref(3, c.classification)
      .bind_ref(4, ip)
      .bind_ref(5, cases::to_string(cases::CaseState::kOpen))
      .bind(6, c.event_count)
      .bind(7, c.first_seen.micros())
      .bind(8, c.last_seen.micros())
      .bind_ref(9, core::to_string(c.severity));
  if (c.source_port) {
    st.bind(10, static_cast<std::int64_t>(*c.source_port));
  } else {
    st.bind_null(10);
  }
  st.bind(11, c.created.micros())
      .bind(12, c.updated.micros())
      .bind(13, std::int64_t{0})
      .bind_null(14)
      .bind(15, std::int64_t{0})
      .bind_null(16)
      .bind_null(17);
  if (c.opened_reason.empty()) {
    st.bind_null(18);
  } else {
    st.bind_ref(18, c.opened_reason);
  }
}

// SQLite's multi-row INSERT of new cases. The columns every new case has the same value in (state
// 'open', no letter, never resolved) are literals, so a row binds 12 values, not 18; the literals
// are stored exactly as the bound values of the single-row INSERT. Statements for 64, 32, ..., 1
// rows: a batch is written by the largest that fit.
constexpr std::size_t kNewCaseRowsLog2 = 6;
constexpr int kNewCaseParams = 12;
const std::string& new_cases_sql(std::size_t log2_rows) {
  static const auto kSql = [] {
    std::array<std::string, kNewCaseRowsLog2 + 1> out;
    for (std::size_t k = 0; k <= kNewCaseRowsLog2; ++k) {
      std::string& sql = out[k];
      sql = "INSERT INTO cases (" + std::string(kCaseColumns) + ", opened_reason) VALUES ";
      for (std::size_t r = 0; r < (std::size_t{1} << k); ++r) {
        if (r > 0) sql += ", ";
        sql += "(?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, 0, NULL, 0, NULL, NULL, ?)";
      }
    }
    return out;
  }();
  return kSql[log2_rows];
}

// Binds new case `c` as row `row` (0-based) of a new_cases_sql statement.
void bind_new_case_row(Statement& st, std::size_t row, const Store::NewCase& c, std::string_view ip) {
  const int p = static_cast<int>(row) * kNewCaseParams;
  st.bind(p + 1, c.id)
      .bind_ref(p + 2, c.customer_id)
      .bind_ref(p + 3, c.classification)
      .bind_ref(p + 4, ip)
      .bind(p + 5, c.event_count)
      .bind(p + 6, c.first_seen.micros())
      .bind(p + 7, c.last_seen.micros())
      .bind_ref(p + 8, core::to_string(c.severity));
  if (c.source_port) {
    st.bind(p + 9, static_cast<std::int64_t>(*c.source_port));
  } else {
    st.bind_null(p + 9);
  }
  st.bind(p + 10, c.created.micros()).bind(p + 11, c.updated.micros());
  if (c.opened_reason.empty()) {
    st.bind_null(p + 12);
  } else {
    st.bind_ref(p + 12, c.opened_reason);
  }
}

// The rows of Store::insert_new_cases on SQLite, by the largest new_cases_sql statements that fit.
void write_new_cases_sqlite(Connection& raw, const std::vector<Store::NewCase>& cases) {
  thread_local std::string ips;                // the rows' address texts, bound by reference
  constexpr std::size_t kMaxAddressText = 46;  // INET6_ADDRSTRLEN
  std::size_t done = 0;
  while (done < cases.size()) {
    std::size_t k = kNewCaseRowsLog2;
    while ((std::size_t{1} << k) > cases.size() - done) --k;
    const std::size_t rows = std::size_t{1} << k;
    auto& st = raw.prepare(new_cases_sql(k));
    ips.clear();
    ips.reserve(rows * kMaxAddressText);  // no reallocation below: the bound views stay valid
    for (std::size_t r = 0; r < rows; ++r) {
      const auto& c = cases[done + r];
      const std::size_t at = ips.size();
      c.source_ip.append_to(ips);
      bind_new_case_row(st, r, c, std::string_view(ips).substr(at));
    }
    st.execute();
    done += rows;
  }
}

}  // namespace

std::string Store::classification_text(const core::Classification& c) {
  std::string s;
  append_classification(s, c);
  return s;
}

void Store::insert_new_cases(const std::vector<NewCase>& cases) {
  if (cases.empty()) return;
  thread_local std::string ips;  // the rows' address texts, bound by reference
  if (backend() != "sqlite") {
    // PostgreSQL: the rows insert_case_with_id writes (buffered in a transaction).
    for (const auto& c : cases) {
      ips.clear();
      c.source_ip.append_to(ips);
      if (buffering()) {
        auto& p = *pending_;
        bind_new_case(p.cases.add_row(), c, ips);
        p.case_ids.insert(c.id);
        p.max_case_id = std::max(p.max_case_id, c.id);
        if (p.cases.rows() >= detail::RowBuffer::kMaxRows) flush_cases();
        continue;
      }
      auto& st = raw_->prepare(
          "INSERT INTO cases (id, customer_id, classification, source_ip, state, event_count, first_seen, last_seen, "
          "severity, source_port, created, updated, notifications, last_notified, notified_event_count, "
          "notified_state, resolved_at, opened_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      bind_new_case(st, c, ips);
      st.execute();
      raw_->prepare(kCaseSequencePast).bind(1, c.id).execute();
    }
    return;
  }
  // All or nothing: a caller that sees this throw knows that none of the rows is stored, not the
  // first statements' rows only (cases::CaseBook::flush leaves them all to write again).
  raw_->exec_script("SAVEPOINT klartext_new_cases");
  try {
    write_new_cases_sqlite(*raw_, cases);
  } catch (...) {
    try {
      raw_->exec_script("ROLLBACK TO klartext_new_cases; RELEASE klartext_new_cases");
    } catch (const std::exception& e) {
      spdlog::warn("new cases savepoint not rolled back error={}", e.what());
    }
    throw;
  }
  raw_->exec_script("RELEASE klartext_new_cases");
}

std::int64_t Store::insert_case(const cases::Case& c) {
  auto& st = conn_->prepare(
      "INSERT INTO cases (customer_id, classification, source_ip, state, event_count, first_seen, last_seen, "
      "severity, source_port, created, updated, notifications, last_notified, notified_event_count, notified_state, "
      "resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  bind_case(st, 1, c);
  if (!st.step()) throw SqlError("insert case returned no id");
  auto id = st.get_int(0);
  st.execute();
  return id;
}

void Store::insert_case_with_id(const cases::Case& c, std::string_view opened_reason) {
  auto bind_opened = [&](Statement& st) -> Statement& {
    return opened_reason.empty() ? st.bind_null(18) : st.bind_ref(18, opened_reason);
  };
  if (buffering()) {
    auto& p = *pending_;
    auto& row = p.cases.add_row();
    row.bind(1, c.id);
    bind_case(row, 2, c);
    bind_opened(row);
    p.case_ids.insert(c.id);
    p.max_case_id = std::max(p.max_case_id, c.id);
    if (p.cases.rows() >= detail::RowBuffer::kMaxRows) flush_cases();
    return;
  }
  auto& st = raw_->prepare(
      "INSERT INTO cases (id, customer_id, classification, source_ip, state, event_count, first_seen, last_seen, "
      "severity, source_port, created, updated, notifications, last_notified, notified_event_count, notified_state, "
      "resolved_at, opened_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  st.bind(1, c.id);
  bind_case(st, 2, c);
  bind_opened(st).execute();
  if (backend() == "postgres") {
    raw_->prepare(kCaseSequencePast).bind(1, c.id).execute();
  }
}

bool Store::buffering() const {
  return pending_->in_tx;
}

void Store::flush_cases() {
  auto& p = *pending_;
  if (p.cases.empty()) return;
  p.cases.write(*raw_);
  raw_->prepare(kCaseSequencePast).bind(1, p.max_case_id).execute();
  p.case_ids.clear();
}

void Store::flush_pending() {
  auto& p = *pending_;
  if (!p.any()) return;
  // Cases first: history rows refer to them.
  flush_cases();
  p.history.write(*raw_);
  write_block();
  write_block_cases();
}

void Store::prefetch_event(std::uint64_t key, core::Timestamp time) const {
  const auto& days = keys_->days;
  auto day = days.find(detail::EventKeys::day_of(time.micros()));
  if (day != days.end()) day->second.keys.prefetch(key);
}

void Store::write_block_cases() {
  auto& pairs = pending_->block_cases;
  std::sort(pairs.begin(), pairs.end());
  auto& rows = pending_->block_case_rows;
  for (const auto& [case_id, block_id] : pairs) {
    rows.add_row().bind(1, case_id).bind(2, block_id);
    if (rows.rows() >= detail::RowBuffer::kMaxRows) rows.write(*raw_);
  }
  rows.write(*raw_);
  pairs.clear();
}

void Store::end_pending(bool commit) {
  auto& p = *pending_;
  struct Reset {
    detail::PendingWrites& p;
    ~Reset() {
      p.cases.clear();
      p.history.clear();
      p.block.writer.clear();
      p.block.case_ids.clear();
      p.block.unassigned = 0;
      p.block.new_cases_first = p.block.new_cases = 0;
      p.block_cases.clear();
      p.block_case_rows.clear();
      p.case_ids.clear();
      p.max_case_id = 0;
      p.next_event_id = 0;
      p.in_tx = false;
    }
  } reset{p};
  if (commit) flush_pending();
}

std::int64_t Store::max_case_id() {
  auto& st = conn_->prepare("SELECT COALESCE(MAX(id), 0) FROM cases");
  return st.step() ? st.get_int(0) : 0;
}

void Store::update_case_events(const cases::Case& c, bool with_state) {
  CaseEvents e;
  e.id = c.id;
  e.event_count = c.event_count;
  e.first_seen = c.first_seen;
  e.last_seen = c.last_seen;
  e.severity = c.severity;
  e.source_port = c.source_port;
  e.updated = c.updated;
  if (with_state) e.state = c.state;
  update_case_events(e);
}

void Store::update_case_events(const CaseEvents& c) {
  // Called per case by CaseBook::flush between its inserts: writes the buffered cases only when
  // this one is among them.
  if (!pending_->case_ids.empty() && pending_->case_ids.count(c.id) != 0) flush_cases();
  auto& st = raw_->prepare(c.state ? "UPDATE cases SET event_count = ?, first_seen = ?, last_seen = ?, severity = ?, "
                                     "source_port = ?, updated = ?, state = ? WHERE id = ?"
                                   : "UPDATE cases SET event_count = ?, first_seen = ?, last_seen = ?, severity = ?, "
                                     "source_port = ?, updated = ? WHERE id = ?");
  st.bind(1, c.event_count)
      .bind(2, c.first_seen.micros())
      .bind(3, c.last_seen.micros())
      .bind_ref(4, core::to_string(c.severity));
  if (c.source_port) {
    st.bind(5, static_cast<std::int64_t>(*c.source_port));
  } else {
    st.bind_null(5);
  }
  st.bind(6, c.updated.micros());
  if (c.state) {
    st.bind_ref(7, cases::to_string(*c.state)).bind(8, c.id);
  } else {
    st.bind(7, c.id);
  }
  st.execute();
}

void Store::update_case(const cases::Case& c) {
  auto& st = conn_->prepare(
      "UPDATE cases SET state = ?, event_count = ?, first_seen = ?, last_seen = ?, severity = ?, source_port = ?, "
      "updated = ?, notifications = ?, last_notified = ?, notified_event_count = ?, notified_state = ?, "
      "resolved_at = ? WHERE id = ?");
  st.bind(1, cases::to_string(c.state))
      .bind(2, c.event_count)
      .bind(3, c.first_seen.micros())
      .bind(4, c.last_seen.micros())
      .bind(5, core::to_string(c.severity));
  if (c.source_port) {
    st.bind(6, static_cast<std::int64_t>(*c.source_port));
  } else {
    st.bind_null(6);
  }
  st.bind(7, c.updated.micros())
      .bind(8, c.notifications)
      .bind(9, opt_micros(c.last_notified))
      .bind(10, c.notified_event_count);
  bind_state(st, 11, c.notified_state);
  st.bind(12, opt_micros(c.resolved_at)).bind(13, c.id).execute();
}

void Store::delete_case(std::int64_t id) {
  conn_->prepare("DELETE FROM case_history WHERE case_id = ?").bind(1, id).execute();
  conn_->prepare("DELETE FROM cases WHERE id = ?").bind(1, id).execute();
}

std::optional<cases::Case> Store::get_case(std::int64_t id) {
  auto& st = conn_->prepare("SELECT " + std::string(kCaseColumns) + " FROM cases WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  auto c = read_case(st);
  st.execute();
  return c;
}

std::optional<cases::Case> Store::find_active_case(std::string_view customer_id, const core::Classification& cls,
                                                   const core::IpAddress& source_ip) {
  auto& st = conn_->prepare("SELECT " + std::string(kCaseColumns) +
                            " FROM cases WHERE customer_id = ? AND classification = ? AND source_ip = ? AND "
                            "state <> 'closed' ORDER BY id DESC LIMIT 1");
  st.bind(1, customer_id).bind(2, cls.to_string()).bind(3, source_ip.to_string());
  if (!st.step()) return std::nullopt;
  auto c = read_case(st);
  st.execute();
  return c;
}

std::vector<cases::Case> Store::active_cases_after(std::int64_t after_id) {
  auto& st = conn_->prepare("SELECT " + std::string(kCaseColumns) +
                            " FROM cases WHERE id > ? AND state <> 'closed' ORDER BY id");
  st.bind(1, after_id);
  std::vector<cases::Case> out;
  while (st.step()) out.push_back(read_case(st));
  return out;
}

std::vector<cases::Case> Store::list_cases(const CaseFilter& f) {
  std::string sql = "SELECT " + std::string(kCaseColumns) + " FROM cases WHERE 1 = 1";
  if (!f.customer_id.empty()) sql += " AND customer_id = ?";
  if (f.state) sql += " AND state = ?";
  if (f.active_only) sql += " AND state <> 'closed'";
  if (!f.classification_prefix.empty()) sql += " AND substr(classification, 1, ?) = ?";
  if (f.source_ip) sql += " AND source_ip = ?";
  sql += " ORDER BY customer_id, id";
  auto& st = conn_->prepare(sql);
  int i = 1;
  if (!f.customer_id.empty()) st.bind(i++, f.customer_id);
  if (f.state) st.bind(i++, cases::to_string(*f.state));
  if (!f.classification_prefix.empty()) {
    st.bind(i++, static_cast<std::int64_t>(f.classification_prefix.size()));
    st.bind(i++, f.classification_prefix);
  }
  if (f.source_ip) st.bind(i++, f.source_ip->to_string());
  std::vector<cases::Case> out;
  while (st.step()) out.push_back(read_case(st));
  return out;
}

void Store::add_transition(const cases::Transition& t) {
  const bool buffered = buffering();
  auto& st = buffered
                 ? pending_->history.add_row()
                 : raw_->prepare(
                       "INSERT INTO case_history (case_id, from_state, to_state, time, reason) VALUES (?, ?, ?, ?, "
                       "?)");
  st.bind(1, t.case_id);
  if (t.from) {
    st.bind(2, cases::to_string(*t.from));
  } else {
    st.bind_null(2);
  }
  st.bind(3, cases::to_string(t.to)).bind(4, t.time.micros()).bind_ref(5, t.reason);
  if (!buffered) {
    st.execute();
  } else if (pending_->history.rows() >= detail::RowBuffer::kMaxRows) {
    flush_cases();
    pending_->history.write(*raw_);
  }
}

std::vector<cases::Transition> Store::case_history(std::int64_t case_id) {
  // The opening kept in the case row (schema version 6) first, then the history rows.
  auto& st = conn_->prepare(
      "SELECT id, NULL, 'open', created, opened_reason, 0 AS part, 0 AS row_id FROM cases "
      "WHERE id = ? AND opened_reason IS NOT NULL "
      "UNION ALL SELECT case_id, from_state, to_state, time, reason, 1, id FROM case_history WHERE case_id = ? "
      "ORDER BY part, row_id");
  st.bind(1, case_id).bind(2, case_id);
  std::vector<cases::Transition> out;
  while (st.step()) {
    cases::Transition t;
    t.case_id = st.get_int(0);
    if (!st.is_null(1)) t.from = state_of(st.get_text(1));
    t.to = state_of(st.get_text(2));
    t.time = core::Timestamp::from_micros(st.get_int(3));
    t.reason = std::string(st.get_text(4));
    out.push_back(std::move(t));
  }
  return out;
}

// ---- notifications ----
std::int64_t Store::insert_notification(const Notification& n) {
  // notify records a letter per customer: SQLite reports the row id without a RETURNING result set.
  const bool sqlite = conn_->backend() == "sqlite";
  auto& st = conn_->prepare(sqlite ? "INSERT INTO notifications (customer_id, time, message_id, path, language) VALUES "
                                     "(?, ?, ?, ?, ?)"
                                   : "INSERT INTO notifications (customer_id, time, message_id, path, language) VALUES "
                                     "(?, ?, ?, ?, ?) RETURNING id");
  st.bind(1, n.customer_id).bind(2, n.time.micros()).bind(3, n.message_id).bind(4, n.path).bind(5, n.language);
  if (sqlite) {
    st.execute();
    return st.last_insert_id();
  }
  if (!st.step()) throw SqlError("insert notification returned no id");
  const std::int64_t id = st.get_int(0);
  st.execute();
  return id;
}

std::int64_t Store::add_notification(const Notification& n) {
  const std::int64_t id = insert_notification(n);
  for (auto case_id : n.case_ids) {
    conn_
        ->prepare(
            "INSERT INTO notification_cases (notification_id, case_id, state, event_count) "
            "SELECT CAST(? AS BIGINT), id, state, event_count FROM cases WHERE id = ?")
        .bind(1, id)
        .bind(2, case_id)
        .execute();
    conn_
        ->prepare(
            "UPDATE cases SET notifications = notifications + 1, last_notified = ?, notified_event_count = "
            "event_count, notified_state = state, updated = ? WHERE id = ?")
        .bind(1, n.time.micros())
        .bind(2, n.time.micros())
        .bind(3, case_id)
        .execute();
  }
  return id;
}

std::int64_t Store::add_letter(const Notification& n, std::string_view reason, std::string_view escalated_reason) {
  const std::int64_t id = insert_notification(n);
  const std::int64_t time = n.time.micros();
  // Plain one-row statements: an INSERT .. SELECT makes SQLite open a statement journal, and a
  // constant IN list builds a temporary index, each per execution.
  const bool sqlite = conn_->backend() == "sqlite";
  for (auto case_id : n.case_ids) {
    // The case's state as it is inside this transaction (SQLite: the writer since the insert above;
    // PostgreSQL: the row locked until the commit, so nobody changes it between this read and the update).
    auto& read = conn_->prepare(sqlite ? "SELECT state, event_count FROM cases WHERE id = ?"
                                       : "SELECT state, event_count FROM cases WHERE id = ? FOR UPDATE");
    read.bind(1, case_id);
    if (!read.step()) continue;
    const cases::CaseState from = state_of(read.get_text(0));
    const std::int64_t event_count = read.get_int(1);
    read.execute();
    const std::string_view from_name = cases::to_string(from);
    // What the letter described: the state before the letter.
    conn_->prepare("INSERT INTO notification_cases (notification_id, case_id, state, event_count) VALUES (?, ?, ?, ?)")
        .bind(1, id)
        .bind(2, case_id)
        .bind_ref(3, from_name)
        .bind(4, event_count)
        .execute();
    cases::CaseState to = from;
    if (from == cases::CaseState::kOpen || from == cases::CaseState::kResolved) to = cases::CaseState::kNotified;
    if (to != from || from == cases::CaseState::kEscalated) {
      conn_->prepare("INSERT INTO case_history (case_id, from_state, to_state, time, reason) VALUES (?, ?, ?, ?, ?)")
          .bind(1, case_id)
          .bind_ref(2, from_name)
          .bind_ref(3, cases::to_string(to))
          .bind(4, time)
          .bind_ref(5, to != from ? reason : escalated_reason)
          .execute();
    }
    const std::string_view to_name = cases::to_string(to);
    conn_
        ->prepare(
            "UPDATE cases SET state = ?, notifications = notifications + 1, last_notified = ?, "
            "notified_event_count = ?, notified_state = ?, updated = ? WHERE id = ?")
        .bind_ref(1, to_name)
        .bind(2, time)
        .bind(3, event_count)
        .bind_ref(4, to_name)
        .bind(5, time)
        .bind(6, case_id)
        .execute();
  }
  return id;
}

std::optional<CaseNotification> Store::last_notification(std::int64_t case_id) {
  auto& st = conn_->prepare(
      "SELECT nc.notification_id, nc.case_id, n.time, nc.state, nc.event_count, n.message_id "
      "FROM notification_cases nc JOIN notifications n ON n.id = nc.notification_id "
      "WHERE nc.case_id = ? ORDER BY nc.notification_id DESC LIMIT 1");
  st.bind(1, case_id);
  if (!st.step()) return std::nullopt;
  CaseNotification c;
  c.notification_id = st.get_int(0);
  c.case_id = st.get_int(1);
  c.time = core::Timestamp::from_micros(st.get_int(2));
  c.state = state_of(st.get_text(3));
  c.event_count = st.get_int(4);
  c.message_id = std::string(st.get_text(5));
  st.execute();
  return c;
}

std::vector<Notification> Store::notifications(std::string_view customer_id) {
  auto& st = conn_->prepare(customer_id.empty()
                                ? "SELECT id, customer_id, time, message_id, path, language FROM notifications "
                                  "ORDER BY id"
                                : "SELECT id, customer_id, time, message_id, path, language FROM notifications "
                                  "WHERE customer_id = ? ORDER BY id");
  if (!customer_id.empty()) st.bind(1, customer_id);
  std::vector<Notification> out;
  while (st.step()) {
    Notification n;
    n.id = st.get_int(0);
    n.customer_id = std::string(st.get_text(1));
    n.time = core::Timestamp::from_micros(st.get_int(2));
    n.message_id = std::string(st.get_text(3));
    n.path = std::string(st.get_text(4));
    n.language = std::string(st.get_text(5));
    out.push_back(std::move(n));
  }
  for (auto& n : out) {
    auto& cs = conn_->prepare("SELECT case_id FROM notification_cases WHERE notification_id = ? ORDER BY case_id");
    cs.bind(1, n.id);
    while (cs.step()) n.case_ids.push_back(cs.get_int(0));
  }
  return out;
}

// ---- probe results ----
std::int64_t Store::add_probe_result(const ProbeResult& r) {
  auto& st = conn_->prepare(
      "INSERT INTO probe_results (case_id, time, verdict, baf, paf, details) VALUES (?, ?, ?, ?, ?, ?) RETURNING id");
  st.bind(1, r.case_id)
      .bind(2, r.time.micros())
      .bind(3, r.verdict)
      .bind(4, r.baf)
      .bind(5, r.paf)
      .bind(6, r.details_json.empty() ? std::string_view("{}") : std::string_view(r.details_json));
  if (!st.step()) throw SqlError("insert probe result returned no id");
  auto id = st.get_int(0);
  st.execute();
  return id;
}

namespace {
ProbeResult read_probe(const Statement& st) {
  ProbeResult r;
  r.id = st.get_int(0);
  r.case_id = st.get_int(1);
  r.time = core::Timestamp::from_micros(st.get_int(2));
  r.verdict = std::string(st.get_text(3));
  if (!st.is_null(4)) r.baf = st.get_double(4);
  if (!st.is_null(5)) r.paf = st.get_double(5);
  r.details_json = std::string(st.get_text(6));
  return r;
}
}  // namespace

std::vector<ProbeResult> Store::probe_results(std::int64_t case_id) {
  auto& st = conn_->prepare(
      "SELECT id, case_id, time, verdict, baf, paf, details FROM probe_results WHERE case_id = ? ORDER BY time, id");
  st.bind(1, case_id);
  std::vector<ProbeResult> out;
  while (st.step()) out.push_back(read_probe(st));
  return out;
}

std::optional<ProbeResult> Store::latest_probe_result(std::int64_t case_id) {
  auto& st = conn_->prepare(
      "SELECT id, case_id, time, verdict, baf, paf, details FROM probe_results WHERE case_id = ? "
      "ORDER BY time DESC, id DESC LIMIT 1");
  st.bind(1, case_id);
  if (!st.step()) return std::nullopt;
  auto r = read_probe(st);
  st.execute();
  return r;
}

}  // namespace klartext::store
