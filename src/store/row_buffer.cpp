// Multi-row INSERTs from buffered rows (see row_buffer.hpp).
#include "store/row_buffer.hpp"

#include <bit>

namespace klartext::store::detail {

RowBuffer::RowBuffer(std::string head, int columns) : head_(std::move(head)), columns_(columns) {}

Statement& RowBuffer::add_row() {
  const std::size_t end = (rows_ + 1) * static_cast<std::size_t>(columns_);
  if (values_.size() < end) values_.resize(end);
  for (std::size_t i = end - static_cast<std::size_t>(columns_); i < end; ++i) values_[i].kind = Kind::kNull;
  ++rows_;
  return *this;
}

RowBuffer::Value& RowBuffer::slot(int index) {
  if (rows_ == 0 || index < 1 || index > columns_) {
    throw SqlError("row buffer: bind: index " + std::to_string(index) + " out of range [" + head_.substr(0, 80) + "]");
  }
  return values_[(rows_ - 1) * static_cast<std::size_t>(columns_) + static_cast<std::size_t>(index - 1)];
}

Statement& RowBuffer::bind_null(int index) {
  slot(index).kind = Kind::kNull;
  return *this;
}
Statement& RowBuffer::bind(int index, std::int64_t value) {
  auto& v = slot(index);
  v.kind = Kind::kInt;
  v.i = value;
  return *this;
}
Statement& RowBuffer::bind(int index, double value) {
  auto& v = slot(index);
  v.kind = Kind::kDouble;
  v.d = value;
  return *this;
}
Statement& RowBuffer::bind(int index, std::string_view text) {
  auto& v = slot(index);
  v.kind = Kind::kText;
  v.s.assign(text);
  return *this;
}
Statement& RowBuffer::bind_blob(int index, std::string_view bytes) {
  auto& v = slot(index);
  v.kind = Kind::kBlob;
  v.s.assign(bytes);
  return *this;
}

namespace {
[[noreturn]] void not_a_query() {
  throw SqlError("row buffer: an INSERT has no result rows");
}
}  // namespace

bool RowBuffer::is_null(int) const {
  not_a_query();
}
std::int64_t RowBuffer::get_int(int) const {
  not_a_query();
}
double RowBuffer::get_double(int) const {
  not_a_query();
}
std::string_view RowBuffer::get_text(int) const {
  not_a_query();
}
std::string RowBuffer::get_blob(int) const {
  not_a_query();
}

const std::string& RowBuffer::sql_for(std::size_t rows) {
  auto& sql = sql_[rows];
  if (!sql.empty()) return sql;
  std::string row = "(";
  for (int c = 0; c < columns_; ++c) row += c == 0 ? "?" : ", ?";
  row += ')';
  sql.reserve(head_.size() + 8 + rows * (row.size() + 2));
  sql = head_;
  sql += " VALUES ";
  for (std::size_t r = 0; r < rows; ++r) {
    if (r > 0) sql += ", ";
    sql += row;
  }
  return sql;
}

void RowBuffer::write(Connection& conn) {
  struct Clear {
    RowBuffer& b;
    ~Clear() { b.clear(); }
  } clear{*this};
  const auto columns = static_cast<std::size_t>(columns_);
  std::size_t done = 0;
  while (done < rows_) {
    const std::size_t left = rows_ - done;
    const std::size_t n = left >= kMaxRows ? kMaxRows : std::bit_floor(left);
    auto& st = conn.prepare(sql_for(n));
    int index = 1;
    for (std::size_t i = done * columns, end = (done + n) * columns; i < end; ++i, ++index) {
      const auto& v = values_[i];
      switch (v.kind) {
        case Kind::kNull: st.bind_null(index); break;
        case Kind::kInt: st.bind(index, v.i); break;
        case Kind::kDouble: st.bind(index, v.d); break;
        case Kind::kText: st.bind(index, std::string_view(v.s)); break;
        case Kind::kBlob: st.bind_blob(index, v.s); break;
      }
    }
    st.execute();
    done += n;
  }
}

}  // namespace klartext::store::detail
