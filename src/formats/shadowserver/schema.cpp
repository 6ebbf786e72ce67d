// Loading the Shadowserver schema (intelmq.json) into typed report specs.
#include "formats/shadowserver/schema.hpp"

#include <algorithm>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "core/embedded.hpp"

namespace klartext::formats::shadowserver {
namespace {

struct ConversionName {
  Conversion value;
  std::string_view name;
};

constexpr ConversionName kConversions[] = {
    {Conversion::kNone, ""},
    {Conversion::kAddUtcToTimestamp, "add_UTC_to_timestamp"},
    {Conversion::kValidateIp, "validate_ip"},
    {Conversion::kConvertInt, "convert_int"},
    {Conversion::kConvertFloat, "convert_float"},
    {Conversion::kInvalidateZero, "invalidate_zero"},
    {Conversion::kValidateToNone, "validate_to_none"},
    {Conversion::kExtractCveFromTag, "extract_cve_from_tag"},
    {Conversion::kConvertBool, "convert_bool"},
    {Conversion::kConvertDate, "convert_date"},
    {Conversion::kConvertDateUtc, "convert_date_utc"},
    {Conversion::kValidateFqdn, "validate_fqdn"},
    {Conversion::kValidateNetwork, "validate_network"},
    {Conversion::kConvertHttpHostAndUrl, "convert_http_host_and_url"},
    {Conversion::kForceBase64, "force_base64"},
    {Conversion::kCategoryOrDetail, "category_or_detail"},
    {Conversion::kScanExchangeTaxonomy, "scan_exchange_taxonomy"},
    {Conversion::kScanExchangeType, "scan_exchange_type"},
    {Conversion::kScanExchangeIdentifier, "scan_exchange_identifier"},
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

FieldMapping read_mapping(const nlohmann::json& entry, bool required, const std::string& where) {
  if (!entry.is_array() || entry.size() < 2 || !entry[1].is_string()) {
    throw std::runtime_error(where + ": field mapping is not [field, column, conversion?]");
  }
  FieldMapping m;
  m.required = required;
  m.column = entry[1].get<std::string>();
  if (entry[0].is_string()) {
    m.target = entry[0].get<std::string>();
    if (m.target == "extra.") m.target += m.column;
  } else if (!(entry[0].is_boolean() && !entry[0].get<bool>())) {
    throw std::runtime_error(where + ": field name must be a string or false");
  }
  if (entry.size() >= 3 && entry[2].is_string()) {
    m.conversion_name = entry[2].get<std::string>();
    m.conversion = parse_conversion(m.conversion_name).value_or(Conversion::kUnknown);
  }
  return m;
}

}  // namespace

std::optional<Conversion> parse_conversion(std::string_view name) {
  for (const auto& c : kConversions) {
    if (c.name == name) return c.value;
  }
  return std::nullopt;
}

std::string_view to_string(Conversion c) {
  for (const auto& x : kConversions) {
    if (x.value == c) return x.name;
  }
  return "unknown";
}

std::optional<std::string_view> ReportSpec::constant(std::string_view field) const {
  for (const auto& [k, v] : constants) {
    if (k == field) return std::string_view(v);
  }
  return std::nullopt;
}

Schema Schema::parse(std::string_view json, std::string_view origin) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string(origin) + ": not JSON: " + e.what());
  }
  if (!root.is_object()) throw std::runtime_error(std::string(origin) + ": schema is not a JSON object");
  Schema s;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string where = std::string(origin) + ": " + it.key();
    if (it.key() == "_meta") {
      if (it->is_object() && it->contains("date_created") && (*it)["date_created"].is_string()) {
        s.date_created_ = (*it)["date_created"].get<std::string>();
      }
      continue;
    }
    const nlohmann::json& r = *it;
    if (!r.is_object()) throw std::runtime_error(where + ": report entry is not an object");
    ReportSpec spec;
    spec.key = it.key();
    spec.file_name = r.value("file_name", it.key());
    spec.feed_name = r.value("feed_name", std::string());
    spec.url = r.value("url", std::string());
    if (r.contains("constant_fields") && r["constant_fields"].is_object()) {
      for (auto c = r["constant_fields"].begin(); c != r["constant_fields"].end(); ++c) {
        if (c->is_string()) spec.constants.emplace_back(c.key(), c->get<std::string>());
      }
    }
    for (const char* section : {"required_fields", "optional_fields"}) {
      if (!r.contains(section)) continue;
      if (!r[section].is_array()) throw std::runtime_error(where + ": " + section + " is not a list");
      for (const auto& e : r[section]) {
        spec.fields.push_back(read_mapping(e, std::string_view(section) == "required_fields", where));
      }
    }
    s.reports_.push_back(std::move(spec));
  }
  // Keys first, so a key always wins over another report's file_name.
  for (std::size_t i = 0; i < s.reports_.size(); ++i) s.index_.emplace(lower(s.reports_[i].key), i);
  for (std::size_t i = 0; i < s.reports_.size(); ++i) s.index_.emplace(lower(s.reports_[i].file_name), i);
  if (s.reports_.empty()) throw std::runtime_error(std::string(origin) + ": schema has no report types");
  return s;
}

const ReportSpec* Schema::find(std::string_view report_type) const {
  auto it = index_.find(lower(report_type));
  return it == index_.end() ? nullptr : &reports_[it->second];
}

std::shared_ptr<const Schema> Schema::get(const std::string& schema_path, const std::string& data_dir) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Schema>> cache;
  const std::string cache_key = schema_path.empty() ? "data:" + data_dir : "file:" + schema_path;
  std::lock_guard lock(mu);
  auto it = cache.find(cache_key);
  if (it != cache.end()) return it->second;
  std::shared_ptr<const Schema> s;
  if (schema_path.empty()) {
    const std::string path = "shadowserver/intelmq.json";
    s = std::make_shared<const Schema>(parse(core::load_data_file(path, data_dir), path));
  } else {
    std::ifstream in(schema_path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read schema file " + schema_path);
    std::ostringstream ss;
    ss << in.rdbuf();
    s = std::make_shared<const Schema>(parse(ss.str(), schema_path));
  }
  cache.emplace(cache_key, s);
  return s;
}

}  // namespace klartext::formats::shadowserver
