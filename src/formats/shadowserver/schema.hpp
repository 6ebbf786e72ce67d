// Shadowserver's published report schema (intelmq.json format): report types, column mappings, conversions.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace klartext::formats::shadowserver {

// The named conversions the schema uses (IntelMQ's catalogue, reimplemented in conversions.cpp).
enum class Conversion : std::uint8_t {
  kNone,
  kAddUtcToTimestamp,
  kValidateIp,
  kConvertInt,
  kConvertFloat,
  kInvalidateZero,
  kValidateToNone,
  kExtractCveFromTag,
  kConvertBool,
  kConvertDate,
  kConvertDateUtc,
  kValidateFqdn,
  kValidateNetwork,
  kConvertHttpHostAndUrl,
  kForceBase64,
  kCategoryOrDetail,
  kScanExchangeTaxonomy,
  kScanExchangeType,
  kScanExchangeIdentifier,
  kUnknown,  // a name this build does not know (newer schema): the value is kept under extra.<column>
};

std::optional<Conversion> parse_conversion(std::string_view name);
std::string_view to_string(Conversion c);

struct FieldMapping {
  std::string target;  // IntelMQ field name; "extra.<column>" already resolved; empty = ignore the column
  std::string column;  // CSV header name
  Conversion conversion = Conversion::kNone;
  std::string conversion_name;  // as written in the schema (for kUnknown)
  bool required = false;
};

struct ReportSpec {
  std::string key;                                             // schema key, e.g. "event_sinkhole"
  std::string file_name;                                       // report type in file names, e.g. "event4_sinkhole"
  std::string feed_name;                                       // e.g. "Sinkhole-Events IPv4"
  std::string url;                                             // documentation page
  std::vector<std::pair<std::string, std::string>> constants;  // field -> value, applied after the columns
  std::vector<FieldMapping> fields;                            // required first, then optional, schema order

  std::optional<std::string_view> constant(std::string_view field) const;
};

class Schema {
 public:
  // Parses the intelmq.json text; throws std::runtime_error naming `origin` when it is malformed.
  static Schema parse(std::string_view json, std::string_view origin);
  // The schema shipped in data/shadowserver/intelmq.json (or `data_dir`'s copy), cached.
  // With `schema_path` set, that file instead (cached by path). Throws std::runtime_error.
  static std::shared_ptr<const Schema> get(const std::string& schema_path = {}, const std::string& data_dir = {});

  // By schema key or file_name (case-insensitive).
  const ReportSpec* find(std::string_view report_type) const;
  const std::vector<ReportSpec>& reports() const { return reports_; }
  const std::string& date_created() const { return date_created_; }

 private:
  std::vector<ReportSpec> reports_;
  std::map<std::string, std::size_t, std::less<>> index_;  // lower-case key and file_name -> reports_
  std::string date_created_;
};

}  // namespace klartext::formats::shadowserver
