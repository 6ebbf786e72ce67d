// The small SQL interface every storage backend implements (PowerDNS SSql style): connections and statements.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace klartext::store {

// A failed SQL operation (bad schema, locked database, lost connection): aborts the unit of work.
struct SqlError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A prepared statement. Parameters are written `?` in the SQL text and bound in order, 1-based.
// Usage: stmt.reset().bind(1, x).bind(2, y); while (stmt.step()) { stmt.get_int(0) ... }
// Views returned by get_text/get_blob are valid until the next step()/reset().
class Statement {
 public:
  virtual ~Statement() = default;
  // Clears bindings and results so the statement can run again.
  virtual Statement& reset() = 0;
  virtual Statement& bind_null(int index) = 0;
  virtual Statement& bind(int index, std::int64_t value) = 0;
  virtual Statement& bind(int index, double value) = 0;
  virtual Statement& bind(int index, std::string_view text) = 0;
  virtual Statement& bind_blob(int index, std::string_view bytes) = 0;
  // Like bind / bind_blob, but the bytes are not copied where the backend can avoid it (SQLite):
  // they must stay valid until the statement has been stepped. For the bulk ingest's hot paths.
  virtual Statement& bind_ref(int index, std::string_view text) { return bind(index, text); }
  virtual Statement& bind_blob_ref(int index, std::string_view bytes) { return bind_blob(index, bytes); }
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  template <class T>
  Statement& bind(int index, const std::optional<T>& v) {
    return v ? bind(index, *v) : bind_null(index);
  }
  // Runs the statement (first call) or advances; true while a result row is available.
  virtual bool step() = 0;
  // Runs to completion, ignoring rows.
  void execute() {
    while (step()) {
    }
  }
  virtual bool is_null(int column) const = 0;
  virtual std::int64_t get_int(int column) const = 0;
  virtual double get_double(int column) const = 0;
  virtual std::string_view get_text(int column) const = 0;
  virtual std::string get_blob(int column) const = 0;
  std::optional<std::int64_t> get_opt_int(int column) const {
    return is_null(column) ? std::nullopt : std::optional<std::int64_t>(get_int(column));
  }
  // Rows changed by the last INSERT/UPDATE/DELETE.
  virtual std::int64_t changes() const = 0;
  // Row id of the last INSERT on this connection (SQLite rowid). Backends without one (PostgreSQL)
  // return -1: portable code uses RETURNING; hot paths may use this where it exists.
  virtual std::int64_t last_insert_id() const = 0;
};

// A connection. Statements are prepared once per SQL text and cached for the connection's life.
// Not thread-safe: one connection per thread.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual std::string_view backend() const = 0;  // "sqlite" or "postgres"
  // A cached statement for `sql` (the reference stays valid while the connection lives). The
  // statement is reset before it is returned.
  virtual Statement& prepare(std::string_view sql) = 0;
  // Runs a script of several statements without parameters (migrations).
  virtual void exec_script(std::string_view sql) = 0;
  virtual void begin() = 0;
  virtual void commit() = 0;
  virtual void rollback() = 0;
  // For a bulk writer (ingest; SQLite only, a no-op where a server writes its own log, PostgreSQL).
  // While on, a commit that left 16 MiB or more of write-ahead log has it copied into the database
  // by a second thread with its own connection, so the writer neither stops for that copy nor
  // leaves all of it to the close, and the log is written to disk while it grows, so the fsync
  // before a copy has little left to write. Off waits for the copy asked for last and restores the
  // usual checkpoints on commit.
  virtual void set_bulk_writes(bool /*on*/) {}
  // A new connection to the same database, for another thread; null where there is no other to
  // open (an SQLite database in memory).
  virtual std::unique_ptr<Connection> open_another() const { return nullptr; }
};

// Opens (creating it and its parent directory if needed) an SQLite database in WAL mode.
std::unique_ptr<Connection> open_sqlite(const std::string& path);
// Connects to PostgreSQL with a libpq connection string; throws SqlError when that fails.
std::unique_ptr<Connection> open_postgres(const std::string& dsn);

}  // namespace klartext::store
