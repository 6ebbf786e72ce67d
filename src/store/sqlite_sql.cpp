// The SQLite backend of the SQL interface: RAII handles, WAL mode, statements cached per SQL text.
#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>

#include "store/sql.hpp"

namespace klartext::store {
namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;
using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

[[noreturn]] void fail(sqlite3* db, std::string_view what) {
  throw SqlError("sqlite: " + std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
}

class SqliteStatement final : public Statement {
 public:
  SqliteStatement(sqlite3* db, StmtHandle stmt) : db_(db), stmt_(std::move(stmt)) {}

  Statement& reset() override {
    sqlite3_reset(stmt_.get());
    sqlite3_clear_bindings(stmt_.get());
    done_ = false;
    return *this;
  }
  Statement& bind_null(int index) override {
    check(sqlite3_bind_null(stmt_.get(), index));
    return *this;
  }
  Statement& bind(int index, std::int64_t value) override {
    check(sqlite3_bind_int64(stmt_.get(), index, value));
    return *this;
  }
  Statement& bind(int index, double value) override {
    check(sqlite3_bind_double(stmt_.get(), index, value));
    return *this;
  }
  Statement& bind(int index, std::string_view text) override {
    // SQLITE_TRANSIENT copies: callers may pass views of temporaries.
    check(sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    return *this;
  }
  Statement& bind_blob(int index, std::string_view bytes) override {
    check(sqlite3_bind_blob64(stmt_.get(), index, bytes.empty() ? "" : bytes.data(), bytes.size(), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind_ref(int index, std::string_view text) override {
    check(sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8));
    return *this;
  }
  Statement& bind_blob_ref(int index, std::string_view bytes) override {
    check(sqlite3_bind_blob64(stmt_.get(), index, bytes.empty() ? "" : bytes.data(), bytes.size(), SQLITE_STATIC));
    return *this;
  }
  bool step() override {
    if (done_) return false;
    int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) return true;
    done_ = true;
    if (rc == SQLITE_DONE) return false;
    std::string sql = sqlite3_sql(stmt_.get()) != nullptr ? sqlite3_sql(stmt_.get()) : "";
    sqlite3_reset(stmt_.get());
    fail(db_, "step [" + sql.substr(0, 80) + "]");
  }
  bool is_null(int column) const override { return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL; }
  std::int64_t get_int(int column) const override { return sqlite3_column_int64(stmt_.get(), column); }
  double get_double(int column) const override { return sqlite3_column_double(stmt_.get(), column); }
  std::string_view get_text(int column) const override {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), column));
    if (p == nullptr) return {};
    return {p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), column))};
  }
  std::string get_blob(int column) const override {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_.get(), column));
    if (p == nullptr) return {};
    return {p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), column))};
  }
  std::int64_t changes() const override { return sqlite3_changes64(db_); }
  std::int64_t last_insert_id() const override { return sqlite3_last_insert_rowid(db_); }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail(db_, "bind");
  }
  sqlite3* db_;
  StmtHandle stmt_;
  bool done_ = false;
};

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(const std::string& path) {
    if (path != ":memory:") {
      auto parent = std::filesystem::path(path).parent_path();
      if (!parent.empty()) std::filesystem::create_directories(parent);
    }
    sqlite3* raw = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK) fail(raw, "open " + path);
    sqlite3_busy_timeout(db_.get(), 10'000);
    // WAL: readers (cases, notify) never block the ingest writer; NORMAL sync is durable at
    // checkpoints and safe against corruption, which is the right trade for bulk ingest.
    // 16 KiB pages (new databases only; must precede WAL): fewer B-tree splits for event rows.
    // A 32 MiB page cache: the store has no random-key index left that an ingest writes (event keys
    // are kept in memory, events in blocks, cases and their block links appended in id order), so
    // a bigger cache only held dirty pages back until the commit. With 256 MiB a million-row ingest
    // peaked at 611 MB and wrote 256 MiB to the WAL after parsing ended; with 32 MiB it peaks at
    // 392 MB and writes them while it parses.
    // Checkpoints every 8192 pages (128 MiB of WAL) instead of 1000: each checkpoint writes every
    // page it holds once and waits for the disk, so fewer of them cost a bulk ingest less.
    exec_script(
        "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-32768; PRAGMA wal_autocheckpoint=8192;");
  }

  std::string_view backend() const override { return "sqlite"; }

  Statement& prepare(std::string_view sql) override {
    // The hot statements of an ingest come from string constants: the same text at the same
    // address. A small table by address finds them without hashing the text (a few hundred bytes
    // of SQL per event otherwise); the text is still compared, so a reused buffer cannot alias.
    auto& recent = recent_[(reinterpret_cast<std::uintptr_t>(sql.data()) >> 4 ^ sql.size()) % recent_.size()];
    if (recent.stmt != nullptr && recent.data == sql.data() && recent.text == sql) {
      recent.stmt->reset();
      return *recent.stmt;
    }
    auto it = cache_.find(sql);
    if (it != cache_.end()) {
      it->second->reset();
      recent = {sql.data(), it->first, it->second.get()};
      return *it->second;
    }
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw,
                                nullptr);
    StmtHandle stmt(raw);
    if (rc != SQLITE_OK) fail(db_.get(), "prepare [" + std::string(sql.substr(0, 80)) + "]");
    auto owned = std::make_unique<SqliteStatement>(db_.get(), std::move(stmt));
    auto& ref = *owned;
    auto entry = cache_.emplace(std::string(sql), std::move(owned)).first;
    recent = {sql.data(), entry->first, &ref};
    return ref;
  }

  void exec_script(std::string_view sql) override {
    std::string text(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err != nullptr ? err : "unknown error";
      sqlite3_free(err);
      throw SqlError("sqlite: exec: " + msg);
    }
  }
  void begin() override { exec_script("BEGIN IMMEDIATE"); }
  void commit() override { exec_script("COMMIT"); }
  void rollback() override {
    if (sqlite3_get_autocommit(db_.get()) == 0) exec_script("ROLLBACK");
  }

  ~SqliteConnection() override { cache_.clear(); }  // statements before the database

 private:
  DbHandle db_;
  // Looked up by string_view (no copy of the SQL text per call: the ingest prepares per event).
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::unique_ptr<SqliteStatement>, SqlHash, std::equal_to<>> cache_;
  struct Recent {
    const char* data = nullptr;  // the caller's text address
    std::string_view text;       // the cached key (owned by cache_, which never drops entries)
    SqliteStatement* stmt = nullptr;
  };
  std::array<Recent, 32> recent_{};
};

}  // namespace

std::unique_ptr<Connection> open_sqlite(const std::string& path) {
  return std::make_unique<SqliteConnection>(path);
}

}  // namespace klartext::store
