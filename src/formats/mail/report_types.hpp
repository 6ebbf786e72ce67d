// The report-type tables of the structured formats (data/formats/report_types.yaml).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/taxonomy.hpp"

namespace klartext::formats::mail {

class ReportTypes {
 public:
  // Loaded once per process from `data_dir` (override) or the embedded copy. Throws
  // std::runtime_error naming the entry when the table is malformed.
  static const ReportTypes& instance(const std::string& data_dir = {});
  static ReportTypes load(const std::string& data_dir);

  // Classification for `key` (case-insensitive) in `section` ("xarf0", "xarf3", "xarf4", "arf",
  // "iodef"); nullopt when the table does not know the label.
  std::optional<core::Classification> find(std::string_view section, std::string_view key) const;

 private:
  std::map<std::string, core::Classification> entries_;  // "section\0key" (lowercase)
};

}  // namespace klartext::formats::mail
