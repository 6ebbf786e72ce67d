// RFC 4180 CSV tokenizer: records as string_views into the input buffer, no per-field allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/format.hpp"

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
  std::size_t begin = 0;                 // byte offset of the record's first byte (from the input's start)
  std::size_t end = 0;                   // offset after its last byte, line terminator excluded
  std::size_t next = 0;                  // offset where the next record starts
  std::uint64_t line = 0;                // 1-based physical line where the record starts
  bool terminated = false;               // ended with a line terminator (not at end of input)
  CsvError error = CsvError::kNone;

  // The record's bytes in the whole input `data` (a reader over a ByteSource: CsvReader::bytes).
  std::string_view bytes(std::string_view data) const { return data.substr(begin, end - begin); }
};

class CsvReader {
 public:
  static constexpr std::size_t kMaxFields = 1 << 16;

  // Small enough that the window, the inflater's buffers and the output buffer stay in L2 (measured
  // a little faster than 1 MiB).
  static constexpr std::size_t kDefaultChunkBytes = 128 << 10;

  // `max_record_bytes` bounds one record (quoted newlines included).
  CsvReader(std::string_view data, std::size_t max_record_bytes);
  // Streaming: `head` are the input's first bytes, `more` the rest, read `chunk_bytes` at a time
  // into a reused window (the partial last record moves to its front). Records, offsets, lines and
  // errors are those of the reader over the whole input; when `more` was aborted the partial
  // record at the cut is dropped.
  CsvReader(std::string_view head, ByteSource* more, std::size_t max_record_bytes,
            std::size_t chunk_bytes = kDefaultChunkBytes);
  // The window may point into buf_: not copied or moved.
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the next non-blank record; false at end of input. A leading UTF-8 BOM is skipped.
  bool next(CsvRecord& rec);
  // The bytes of the record just read (valid until the next call to next()).
  std::string_view bytes(const CsvRecord& rec) const { return data_.substr(rec.begin - base_, rec.end - rec.begin); }
  std::size_t offset() const { return base_ + pos_; }
  std::uint64_t line() const { return line_; }

 private:
  enum class Step : std::uint8_t { kRecord, kEnd, kNeedMore };
  // One record from the window, offsets relative to it; kNeedMore when the outcome depends on
  // bytes after the window (the caller rolls back, refills and retries).
  Step step(CsvRecord& rec);
  // Moves the unread rest of the window to the front of buf_ and reads more after it (at least
  // as much as the rest, so a record longer than a chunk costs linear time). False at the end.
  bool refill();
  bool more() const { return pending_; }
  struct Span {  // a field whose text lives in scratch_ (unescaped "" -> ")
    std::size_t index;
    std::size_t offset;
    std::size_t size;
  };
  // The common record: one terminated line of fields unquoted or quoted, without quotes, CRs or
  // line feeds inside. Reads it and returns true, or returns false having changed nothing.
  bool next_plain(CsvRecord& rec);
  // False (nothing changed but pos_) when the line end lies after the window.
  bool skip_to_line_end(CsvRecord& rec);
  bool resync_after_first_line(CsvRecord& rec);

  std::string_view data_;         // the window: bytes [base_, base_ + data_.size()) of the input
  std::size_t base_ = 0;          // input offset of data_[0]
  ByteSource* source_ = nullptr;  // the rest of the input; nullptr once it ended
  bool pending_ = false;          // bytes may follow the window (false: the window ends the input)
  std::size_t chunk_bytes_ = 0;
  std::string buf_;  // owns the window once the first refill moved it here
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
