// Rows of one table kept in memory and written as multi-row INSERTs: the PostgreSQL bulk write path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "store/sql.hpp"

namespace klartext::store::detail {

// Rows for `INSERT INTO table (columns) VALUES ...`. A row is filled through the Statement interface
// (add_row(), then bind(1..columns)), so code that binds a single-row INSERT binds a buffered row
// the same way; unbound columns are NULL. write() sends the rows in order, up to kMaxRows per
// statement (one round trip each instead of one per row); a prepared statement per row count,
// counts below kMaxRows rounded down to powers of two so there are few of them.
class RowBuffer final : public Statement {
 public:
  // 500 rows of at most 18 columns stay far below PostgreSQL's 65535 parameters per statement.
  static constexpr std::size_t kMaxRows = 500;

  // `head` is "INSERT INTO table (a, b, c)", naming `columns` columns.
  RowBuffer(std::string head, int columns);

  // Starts a new row (all columns NULL) and returns this, to bind its columns.
  Statement& add_row();
  std::size_t rows() const { return rows_; }
  bool empty() const { return rows_ == 0; }
  // Inserts every row on `conn` in order and empties the buffer (also when that fails).
  void write(Connection& conn);
  void clear() { rows_ = 0; }

  // The Statement interface of the row being filled.
  Statement& reset() override { return *this; }
  Statement& bind_null(int index) override;
  Statement& bind(int index, std::int64_t value) override;
  Statement& bind(int index, double value) override;
  Statement& bind(int index, std::string_view text) override;
  Statement& bind_blob(int index, std::string_view bytes) override;
  using Statement::bind;
  bool step() override { return false; }
  bool is_null(int column) const override;
  std::int64_t get_int(int column) const override;
  double get_double(int column) const override;
  std::string_view get_text(int column) const override;
  std::string get_blob(int column) const override;
  std::int64_t changes() const override { return 0; }
  std::int64_t last_insert_id() const override { return -1; }

 private:
  enum class Kind : std::uint8_t { kNull, kInt, kDouble, kText, kBlob };
  struct Value {
    Kind kind = Kind::kNull;
    std::int64_t i = 0;
    double d = 0;
    std::string s;  // kept between rows: its capacity is reused
  };
  Value& slot(int index);
  const std::string& sql_for(std::size_t rows);

  std::string head_;
  int columns_;
  std::size_t rows_ = 0;
  std::vector<Value> values_;  // rows_ * columns_ in use; more kept for reuse
  std::map<std::size_t, std::string> sql_;
};

}  // namespace klartext::store::detail
