// The interface every input format implements, and what a parser reports back: events and issues.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.hpp"
#include "core/limits.hpp"

namespace klartext::formats {

// An input anomaly as data (Zeek "weird", DuckDB rejects): named code, where, excerpt, hint.
struct ParseIssue {
  std::string code;               // stable name, e.g. "csv-field-count"
  std::string input;              // file name, or file#part for nested inputs
  std::uint64_t line = 0;         // 1-based; 0 = not line-oriented
  std::uint64_t byte_offset = 0;  // from the start of `input`
  std::string reason;             // for people
  std::string excerpt;            // the offending bytes, capped
  std::string hint;               // what to do about it, may be empty
  std::string to_json() const;
};

enum class InputKind { kAbuseReport, kNotAReport, kUnreadable, kEmpty };
std::string_view to_string(InputKind k);

// One line of `parse --summary`.
struct InputSummary {
  std::string input;
  std::string format;  // detected format, e.g. "shadowserver-csv", "xarf", "arf"
  std::string detail;  // e.g. report type "scan_ntpmonitor", or "dmarc-aggregate" for a non-report
  InputKind kind = InputKind::kEmpty;
  std::uint64_t events = 0;
  std::uint64_t issues = 0;
  std::map<std::string, std::uint64_t> classifications;  // "taxonomy/type/identifier" -> count
  std::string to_json() const;
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void on_event(const core::Event& event) = 0;
  virtual void on_issue(const ParseIssue& issue) = 0;

  // Sinks that only write JSON Lines may take events already serialized (a parser's fast path,
  // byte-identical to Event::append_json): the buffer to append one event's JSON to, or nullptr
  // to receive Event objects only.
  virtual std::string* event_json_buffer() { return nullptr; }
  // One event's JSON (no newline) was appended to event_json_buffer(); `classification` is its
  // classification (sinks that wrap another sink pass it on).
  virtual void on_event_json(const core::Classification& classification) { (void)classification; }
};

// The rest of an input read while it is parsed (an archive member being decompressed), so a
// large member never sits in memory whole.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Up to `size` bytes into `buf`; 0 at the end, also after a failure the source recorded as an issue.
  virtual std::size_t read(char* buf, std::size_t size) = 0;
  // True when the source stopped at a limit (issue recorded): the bytes before the cut are not a
  // complete input and their partial last record is not parsed.
  virtual bool aborted() const = 0;
};

struct Input {
  std::string name;           // shown in issues
  std::string filename_hint;  // file name used to detect report types (attachment name, path)
  std::string_view data;      // the bytes; owned by whoever made the Input
  // Optional: the bytes after `data` (then `data` is only the input's first bytes, at least 64 KiB,
  // which is all that sniff() looks at). Only given to a format whose parse() reads it (Shadowserver CSV).
  ByteSource* more = nullptr;
  // Optional: tells the owner that bytes before `offset` are no longer needed (lets an mmap'd
  // file drop pages so memory stays flat on huge inputs).
  std::function<void(std::size_t offset)> release;
};

struct ParseOptions {
  std::string report_type;  // force a Shadowserver report type
  std::string schema_path;  // newer Shadowserver schema (intelmq.json format)
  std::string data_dir;     // overrides for embedded data files
  core::Limits limits;
  // Set by a sink that adds the same members to every event it passes on (the mail format's link to
  // the original mail): parsers with a JSON fast path render them once per file instead. Called at
  // most once per file; the general path (Event objects) never sees them.
  std::function<std::vector<std::pair<std::string, std::string>>()> json_extra_members;
};

class ParseContext {
 public:
  ParseContext(Sink& sink, const ParseOptions& options, const Input& input, int depth = 0)
      : sink_(sink), options_(options), input_(input), depth_(depth) {
    summary_.input = input.name;
  }

  const Input& input() const { return input_; }
  const ParseOptions& options() const { return options_; }
  const core::Limits& limits() const { return options_.limits; }
  int depth() const { return depth_; }

  void emit(const core::Event& event);
  // For parsers that serialize events themselves: the sink's buffer (nullptr when the sink wants
  // Event objects), and the call that counts one event appended to it.
  std::string* event_json_buffer() { return sink_.event_json_buffer(); }
  void emitted_json(const core::Classification& classification);
  void issue(std::string code, std::uint64_t line, std::uint64_t byte_offset, std::string reason,
             std::string_view excerpt = {}, std::string hint = {});

  InputSummary& summary() { return summary_; }
  void set_format(std::string_view format, std::string_view detail = {});
  void set_kind(InputKind kind) { summary_.kind = kind; }

  // Parses a nested input (attachment, archive member) by content detection, feeding the same
  // sink; its counts are added to this input's summary. Returns the nested summary.
  InputSummary parse_child(const Input& child);

 private:
  void count(const core::Classification& classification);

  Sink& sink_;
  const ParseOptions& options_;
  const Input& input_;
  int depth_;
  InputSummary summary_;
  core::Classification last_classification_;  // emit(): entry of summary_.classifications last counted
  std::uint64_t* last_count_ = nullptr;
  std::size_t last_size_ = 0;
};

class Format {
 public:
  virtual ~Format() = default;
  virtual std::string_view name() const = 0;
  // 0 = not this format, 100 = certainly this format. Looks at filename_hint and the bytes.
  virtual int sniff(const Input& input) const = 0;
  virtual void parse(ParseContext& ctx) const = 0;
};

// The registration point: every format is listed once in registry.cpp.
const std::vector<const Format*>& all_formats();
const Format* find_format(std::string_view name);

// The format parse_input picks for `input` (highest sniff score), nullptr when none.
const Format* sniffed_format(const Input& input);

// Detects the format (highest sniff score) and parses. Undetected input becomes one
// "unknown-format" issue and kind kUnreadable. Exceptions from a parser are caught here and
// recorded as a "parser-failure" issue: one bad input never stops the run.
InputSummary parse_input(const Input& input, Sink& sink, const ParseOptions& options, int depth = 0);

// Shortens `bytes` for an excerpt: at most `max` bytes, cut at a UTF-8 boundary.
std::string make_excerpt(std::string_view bytes, std::size_t max);

}  // namespace klartext::formats
