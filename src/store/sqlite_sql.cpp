// The SQLite backend of the SQL interface: RAII handles, WAL mode, statements cached per SQL text.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "core/unique_fd.hpp"
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

// Pages of write-ahead log after which a commit copies the log into the database (SQLite's
// automatic checkpoint).
constexpr int kAutoCheckpointPages = 8192;
// Pages of write-ahead log after which a bulk writer's commit has the background connection copy it.
constexpr int kBulkCheckpointPages = 1024;
// How often a Writeback starts the kernel writing a file's dirty pages.
constexpr std::chrono::milliseconds kWritebackEvery{50};
// A log of at least this many bytes is written out while the close copies it into the database.
constexpr std::int64_t kCloseWritebackMinBytes = 64 << 20;

// Starts the kernel writing a file's dirty pages to disk at every tick while it lives, without
// waiting for them (sync_file_range). SQLite's fsyncs at the next checkpoint (of the log, then of
// the database it copied the log into) then find most pages on disk already, instead of writing
// hundreds of megabytes while the caller waits. Only ever starts writes that an fsync would do
// anyway; a file it cannot open is left to SQLite's own fsync.
class Writeback {
 public:
  explicit Writeback(const std::string& file) : fd_(::open(file.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_.valid()) thread_ = std::thread([this] { run(); });
  }
  ~Writeback() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    tick_.notify_one();
    if (thread_.joinable()) thread_.join();
  }
  Writeback(const Writeback&) = delete;
  Writeback& operator=(const Writeback&) = delete;

 private:
  void run() {
    std::unique_lock lock(mu_);
    while (!tick_.wait_for(lock, kWritebackEvery, [&] { return stop_; })) {
      lock.unlock();
      ::sync_file_range(fd_.get(), 0, 0, SYNC_FILE_RANGE_WRITE);  // whole file; clean pages cost nothing
      lock.lock();
    }
  }

  core::UniqueFd fd_;
  std::mutex mu_;
  std::condition_variable tick_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members it uses exist
};

// Copies the committed part of the write-ahead log into the database whenever woken, on its own
// thread and connection: a passive checkpoint, which never blocks the writer (it goes on appending
// to the log meanwhile) and never waits for readers (it copies what no reader still needs).
class BackgroundCheckpointer {
 public:
  explicit BackgroundCheckpointer(const std::string& path) : path_(path) {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK) fail(raw, "open " + path + " for checkpoints");
    // Reads the database header: a connection that has not knows no write-ahead log to copy.
    rc = sqlite3_exec(db_.get(), "PRAGMA journal_mode", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) fail(db_.get(), "journal mode of " + path);
    thread_ = std::thread([this] { run(); });
  }
  ~BackgroundCheckpointer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();  // after the copy asked for last
  }
  BackgroundCheckpointer(const BackgroundCheckpointer&) = delete;
  BackgroundCheckpointer& operator=(const BackgroundCheckpointer&) = delete;

  void wake() {
    {
      std::lock_guard lock(mu_);
      pending_ = true;
    }
    wake_.notify_one();
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    for (;;) {
      wake_.wait(lock, [&] { return pending_ || stop_; });
      if (!pending_) return;  // stopped, and no copy asked for is left
      pending_ = false;
      lock.unlock();
      int log_frames = 0;
      int copied = 0;
      Writeback db_writeback(path_);  // the fsync that ends the copy has less to write
      int rc = sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &copied);
      // Busy (another checkpoint runs) or failed: what is left is copied by a later one or the close.
      if (rc == SQLITE_OK)
        spdlog::debug("background checkpoint log_frames={} copied_frames={}", log_frames, copied);
      else
        spdlog::debug("background checkpoint skipped error={}", sqlite3_errmsg(db_.get()));
      lock.lock();
    }
  }

  std::string path_;
  DbHandle db_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool pending_ = false;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members it uses exist
};

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(const std::string& path) : path_(path) {
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
    // Checkpoints every kAutoCheckpointPages (128 MiB of WAL) instead of 1000: each checkpoint
    // writes every page it holds once and waits for the disk, so fewer of them cost less (a bulk
    // writer has them made on another thread instead: set_bulk_writes).
    exec_script(
        "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-32768;");
    sqlite3_wal_autocheckpoint(db_.get(), kAutoCheckpointPages);
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
  void commit() override {
    end_reads();
    exec_script("COMMIT");
  }
  void rollback() override {
    end_reads();
    if (sqlite3_get_autocommit(db_.get()) == 0) exec_script("ROLLBACK");
  }

  std::unique_ptr<Connection> open_another() const override {
    return path_ == ":memory:" ? nullptr : std::make_unique<SqliteConnection>(path_);
  }

  void set_bulk_writes(bool on) override {
    if (on == (checkpointer_ != nullptr) || path_ == ":memory:") return;
    if (on) {
      try {
        checkpointer_ = std::make_unique<BackgroundCheckpointer>(path_);
      } catch (const SqlError& e) {  // the writer works on as usual without it
        spdlog::warn("no background checkpoints error={}", e.what());
        return;
      }
      wal_writeback_ = std::make_unique<Writeback>(path_ + "-wal");
      sqlite3_wal_hook(db_.get(), &SqliteConnection::on_wal_commit, this);  // instead of the automatic checkpoint
    } else {
      wal_writeback_.reset();
      checkpointer_.reset();
      sqlite3_wal_autocheckpoint(db_.get(), kAutoCheckpointPages);
    }
  }

  ~SqliteConnection() override {
    wal_writeback_.reset();
    checkpointer_.reset();  // its connection closed first: the close below then copies the rest of the log
    cache_.clear();         // statements before the database
    // The last connection's close copies the log into the database and fsyncs it: a big log's
    // pages are written out while it copies.
    std::error_code ec;
    auto wal_bytes = path_ == ":memory:" ? 0 : std::filesystem::file_size(path_ + "-wal", ec);
    std::unique_ptr<Writeback> db_writeback;
    if (!ec && wal_bytes >= static_cast<std::uintmax_t>(kCloseWritebackMinBytes))
      db_writeback = std::make_unique<Writeback>(path_);
    db_.reset();
  }

 private:
  // After each commit (bulk writes): `pages` of log now.
  static int on_wal_commit(void* self, sqlite3* /*db*/, const char* /*schema*/, int pages) {
    auto* c = static_cast<SqliteConnection*>(self);
    if (pages >= kBulkCheckpointPages && c->checkpointer_) c->checkpointer_->wake();
    return SQLITE_OK;
  }

  // Resets the statements a caller stepped to a row and left there (a lookup reads one row). One
  // left running keeps its read snapshot past the commit: the write-ahead log could then neither be
  // copied beyond that snapshot by a checkpoint nor start over, and grew for as long as the
  // connection lived.
  void end_reads() {
    for (sqlite3_stmt* st = sqlite3_next_stmt(db_.get(), nullptr); st != nullptr; st = sqlite3_next_stmt(db_.get(), st))
      if (sqlite3_stmt_busy(st) != 0) sqlite3_reset(st);
  }

  std::string path_;
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
  std::unique_ptr<BackgroundCheckpointer> checkpointer_;  // bulk writes only
  std::unique_ptr<Writeback> wal_writeback_;              // bulk writes only
};

}  // namespace

std::unique_ptr<Connection> open_sqlite(const std::string& path) {
  return std::make_unique<SqliteConnection>(path);
}

}  // namespace klartext::store
