// RFC 4180 CSV tokenizer: records as string_views into the input buffer, no per-field allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace klartext::formats::shadowserver {

enum class CsvError : std::uint8_t {
  kNone,
  kUnterminatedQuote,  // input ended inside a quoted field (truncated file)
  kTooLong,            // record longer than the limit; skipped to the next line feed
  kTooManyFields,      // more fields than kMaxFields; skipped to the next line feed
};

std::string_view to_string(CsvError e);

struct CsvRecord {
  std::vector<std::string_view> fields;  // valid until the next call to CsvReader::next
  std::size_t begin = 0;                 // byte offset of the record's first byte
  std::size_t end = 0;                   // offset after its last byte, line terminator excluded
  std::size_t next = 0;                  // offset where the next record starts
  std::uint64_t line = 0;                // 1-based physical line where the record starts
  bool terminated = false;               // ended with a line terminator (not at end of input)
  CsvError error = CsvError::kNone;

  std::string_view bytes(std::string_view data) const { return data.substr(begin, end - begin); }
};

class CsvReader {
 public:
  static constexpr std::size_t kMaxFields = 1 << 16;

  // `max_record_bytes` bounds one record (quoted newlines included).
  CsvReader(std::string_view data, std::size_t max_record_bytes);

  // Reads the next non-blank record; false at end of input. A leading UTF-8 BOM is skipped.
  bool next(CsvRecord& rec);
  std::size_t offset() const { return pos_; }
  std::uint64_t line() const { return line_; }

 private:
  struct Span {  // a field whose text lives in scratch_ (unescaped "" -> ")
    std::size_t index;
    std::size_t offset;
    std::size_t size;
  };
  // The common record: one terminated line of fields unquoted or quoted, without quotes, CRs or
  // line feeds inside. Reads it and returns true, or returns false having changed nothing.
  bool next_plain(CsvRecord& rec);
  void skip_to_line_end(CsvRecord& rec);
  void resync_after_first_line(CsvRecord& rec);

  std::string_view data_;
  std::size_t max_record_bytes_;
  std::size_t pos_ = 0;
  std::uint64_t line_ = 1;
  std::string scratch_;
  std::vector<Span> spans_;
};

// What a text check of one record found (a single pass over the bytes).
enum class TextProblem : std::uint8_t { kNone, kNulByte, kControlByte, kInvalidUtf8 };
std::string_view to_string(TextProblem p);
// First problem in `bytes`, with its offset in `where`. Tab, CR and LF are allowed.
TextProblem check_text(std::string_view bytes, std::size_t& where);

}  // namespace klartext::formats::shadowserver
