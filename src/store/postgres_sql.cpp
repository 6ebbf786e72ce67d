// The PostgreSQL backend of the SQL interface (libpq): RAII handles, server-side prepared statements per SQL text.
#include "store/postgres_sql.hpp"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/sql.hpp"

namespace klartext::store {

namespace detail {

namespace {
bool ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
}  // namespace

std::string postgres_placeholders(std::string_view sql, int& count) {
  std::string out;
  out.reserve(sql.size() + 16);
  count = 0;
  std::size_t i = 0;
  const std::size_t n = sql.size();
  // Copies sql[i..end) verbatim and continues after it.
  auto copy_to = [&](std::size_t end) {
    out.append(sql.substr(i, end - i));
    i = end;
  };
  while (i < n) {
    const char c = sql[i];
    const bool after_ident = i > 0 && ident_char(sql[i - 1]);
    if (c == '?') {
      out += '$';
      out += std::to_string(++count);
      ++i;
    } else if (c == '\'') {
      // E'..' strings treat backslash as an escape; in standard strings '' is the only escape,
      // which the scan handles as two adjacent literals.
      const bool escapes = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') && !(i > 1 && ident_char(sql[i - 2]));
      std::size_t j = i + 1;
      while (j < n && sql[j] != '\'') j += (escapes && sql[j] == '\\') ? 2 : 1;
      copy_to(std::min(n, j + 1));
    } else if (c == '"') {
      auto j = sql.find('"', i + 1);
      copy_to(j == std::string_view::npos ? n : j + 1);
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      auto j = sql.find('\n', i);
      copy_to(j == std::string_view::npos ? n : j + 1);
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      auto j = sql.find("*/", i + 2);
      copy_to(j == std::string_view::npos ? n : j + 2);
    } else if (c == '$' && !after_ident) {
      // $tag$ ... $tag$ (tag may be empty); `$1` is a positional parameter, not a quote.
      std::size_t j = i + 1;
      while (j < n && ident_char(sql[j]) && !(j == i + 1 && sql[j] >= '0' && sql[j] <= '9')) ++j;
      if (j < n && sql[j] == '$') {
        auto tag = sql.substr(i, j - i + 1);
        auto end = sql.find(tag, j + 1);
        copy_to(end == std::string_view::npos ? n : end + tag.size());
      } else {
        copy_to(i + 1);
      }
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

}  // namespace detail

namespace {

// unique_ptr deleter calling libpq's free function for the handle type.
template <auto Free>
struct Release {
  void operator()(auto* handle) const { Free(handle); }
};
using ConnHandle = std::unique_ptr<PGconn, Release<PQfinish>>;
using ResultHandle = std::unique_ptr<PGresult, Release<PQclear>>;

constexpr Oid kByteaOid = 17;
constexpr Oid kBoolOid = 16;

// The server's message on one line: primary text, then SQLSTATE, detail and hint when present.
std::string message_of(PGconn* conn, const PGresult* res) {
  std::string msg;
  if (const char* primary = res != nullptr ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr) {
    msg = primary;
    for (int field : {PG_DIAG_SQLSTATE, PG_DIAG_MESSAGE_DETAIL, PG_DIAG_MESSAGE_HINT}) {
      if (const char* extra = PQresultErrorField(res, field)) msg += std::string(" | ") + extra;
    }
  } else {
    msg = res != nullptr ? PQresultErrorMessage(res) : "";
    if (msg.empty()) msg = PQerrorMessage(conn);
  }
  for (auto& ch : msg) {
    if (ch == '\n') ch = ' ';
  }
  while (!msg.empty() && msg.back() == ' ') msg.pop_back();
  return msg.empty() ? "unknown error" : msg;
}

[[noreturn]] void fail(PGconn* conn, const PGresult* res, std::string_view what) {
  throw SqlError("postgres: " + std::string(what) + ": " + message_of(conn, res));
}

// Runs commands without parameters and checks they succeeded.
void exec(PGconn* conn, const std::string& sql) {
  ResultHandle res(PQexec(conn, sql.c_str()));
  auto st = PQresultStatus(res.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
    fail(conn, res.get(), "exec [" + sql.substr(0, 80) + "]");
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of the valid UTF-8 sequence at s[i] (NUL counts as invalid: PostgreSQL text cannot hold it), 0 if none.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  const auto cont = [&](std::size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) { return b(k) >= lo && b(k) <= hi; };
  const unsigned c = b(0);
  if (c >= 0x01 && c <= 0x7F) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c >= 0xE1 && c <= 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

// PostgreSQL text is UTF-8 without NUL and rejects anything else, which would abort the whole input
// for one odd byte in an excerpt. Such bytes become U+FFFD instead (the input's original bytes are
// kept verbatim in reports.bytes); valid text is copied unchanged.
void assign_text(std::string& out, std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto n = utf8_sequence(text, i);
    if (n == 0) break;
    i += n;
  }
  out.assign(text.substr(0, i));
  while (i < text.size()) {
    const auto n = utf8_sequence(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
}

class PostgresStatement final : public Statement {
 public:
  PostgresStatement(PGconn* conn, std::string name, std::string sql, int params)
      : conn_(conn),
        name_(std::move(name)),
        sql_(std::move(sql)),
        values_(params),
        null_(params, true),
        binary_(params, 0),
        ptrs_(params),
        lengths_(params) {}

  Statement& reset() override {
    result_.reset();
    row_ = -1;
    rows_ = 0;
    done_ = false;
    std::fill(null_.begin(), null_.end(), true);
    std::fill(binary_.begin(), binary_.end(), 0);
    return *this;
  }
  Statement& bind_null(int index) override {
    slot(index);
    null_[index - 1] = true;
    return *this;
  }
  Statement& bind(int index, std::int64_t value) override {
    auto& v = slot(index);
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    v.assign(buf, end);
    return *this;
  }
  Statement& bind(int index, double value) override {
    auto& v = slot(index);
    char buf[32];
    // Shortest text that reads back as the same double (the server parses it exactly).
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    v.assign(buf, end);
    return *this;
  }
  Statement& bind(int index, std::string_view text) override {
    assign_text(slot(index), text);
    return *this;
  }
  Statement& bind_blob(int index, std::string_view bytes) override {
    slot(index).assign(bytes);
    binary_[index - 1] = 1;  // sent as raw bytes (binary format): no escaping, NUL-safe
    return *this;
  }

  bool step() override {
    if (done_) return false;
    if (!result_) run();
    if (++row_ < rows_) return true;
    done_ = true;
    return false;
  }

  bool is_null(int column) const override { return PQgetisnull(result_.get(), row_, column) != 0; }
  std::int64_t get_int(int column) const override {
    const char* p = PQgetvalue(result_.get(), row_, column);
    if (PQftype(result_.get(), column) == kBoolOid) return p[0] == 't' ? 1 : 0;
    std::int64_t v = 0;
    std::from_chars(p, p + PQgetlength(result_.get(), row_, column), v);
    return v;
  }
  double get_double(int column) const override {
    const char* p = PQgetvalue(result_.get(), row_, column);
    double v = 0;
    std::from_chars(p, p + PQgetlength(result_.get(), row_, column), v);
    return v;
  }
  std::string_view get_text(int column) const override {
    return {PQgetvalue(result_.get(), row_, column),
            static_cast<std::size_t>(PQgetlength(result_.get(), row_, column))};
  }
  std::string get_blob(int column) const override {
    auto text = get_text(column);
    if (PQftype(result_.get(), column) != kByteaOid) return std::string(text);
    // Text results show bytea in hex form ("\x0a1b..."; bytea_output = hex is set on connect).
    std::string out;
    if (text.size() < 2 || text[0] != '\\' || text[1] != 'x') return out;
    out.reserve((text.size() - 2) / 2);
    for (std::size_t i = 2; i + 1 < text.size(); i += 2) {
      out += static_cast<char>(hex_value(text[i]) << 4 | hex_value(text[i + 1]));
    }
    return out;
  }
  std::int64_t changes() const override { return changes_; }
  std::int64_t last_insert_id() const override { return -1; }

 private:
  std::string& slot(int index) {
    if (index < 1 || index > static_cast<int>(values_.size())) {
      throw SqlError("postgres: bind: index " + std::to_string(index) + " out of range (" +
                     std::to_string(values_.size()) + " parameters) [" + sql_.substr(0, 80) + "]");
    }
    null_[index - 1] = false;
    binary_[index - 1] = 0;
    return values_[index - 1];
  }

  void run() {
    const int n = static_cast<int>(values_.size());
    if (!prepared_) {
      // Prepared on first use, so blob parameters can be declared bytea; every other parameter
      // type is inferred by the server from the statement (write CAST(? AS ...) where it cannot).
      std::vector<Oid> types(n, 0);
      for (int i = 0; i < n; ++i) types[i] = binary_[i] != 0 ? kByteaOid : 0;
      ResultHandle res(PQprepare(conn_, name_.c_str(), sql_.c_str(), n, types.data()));
      if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) fail(conn_, res.get(), "prepare [" + sql_.substr(0, 80) + "]");
      prepared_ = true;
    }
    // Text values go as C strings (std::string keeps a terminating NUL; text never contains one).
    for (int i = 0; i < n; ++i) {
      ptrs_[i] = null_[i] ? nullptr : values_[i].c_str();
      lengths_[i] = static_cast<int>(values_[i].size());
    }
    result_.reset(PQexecPrepared(conn_, name_.c_str(), n, ptrs_.data(), lengths_.data(), binary_.data(), 0));
    auto status = PQresultStatus(result_.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      std::string what = "step [" + sql_.substr(0, 80) + "]";
      ResultHandle failed = std::move(result_);
      done_ = true;
      fail(conn_, failed.get(), what);
    }
    rows_ = PQntuples(result_.get());
    row_ = -1;
    changes_ = 0;
    const char* tuples = PQcmdTuples(result_.get());
    std::from_chars(tuples, tuples + std::char_traits<char>::length(tuples), changes_);
  }

  PGconn* conn_;
  std::string name_;
  std::string sql_;
  bool prepared_ = false;
  std::vector<std::string> values_;
  std::vector<char> null_;
  std::vector<int> binary_;
  std::vector<const char*> ptrs_;  // PQexecPrepared's arrays, kept to spare an allocation per row
  std::vector<int> lengths_;
  ResultHandle result_;
  int row_ = -1;
  int rows_ = 0;
  bool done_ = false;
  std::int64_t changes_ = 0;
};

struct SqlHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
};

class PostgresConnection final : public Connection {
 public:
  explicit PostgresConnection(const std::string& dsn) : dsn_(dsn), conn_(PQconnectdb(dsn.c_str())) {
    if (!conn_) throw SqlError("postgres: connect: out of memory");
    if (PQstatus(conn_.get()) != CONNECTION_OK) fail(conn_.get(), nullptr, "connect");
    // Server notices ("relation already exists, skipping") are not errors: debug log only.
    PQsetNoticeProcessor(
        conn_.get(),
        [](void*, const char* message) {
          std::string_view m(message);
          while (!m.empty() && m.back() == '\n') m.remove_suffix(1);
          spdlog::debug("postgres notice message={}", m);
        },
        nullptr);
    if (PQsetClientEncoding(conn_.get(), "UTF8") != 0) fail(conn_.get(), nullptr, "set client encoding");
    exec(conn_.get(), "SET bytea_output = 'hex'");
  }

  std::string_view backend() const override { return "postgres"; }

  Statement& prepare(std::string_view sql) override {
    // Looked up by view: the hot paths call this per row, without building a string each time.
    if (auto it = cache_.find(sql); it != cache_.end()) return it->second->reset();
    int params = 0;
    auto translated = detail::postgres_placeholders(sql, params);
    auto name = "klartext_" + std::to_string(cache_.size() + 1);  // unique per connection (session)
    auto [it, added] = cache_.emplace(
        std::string(sql),
        std::make_unique<PostgresStatement>(conn_.get(), std::move(name), std::move(translated), params));
    return *it->second;
  }

  void exec_script(std::string_view sql) override {
    // PQexec runs several statements separated by ';' (simple query protocol) and reports the first error.
    exec(conn_.get(), std::string(sql));
  }
  void begin() override { exec(conn_.get(), "BEGIN"); }
  void commit() override {
    // After an error the server answers COMMIT with ROLLBACK and no error: make that one.
    if (PQtransactionStatus(conn_.get()) == PQTRANS_INERROR) {
      exec(conn_.get(), "ROLLBACK");
      throw SqlError("postgres: commit: the transaction was aborted by an earlier error and is rolled back");
    }
    exec(conn_.get(), "COMMIT");
  }
  void rollback() override {
    if (PQtransactionStatus(conn_.get()) != PQTRANS_IDLE) exec(conn_.get(), "ROLLBACK");
  }

  std::unique_ptr<Connection> open_another() const override { return std::make_unique<PostgresConnection>(dsn_); }

 private:
  std::string dsn_;
  ConnHandle conn_;  // declared before the cached statements: outlives them
  std::unordered_map<std::string, std::unique_ptr<PostgresStatement>, SqlHash, std::equal_to<>> cache_;
};

}  // namespace

std::unique_ptr<Connection> open_postgres(const std::string& dsn) {
  return std::make_unique<PostgresConnection>(dsn);
}

}  // namespace klartext::store
