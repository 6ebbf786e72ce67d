// Shadowserver CSV reports: every report type of Shadowserver's published schema, streamed row by row.
#pragma once

#include <string>
#include <string_view>

#include "formats/format.hpp"

namespace klartext::formats::shadowserver {

// The report type a Shadowserver file name carries: "2024-07-04-scan_ntpmonitor-123-org-asn.csv",
// "2019-01-01-scan_ntpmonitor-asn.csv" and "scan_ntpmonitor.csv" all give "scan_ntpmonitor".
// Directories, ".csv"/".zip" suffixes and the date prefix are removed; the type ends at the first '-'.
// Empty when the name has no such part.
std::string report_type_from_filename(std::string_view filename);

// True when the first line looks like a Shadowserver CSV header (a "timestamp" column, plain names).
bool looks_like_header(std::string_view data);

class ShadowserverFormat : public Format {
 public:
  std::string_view name() const override { return "shadowserver-csv"; }
  int sniff(const Input& input) const override;
  void parse(ParseContext& ctx) const override;
};

// The registered instance.
const Format& format();

}  // namespace klartext::formats::shadowserver
