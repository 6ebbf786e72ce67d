// Value conversions named in the Shadowserver schema, with the semantics of IntelMQ's catalogue.
#include "formats/shadowserver/conversions.hpp"

#include <cctype>
#include <charconv>
#include <cmath>

#include "core/event.hpp"

namespace klartext::formats::shadowserver {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

Value string_value(std::string_view s) {
  Value v;
  if (!s.empty()) {
    v.kind = ValueKind::kString;
    v.text = s;
  }
  return v;
}

Value invalid(std::string_view s) {
  Value v;
  v.kind = ValueKind::kInvalid;
  v.text = s;
  return v;
}

Value to_time(std::string_view s, std::string& scratch, bool as_text) {
  s = trim(s);
  if (s.empty()) return {};
  auto t = core::Timestamp::parse(s);
  if (!t && as_text) t = core::Timestamp::parse_rfc5322(s);  // HTTP Date headers ("Thu, 19 Apr 2018 ... GMT")
  if (!t) return invalid(s);
  Value v;
  if (as_text) {
    scratch.clear();
    t->append_iso(scratch);
    v.kind = ValueKind::kString;
    v.text = scratch;
  } else {
    v.kind = ValueKind::kTime;
    v.time = *t;
  }
  return v;
}

// url/http_url hold a path or a whole request line ("GET /x HTTP/1.1"): keep the path.
std::string_view request_path(std::string_view p) {
  std::size_t slash = p.find('/');
  if (slash == std::string_view::npos) return {};
  p.remove_prefix(slash);
  std::size_t ws = p.find_first_of(" \t\r\n");
  return ws == std::string_view::npos ? p : p.substr(0, ws);
}

Value host_and_url(std::string_view value, const RowContext& row, std::string& scratch) {
  std::string_view host = row.cc_dns ? *row.cc_dns : row.http_host ? *row.http_host : std::string_view();
  std::string_view path = row.url ? *row.url : row.http_url ? *row.http_url : std::string_view();
  if (!host.empty() && !path.empty()) {
    std::string_view app = row.application && (*row.application == "http" || *row.application == "https")
                               ? *row.application
                               : std::string_view("http");
    if (path.find("://") != std::string_view::npos) return string_value(path);  // already a URL
    scratch.clear();
    scratch.append(app);
    scratch.append("://");
    scratch.append(host);
    scratch.append(request_path(path));
    return string_value(scratch);
  }
  // A bare path or request line is not a URL; keep it as evidence.
  if (value.empty() || value.find("://") != std::string_view::npos) return string_value(value);
  Value v;
  v.kind = ValueKind::kKeep;
  v.text = value;
  return v;
}

Value cves_from_tag(std::string_view tag, std::string& scratch) {
  scratch.clear();
  std::size_t pos = 0;
  while (pos <= tag.size()) {
    std::size_t end = pos;  // the next ';' or ',' (find_first_of would call memchr per byte)
    while (end < tag.size() && tag[end] != ';' && tag[end] != ',') ++end;
    std::string_view t = trim(tag.substr(pos, end - pos));
    pos = end + 1;
    if (t.size() < 9 || !iequals(t.substr(0, 4), "cve-")) continue;
    std::string upper(t);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    // Skip duplicates: the tag column may name one CVE twice.
    bool seen = false;
    std::size_t at = 0;
    while (at < scratch.size()) {
      std::size_t e = scratch.find(',', at);
      if (e == std::string::npos) e = scratch.size();
      if (std::string_view(scratch).substr(at, e - at) == upper) seen = true;
      at = e + 1;
    }
    if (seen) continue;
    if (!scratch.empty()) scratch.push_back(',');
    scratch.append(upper);
  }
  return string_value(scratch);
}

bool is_exchange_webshell(std::string_view tag) {
  return tag == "exchange;webshell";
}

}  // namespace

std::optional<std::int64_t> parse_int(std::string_view s) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  std::int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_float(std::string_view s) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

bool is_valid_fqdn(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  if (s.empty() || s.size() > 253) return false;
  if (core::IpAddress::parse(s)) return false;  // an address is not a name
  std::size_t label = 0;
  bool alpha = false;
  for (char c : s) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
    alpha = alpha || std::isalpha(static_cast<unsigned char>(c));
  }
  return label > 0 && alpha;
}

bool is_strict_base64(std::string_view s) {
  if (s.empty() || s.size() % 4 != 0) return false;
  std::size_t pad = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '=') {
      if (i + 2 < s.size()) return false;
      ++pad;
      continue;
    }
    if (pad > 0) return false;
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/')) return false;
  }
  return pad <= 2;
}

Value convert(Conversion c, std::string_view text, const RowContext& row, std::string& scratch) {
  switch (c) {
    case Conversion::kNone:
    case Conversion::kUnknown: return string_value(text);
    case Conversion::kAddUtcToTimestamp:
    case Conversion::kConvertDateUtc:
    case Conversion::kConvertDate: {
      // Shadowserver times have no zone and are UTC; Timestamp::parse takes a zoneless time as UTC.
      return to_time(text, scratch, c != Conversion::kAddUtcToTimestamp);
    }
    case Conversion::kValidateIp: {
      std::string_view t = trim(text);
      if (t.empty() || t == "0.0.0.0" || t.find('/') != std::string_view::npos) return {};
      auto ip = core::IpAddress::parse(t);
      if (!ip) return invalid(text);
      Value v;
      v.kind = ValueKind::kIp;
      v.ip = *ip;
      return v;
    }
    case Conversion::kValidateNetwork: {
      std::string_view t = trim(text);
      if (t.find('/') == std::string_view::npos) return {};
      std::size_t comma = t.find(',');  // several networks: the first one is kept
      if (comma != std::string_view::npos) t = trim(t.substr(0, comma));
      if (!core::IpPrefix::parse(t)) return invalid(text);
      return string_value(t);
    }
    case Conversion::kConvertInt: {
      if (text.empty()) return {};
      auto i = parse_int(text);
      if (!i) return invalid(text);
      Value v;
      v.kind = ValueKind::kInt;
      v.i = *i;
      return v;
    }
    case Conversion::kInvalidateZero: {
      if (text.empty()) return {};
      auto i = parse_int(text);
      if (!i) return invalid(text);
      if (*i == 0) return {};
      Value v;
      v.kind = ValueKind::kInt;
      v.i = *i;
      return v;
    }
    case Conversion::kConvertFloat: {
      if (text.empty()) return {};
      auto f = parse_float(text);
      if (!f) return invalid(text);
      Value v;
      v.kind = ValueKind::kFloat;
      v.f = *f;
      return v;
    }
    case Conversion::kConvertBool: {
      if (text.empty()) return {};
      Value v;
      v.kind = ValueKind::kBool;
      for (std::string_view t : {"y", "yes", "true", "enabled", "1"}) {
        if (iequals(text, t)) {
          v.b = true;
          return v;
        }
      }
      for (std::string_view t : {"n", "no", "false", "disabled", "0"}) {
        if (iequals(text, t)) {
          v.b = false;
          return v;
        }
      }
      return invalid(text);
    }
    case Conversion::kValidateToNone:
      // Shadowserver writes "0" or "unknown" for "no value" in these columns.
      if (text == "0" || text == "unknown") return {};
      return string_value(text);
    case Conversion::kValidateFqdn:
      if (!is_valid_fqdn(text)) return {};
      return string_value(text);
    case Conversion::kExtractCveFromTag: return cves_from_tag(text, scratch);
    case Conversion::kConvertHttpHostAndUrl: return host_and_url(text, row, scratch);
    case Conversion::kForceBase64: {
      if (text.empty()) return {};
      if (is_strict_base64(text)) return string_value(text);
      scratch.clear();
      core::append_base64(scratch, text);
      return string_value(scratch);
    }
    case Conversion::kCategoryOrDetail:
      if (!text.empty()) return string_value(text);
      return string_value(row.detail.value_or(std::string_view()));
    case Conversion::kScanExchangeTaxonomy:
      return string_value(is_exchange_webshell(text) ? "intrusions" : "vulnerable");
    case Conversion::kScanExchangeType:
      return string_value(is_exchange_webshell(text) ? "system-compromise" : "infected-system");
    case Conversion::kScanExchangeIdentifier:
      return string_value(is_exchange_webshell(text) ? "exchange-server-webshell" : "vulnerable-exchange-server");
  }
  return string_value(text);
}

}  // namespace klartext::formats::shadowserver
