// Loads data/formats/report_types.yaml into validated classifications.
#include "formats/mail/report_types.hpp"

#include <yaml-cpp/yaml.h>

#include <mutex>
#include <stdexcept>

#include "core/embedded.hpp"
#include "formats/mail/mime.hpp"

namespace klartext::formats::mail {

namespace {
constexpr std::string_view kPath = "formats/report_types.yaml";
std::string make_key(std::string_view section, std::string_view key) {
  std::string k = lower(section);
  k += '\0';
  k += lower(key);
  return k;
}
}  // namespace

ReportTypes ReportTypes::load(const std::string& data_dir) {
  ReportTypes t;
  YAML::Node root = YAML::Load(core::load_data_file(kPath, data_dir));
  for (const auto& section : root) {
    std::string sname = section.first.as<std::string>();
    for (const auto& entry : section.second) {
      std::string key = entry.first.as<std::string>();
      const YAML::Node& v = entry.second;
      auto c = core::Classification::parse(v["taxonomy"].as<std::string>(""), v["type"].as<std::string>(""),
                                           v["identifier"].as<std::string>(""));
      if (!c) throw std::runtime_error(std::string(kPath) + ": bad classification for " + sname + "/" + key);
      t.entries_[make_key(sname, key)] = *c;
    }
  }
  return t;
}

const ReportTypes& ReportTypes::instance(const std::string& data_dir) {
  static std::once_flag once;
  static ReportTypes table;
  std::call_once(once, [&] { table = load(data_dir); });
  return table;
}

std::optional<core::Classification> ReportTypes::find(std::string_view section, std::string_view key) const {
  auto it = entries_.find(make_key(section, key));
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

}  // namespace klartext::formats::mail
