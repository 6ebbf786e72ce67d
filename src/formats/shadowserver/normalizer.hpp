// Turns one Shadowserver CSV row into a normalized event, by header name, following the schema mapping.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/event.hpp"
#include "formats/shadowserver/conversions.hpp"
#include "formats/shadowserver/schema.hpp"
#include "knowledge/knowledge.hpp"

namespace klartext::formats::shadowserver {

// A problem found while binding the header or normalizing a row.
struct Problem {
  std::string code;    // e.g. "shadowserver-missing-column"
  std::string reason;  // for people
  std::string excerpt;
};

// Maps classification labels that are not RSIT (e.g. IntelMQ's old "other/blacklist") to RSIT,
// from data/shadowserver/classification_map.json. Each entry says why.
class ClassificationMap {
 public:
  static std::shared_ptr<const ClassificationMap> get(const std::string& data_dir = {});
  static ClassificationMap parse(std::string_view json, std::string_view origin);
  // "taxonomy/type" -> the RSIT taxonomy/type to use; nullptr when there is no entry.
  const std::pair<std::string, std::string>* find(std::string_view taxonomy, std::string_view type) const;

 private:
  std::unordered_map<std::string, std::pair<std::string, std::string>> map_;
};

class Normalizer {
 public:
  // `spec` may be null: the report type is unknown, and every row becomes other/undetermined with its
  // evidence (common Shadowserver columns such as timestamp and ip still fill their fields).
  // `header` are the column names; `header_line` the header's original bytes (BOM and terminator removed).
  Normalizer(const ReportSpec* spec, std::string report_type, std::vector<std::string> header, std::string header_line,
             const knowledge::KnowledgeBase& kb, const ClassificationMap& classes);
  // Not copyable: the resolved classification and the JSON plan point into its own tables.
  Normalizer(const Normalizer&) = delete;
  Normalizer& operator=(const Normalizer&) = delete;

  // Problems of the whole file found at binding (missing columns, unknown conversions), one each.
  const std::vector<Problem>& file_problems() const { return file_problems_; }
  // False when a required column is missing: no row can be normalized.
  bool usable() const { return usable_; }
  std::size_t columns() const { return header_.size(); }
  const std::string& header_line() const { return header_line_; }

  // Fills `event` (cleared first) from one record whose field count matches the header.
  // Returns false when the row cannot become an event (`problems()` then says why). Softer
  // problems (an optional value that does not convert: kept as extra.<column>) leave it true.
  bool normalize(const std::vector<std::string_view>& fields, std::string_view row_bytes, core::Event& event);
  const std::vector<Problem>& problems() const { return problems_; }

  // Fast path for JSON Lines output: appends the row's event as JSON to `out`, byte for byte what
  // normalize() and Event::append_json would write, without building the Event. Returns false,
  // with `out` unchanged, when the file or the row needs the general path (a value that does not
  // convert, a missing timestamp, a classification that varies per row, ...): call normalize().
  bool normalize_json(const std::vector<std::string_view>& fields, std::string_view row_bytes, std::string& out);
  // The classification of the events normalize_json writes.
  const core::Classification& json_classification() const { return json_resolved_->classification; }

 private:
  enum class Target : std::uint8_t {
    kGeneric,
    kSourceIp,
    kDestinationIp,
    kSourcePort,
    kDestinationPort,
    kTimeSource,
    kSeverity,
    kTaxonomy,
    kType,
    kIdentifier,
    kLowercase,  // IntelMQ's LowercaseString fields: protocol.transport, protocol.application
  };
  struct Binding {
    const FieldMapping* mapping;
    std::size_t column;
    Target target;
    std::string_view key;        // interned target field
    std::string_view extra_key;  // interned "extra.<column>" for values that do not convert
    bool required;
  };
  struct Leftover {
    std::size_t column;
    std::string_view key;  // interned "extra.<column>"
  };
  struct Resolved {
    core::Classification classification;
    std::string feed_label;  // "taxonomy/type/identifier" as the feed said
    const knowledge::Amplifier* amplifier = nullptr;
    std::string baf_typical, baf_max;  // JSON numbers, precomputed
    bool mapped = true;                // false: the label is not RSIT and has no table entry
  };

  // One member (or a run of constant members) of the JSON object, in sorted key order. Its text
  // lies in json_text_: the rendered constant members, or ',"key":' before a value.
  struct JsonStep {
    enum class Kind : std::uint8_t {
      kText,      // constant members
      kString,    // the column's text, absent when empty (conversion none)
      kNotNone,   // the same, also absent for "0" and "unknown" (validate_to_none)
      kInteger,   // an integer column (convert_int, or invalidate_zero with absent_zero)
      kFloat,     // convert_float
      kAddress,   // validate_ip into an address field
      kTime,      // add_UTC_to_timestamp into time.source
      kConvert,   // anything else: convert() and the target's rules
      kLeftover,  // a column the schema does not map, as extra.<column>
      kId,
      kRaw,
    };
    Kind kind;
    bool absent_zero = false;
    std::uint32_t column = 0;   // value steps: the field
    std::uint32_t binding = 0;  // kConvert: into bindings_
    std::uint32_t text = 0;     // offset in json_text_
    std::uint32_t size = 0;
  };
  // Short step texts are copied as a fixed block (no call); json_text_ ends in this much padding.
  static constexpr std::size_t kKeyBlock = 32;

  void bind();
  void build_json_plan();

 public:
  // Members every event of the fast path gets besides its own (a wrapping sink's, see
  // ParseOptions::json_extra_members); rebuilds the plan. Without feed.provider no fast path.
  void add_json_members(std::vector<std::pair<std::string, std::string>> members);

 private:
  std::vector<std::pair<std::string, std::string>> json_extra_members_;
  RowContext row_context(const std::vector<std::string_view>& fields) const;
  // Sets the fields that are the same for every row of the file (constants, classification,
  // amplifier facts, feed.*).
  void set_file_fields(core::Event& event, const Resolved& r) const;
  // Writes one binding's converted value at `o` as JSON; nullptr when the row needs the general path.
  char* write_converted(char* o, const Binding& b, std::string_view text, const RowContext& ctx, bool& have_time);
  const Resolved& resolve(std::string_view taxonomy, std::string_view type, std::string_view identifier);
  void problem(std::string code, std::string reason, std::string_view excerpt = {});

  const ReportSpec* spec_;
  ReportSpec unknown_spec_;  // used when spec_ is null
  std::string report_type_;
  std::vector<std::string> header_;
  std::string header_line_;
  const knowledge::KnowledgeBase& kb_;
  const ClassificationMap& classes_;

  std::vector<Binding> bindings_;
  std::vector<Leftover> leftovers_;
  std::vector<std::pair<std::string_view, std::string>> constants_;  // non-classification constants
  std::string const_taxonomy_, const_type_, const_identifier_;
  bool has_const_taxonomy_ = false, has_const_type_ = false, has_const_identifier_ = false;
  bool row_context_ = false;  // some conversion reads other columns
  int col_http_host_ = -1, col_cc_dns_ = -1, col_url_ = -1, col_http_url_ = -1, col_application_ = -1, col_detail_ = -1;
  bool usable_ = true;
  std::vector<Problem> file_problems_;
  std::vector<Problem> problems_;
  std::unordered_map<std::string, Resolved> resolved_;  // node-based: references stay valid
  const Resolved* fixed_ = nullptr;
  std::string resolve_key_;
  std::string scratch_;
  std::string feed_name_, feed_code_, feed_doc_;
  bool warned_unmapped_ = false;

  // normalize_json's per-file plan (empty: the file takes the general path).
  std::vector<JsonStep> json_plan_;
  std::string json_text_;  // the steps' texts, then kKeyBlock bytes of padding
  const Resolved* json_resolved_ = nullptr;
  std::size_t json_fixed_bytes_ = 0;    // bytes of all step texts
  std::size_t json_values_ = 0;         // binding and leftover steps
  std::size_t json_column_uses_ = 0;    // the most value steps that read one column
  std::size_t json_wide_values_ = 0;    // value steps whose value comes from other columns
  core::EventIdHasher json_id_prefix_;  // provider, name and header line hashed once
  core::EventIdHasher json_id_;         // per row: a copy of the prefix plus the row
  std::string json_raw_head_b64_;       // base64 of header line + '\n', 3-byte aligned part
  std::string json_raw_head_rest_;      // the 0-2 bytes of header line + '\n' after it
  std::string json_buf_;                // one event's JSON
  std::string json_tmp_;                // an address or time as text
};

}  // namespace klartext::formats::shadowserver
