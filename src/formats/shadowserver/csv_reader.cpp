// RFC 4180 CSV tokenizer: hand-written state machine over the mapped input, fields as views.
#include "formats/shadowserver/csv_reader.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "core/json_text.hpp"

namespace klartext::formats::shadowserver {
namespace {

constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
// High bit set in each zero byte of x (and possibly in bytes above one; the lowest is exact).
constexpr std::uint64_t zero_byte(std::uint64_t x) {
  return (x - kOnes) & ~x & kHigh;
}

// Bytes that end an unquoted field.
constexpr std::array<bool, 256> kFieldEnd = [] {
  std::array<bool, 256> t{};
  t[static_cast<unsigned char>(',')] = true;
  t[static_cast<unsigned char>('\n')] = true;
  t[static_cast<unsigned char>('\r')] = true;
  return t;
}();

}  // namespace

std::string_view to_string(CsvError e) {
  switch (e) {
    case CsvError::kUnterminatedQuote: return "unterminated-quote";
    case CsvError::kTooLong: return "too-long";
    case CsvError::kTooManyFields: return "too-many-fields";
    case CsvError::kNone: break;
  }
  return "none";
}

std::string_view to_string(TextProblem p) {
  switch (p) {
    case TextProblem::kNulByte: return "nul-byte";
    case TextProblem::kControlByte: return "control-byte";
    case TextProblem::kInvalidUtf8: return "invalid-utf8";
    case TextProblem::kNone: break;
  }
  return "none";
}

CsvReader::CsvReader(std::string_view data, std::size_t max_record_bytes)
    : data_(data), max_record_bytes_(max_record_bytes == 0 ? 1 : max_record_bytes) {
  if (data_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
}

CsvReader::CsvReader(std::string_view head, ByteSource* more, std::size_t max_record_bytes, std::size_t chunk_bytes)
    : data_(head),
      source_(more),
      pending_(more != nullptr),
      chunk_bytes_(std::max<std::size_t>(chunk_bytes, 1)),
      max_record_bytes_(max_record_bytes == 0 ? 1 : max_record_bytes) {
  while (data_.size() < 3 && refill()) {
  }
  if (data_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
}

bool CsvReader::refill() {
  if (source_ == nullptr) return false;
  const std::size_t keep = data_.size() - pos_;
  const std::size_t want = std::max(chunk_bytes_, keep);
  if (buf_.size() < keep + want) {
    std::string grown(keep + want, '\0');
    std::memcpy(grown.data(), data_.data() + pos_, keep);
    buf_.swap(grown);
  } else if (keep != 0) {
    std::memmove(buf_.data(), data_.data() + pos_, keep);
  }
  base_ += pos_;
  pos_ = 0;
  std::size_t got = 0;
  while (got < want) {
    const std::size_t n = source_->read(buf_.data() + keep + got, want - got);
    if (n == 0) break;
    got += n;
  }
  data_ = std::string_view(buf_.data(), keep + got);
  if (got == want) return true;
  // The end of the input. After a limit stopped the source, the window still does not end the
  // input: the record cut there is not one (next() ends at it).
  if (!source_->aborted()) pending_ = false;
  source_ = nullptr;
  return got != 0;
}

bool CsvReader::skip_to_line_end(CsvRecord& rec) {
  // A hostile record: resynchronise at the next line feed, ignoring quotes.
  const char* p = data_.data() + pos_;
  const void* nl = std::memchr(p, '\n', data_.size() - pos_);
  if (nl == nullptr && more()) return false;
  std::size_t stop =
      nl == nullptr ? data_.size() : static_cast<std::size_t>(static_cast<const char*>(nl) - data_.data());
  rec.end = stop > rec.begin && stop > 0 && data_[stop - 1] == '\r' ? stop - 1 : stop;
  if (nl != nullptr) {
    pos_ = stop + 1;
    ++line_;
    rec.terminated = true;
  } else {
    pos_ = stop;
    rec.terminated = false;
  }
  rec.next = pos_;
  rec.fields.clear();
  spans_.clear();
  return true;
}

bool CsvReader::resync_after_first_line(CsvRecord& rec) {
  pos_ = rec.begin;
  line_ = rec.line;
  return skip_to_line_end(rec);
}

bool CsvReader::next_plain(CsvRecord& rec) {
  const char* d = data_.data();
  const std::size_t n = data_.size();
  const std::size_t begin = pos_;
  const void* lf = std::memchr(d + begin, '\n', std::min(n - begin, max_record_bytes_ + 2));
  if (lf == nullptr) return false;  // last line without terminator, or too long
  const std::size_t next = static_cast<std::size_t>(static_cast<const char*>(lf) - d) + 1;
  std::size_t end = next - 1;
  if (end > begin && d[end - 1] == '\r') --end;
  if (end == begin || end - begin > max_record_bytes_) return false;  // blank line, or too long
  rec.fields.clear();
  std::size_t p = begin;
  for (;;) {
    if (rec.fields.size() >= kMaxFields) return false;
    if (d[p] == '"') {
      const void* q = std::memchr(d + p + 1, '"', end - p - 1);
      if (q == nullptr) return false;  // a line feed inside, or unterminated
      const std::size_t close = static_cast<std::size_t>(static_cast<const char*>(q) - d);
      if (close + 1 < end && d[close + 1] != ',') return false;  // "" or text after the quote
      rec.fields.emplace_back(d + p + 1, close - p - 1);
      p = close + 1;
    } else {
      // To the next ',' (8 bytes at a time); a quote or CR inside the field needs the full reader.
      const std::size_t start = p;
      std::uint64_t special = 0;
      while (end - p >= 8) {
        std::uint64_t w;
        std::memcpy(&w, d + p, 8);
        special = zero_byte(w ^ (kOnes * ',')) | zero_byte(w ^ (kOnes * '"')) | zero_byte(w ^ (kOnes * '\r'));
        if (special != 0) {
          // The lowest flagged byte is exact (false positives only occur above a real match).
          if constexpr (std::endian::native == std::endian::little) p += std::countr_zero(special) >> 3;
          break;
        }
        p += 8;
      }
      if (special == 0) {
        while (p < end && d[p] != ',' && d[p] != '"' && d[p] != '\r') ++p;
      }
      if (p < end && d[p] != ',') return false;
      rec.fields.emplace_back(d + start, p - start);
    }
    if (p == end) break;
    ++p;  // the ','
  }
  rec.begin = begin;
  rec.end = end;
  rec.next = next;
  rec.line = line_;
  rec.terminated = true;
  rec.error = CsvError::kNone;
  pos_ = next;
  ++line_;
  return true;
}

bool CsvReader::next(CsvRecord& rec) {
  for (;;) {
    if (pos_ < data_.size() && next_plain(rec)) break;
    const std::size_t pos = pos_;
    const std::uint64_t line = line_;
    const Step s = step(rec);
    if (s == Step::kRecord) break;
    if (s == Step::kEnd) return false;
    // The record goes on after the window: read it again once more bytes are there.
    pos_ = pos;
    line_ = line;
    if (source_ == nullptr) return false;  // the source stopped at a limit: the rest is cut
    refill();
  }
  rec.begin += base_;
  rec.end += base_;
  rec.next += base_;
  return true;
}

CsvReader::Step CsvReader::step(CsvRecord& rec) {
  const char* d = data_.data();
  const std::size_t n = data_.size();
  for (;;) {
    if (pos_ >= n) return more() ? Step::kNeedMore : Step::kEnd;
    rec.fields.clear();
    spans_.clear();
    scratch_.clear();
    rec.begin = pos_;
    rec.line = line_;
    rec.error = CsvError::kNone;
    rec.terminated = false;
    std::size_t p = pos_;
    const std::size_t limit = rec.begin + max_record_bytes_;
    bool done = false;
    while (!done) {
      if (p >= n) {
        if (more()) return Step::kNeedMore;
        // End of input right after a delimiter: one more (empty) field.
        rec.fields.emplace_back(d + p, 0);
        rec.end = p;
        done = true;
        break;
      }
      if (rec.fields.size() >= kMaxFields) {
        pos_ = p;
        rec.error = CsvError::kTooManyFields;
        return skip_to_line_end(rec) ? Step::kRecord : Step::kNeedMore;
      }
      if (d[p] == '"') {
        // Quoted field: runs between quotes are found with memchr.
        std::size_t start = p + 1;
        std::size_t q = start;
        bool escaped = false;
        std::size_t scratch_at = 0;
        for (;;) {
          // Next quote; line feeds on the way are counted (quoted fields are short: inline scan).
          std::size_t stop = q;
          while (n - stop >= 8) {
            std::uint64_t w;
            std::memcpy(&w, d + stop, 8);
            std::uint64_t hit8 = zero_byte(w ^ (kOnes * '"')) | zero_byte(w ^ (kOnes * '\n'));
            if (hit8 != 0) {
              // The lowest flagged byte is exact (false positives only occur above a real match).
              if constexpr (std::endian::native == std::endian::little) stop += std::countr_zero(hit8) >> 3;
              break;
            }
            stop += 8;
          }
          while (stop < n && d[stop] != '"') {
            line_ += d[stop] == '\n' ? 1 : 0;
            ++stop;
          }
          const bool hit = stop < n;
          if ((!hit || stop + 1 == n) && more()) return Step::kNeedMore;  // "" or the closing quote?
          if (escaped) scratch_.append(d + q, stop - q);
          if (!hit || stop > limit) {
            // Truncated input or a stray quote: the record ends at its first line feed, so one
            // bad quote costs one row, not the rest of the file.
            rec.error = !hit ? CsvError::kUnterminatedQuote : CsvError::kTooLong;
            return resync_after_first_line(rec) ? Step::kRecord : Step::kNeedMore;
          }
          if (stop + 1 < n && d[stop + 1] == '"') {
            if (!escaped) {
              escaped = true;
              scratch_at = scratch_.size();
              scratch_.append(d + start, stop - start);
            }
            scratch_.push_back('"');
            q = stop + 2;
            continue;
          }
          if (escaped) {
            spans_.push_back({rec.fields.size(), scratch_at, scratch_.size() - scratch_at});
            rec.fields.emplace_back();  // filled in once the record is complete
          } else {
            rec.fields.emplace_back(d + start, stop - start);
          }
          p = stop + 1;
          break;
        }
        if (p < n && !kFieldEnd[static_cast<unsigned char>(d[p])]) {
          // Text after a closing quote (e.g. backslash-escaped quotes: "\"x\""): like Python's csv
          // module (strict=False), with which these files are usually read, it belongs to the
          // field literally, up to the next delimiter.
          std::size_t rest = p;
          while (p < n && !kFieldEnd[static_cast<unsigned char>(d[p])]) ++p;
          const std::size_t index = rec.fields.size() - 1;
          if (spans_.empty() || spans_.back().index != index) {
            spans_.push_back({index, scratch_.size(), rec.fields.back().size()});
            scratch_.append(rec.fields.back());
          }
          Span& last = spans_.back();
          scratch_.append(d + rest, p - rest);
          last.size = scratch_.size() - last.offset;
        }
      } else {
        std::size_t start = p;
        // Find the field end 8 bytes at a time (',' '\n' '\r'), then byte by byte.
        while (n - p >= 8) {
          std::uint64_t w;
          std::memcpy(&w, d + p, 8);
          std::uint64_t hit8 =
              zero_byte(w ^ (kOnes * ',')) | zero_byte(w ^ (kOnes * '\n')) | zero_byte(w ^ (kOnes * '\r'));
          if (hit8 != 0) {
            if constexpr (std::endian::native == std::endian::little) p += std::countr_zero(hit8) >> 3;
            break;
          }
          p += 8;
        }
        while (p < n && !kFieldEnd[static_cast<unsigned char>(d[p])]) ++p;
        rec.fields.emplace_back(d + start, p - start);
      }
      // The field, its delimiter, or a CR's LF may lie after the window.
      if ((p >= n || (p + 1 == n && d[p] == '\r')) && more()) return Step::kNeedMore;
      if (p > limit) {
        pos_ = p;
        rec.error = CsvError::kTooLong;
        return skip_to_line_end(rec) ? Step::kRecord : Step::kNeedMore;
      }
      if (p >= n) {
        rec.end = n;
        done = true;
      } else if (d[p] == ',') {
        ++p;
      } else {
        rec.end = p;
        if (d[p] == '\r' && p + 1 < n && d[p + 1] == '\n') ++p;
        ++p;
        ++line_;
        rec.terminated = true;
        done = true;
      }
    }
    pos_ = p;
    rec.next = p;
    // Blank lines are not records.
    if (rec.end == rec.begin && rec.fields.size() == 1 && rec.error == CsvError::kNone) continue;
    // Unescaped fields point into scratch_, which may have moved while the record grew.
    for (const Span& s : spans_) rec.fields[s.index] = std::string_view(scratch_).substr(s.offset, s.size);
    return Step::kRecord;
  }
}

TextProblem check_text(std::string_view bytes, std::size_t& where) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  const auto* begin = p;
  while (p < end) {
    // Fast path: 8 printable ASCII bytes at a time.
    while (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      // A byte < 0x20 or >= 0x80 stops the fast path.
      if (((w | (w - kOnes * 0x20)) & kHigh) != 0) break;
      p += 8;
    }
    if (p >= end) break;
    unsigned char c = *p;
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        where = static_cast<std::size_t>(p - begin);
        return c == 0 ? TextProblem::kNulByte : TextProblem::kControlByte;
      }
      ++p;
      continue;
    }
    const std::size_t len = core::utf8_sequence(p, end);
    if (len == 0) {
      where = static_cast<std::size_t>(p - begin);
      return TextProblem::kInvalidUtf8;
    }
    p += len;
  }
  return TextProblem::kNone;
}

}  // namespace klartext::formats::shadowserver
