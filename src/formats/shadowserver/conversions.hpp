// The schema's named value conversions (IntelMQ's catalogue), reimplemented on string views.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/ip.hpp"
#include "core/timestamp.hpp"
#include "formats/shadowserver/schema.hpp"

namespace klartext::formats::shadowserver {

enum class ValueKind : std::uint8_t {
  kAbsent,   // the conversion says "no value" (empty, 0 for invalidate_zero, 0.0.0.0, ...)
  kInvalid,  // the text does not convert (not a number, not an address, not a time)
  kKeep,     // not a value for the target field, but evidence: kept as extra.<column> without an issue
  kString,
  kInt,
  kFloat,
  kBool,
  kIp,
  kTime,
};

struct Value {
  ValueKind kind = ValueKind::kAbsent;
  std::string_view text;  // kString: the value (a view into the row or the scratch buffer)
  std::int64_t i = 0;
  double f = 0;
  bool b = false;
  core::IpAddress ip;
  core::Timestamp time;
};

// Other columns of the same row, for the conversions that combine columns (nullopt = no such column).
struct RowContext {
  std::optional<std::string_view> http_host, cc_dns, url, http_url, application, detail;
};

// Applies `c` to `text`. New text (URLs, base64, CVE lists, dates) is written to `scratch`, which
// must stay unchanged while the result is used.
Value convert(Conversion c, std::string_view text, const RowContext& row, std::string& scratch);

// Helpers shared with the normalizer and tests.
std::optional<std::int64_t> parse_int(std::string_view s);
std::optional<double> parse_float(std::string_view s);
bool is_valid_fqdn(std::string_view s);
bool is_strict_base64(std::string_view s);

}  // namespace klartext::formats::shadowserver
