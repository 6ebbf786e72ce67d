// Customer directory import: header-based CSV files and FreeRADIUS detail accounting records.
#include "customers/import.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/timestamp.hpp"
#include "customers/customer.hpp"
#include "store/store.hpp"

namespace klartext::customers {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Concatenation without operator+ chains (GCC 12 reports a false -Wrestrict on some of them).
std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) out.append(p);
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    auto t = trim(cur);
    if (!t.empty()) out.emplace_back(t);
    cur.clear();
  };
  for (char c : s) {
    if (c == ';' || c == ',' || c == ' ' || c == '\t') {
      flush();
    } else {
      cur.push_back(c);
    }
  }
  flush();
  return out;
}

// Reports issues with the input name filled in and counts them.
struct Reporter {
  std::string_view input;
  const IssueFn& fn;
  ImportStats& stats;
  void operator()(std::string code, std::uint64_t line, std::uint64_t offset, std::string reason,
                  std::string_view excerpt = {}, std::string hint = {}) const {
    formats::ParseIssue i;
    i.code = std::move(code);
    i.input = std::string(input);
    i.line = line;
    i.byte_offset = offset;
    i.reason = std::move(reason);
    i.excerpt = formats::make_excerpt(excerpt, 200);
    i.hint = std::move(hint);
    ++stats.issues;
    if (fn) fn(i);
  }
};

// A minimal RFC 4180 reader: quoted fields with "" escapes and embedded newlines, CRLF, UTF-8 BOM.
class CsvReader {
 public:
  explicit CsvReader(std::string_view data) : data_(data) {
    if (data_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
  }
  // Next non-empty record; false at the end. `line` is the 1-based line it starts on.
  bool next(std::vector<std::string>& fields, std::uint64_t& line, std::uint64_t& offset, std::string_view& text) {
    for (;;) {
      if (pos_ >= data_.size()) return false;
      fields.clear();
      line = line_;
      offset = pos_;
      std::string cur;
      bool quoted = false, any = false;
      std::size_t start = pos_;
      while (pos_ < data_.size()) {
        char c = data_[pos_++];
        if (quoted) {
          if (c == '"') {
            if (pos_ < data_.size() && data_[pos_] == '"') {
              cur.push_back('"');
              ++pos_;
            } else {
              quoted = false;
            }
          } else {
            if (c == '\n') ++line_;
            cur.push_back(c);
          }
        } else if (c == '"') {
          quoted = true;
          any = true;
        } else if (c == ',') {
          fields.push_back(std::move(cur));
          cur.clear();
          any = true;
        } else if (c == '\n') {
          ++line_;
          break;
        } else if (c != '\r') {
          cur.push_back(c);
          any = true;
        }
      }
      text = data_.substr(start, pos_ - start);
      if (!any && cur.empty()) continue;  // blank line
      fields.push_back(std::move(cur));
      if (!fields.empty() && trim(fields[0]).starts_with("#") && fields.size() >= 1 && line > 1) continue;
      return true;
    }
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
  std::uint64_t line_ = 1;
};

// Header-driven row access: columns by name, case-insensitive; unknown columns are reported once.
struct CsvTable {
  std::map<std::string, std::size_t> columns;
  bool read_header(CsvReader& r, const std::vector<std::string_view>& known,
                   const std::vector<std::string_view>& required, const Reporter& report) {
    std::vector<std::string> fields;
    std::uint64_t line = 0, offset = 0;
    std::string_view text;
    if (!r.next(fields, line, offset, text)) {
      report("csv-empty", 0, 0, "the file has no header line", {}, "see docs/customers.md for the columns");
      return false;
    }
    for (std::size_t i = 0; i < fields.size(); ++i) {
      auto name = lower(trim(fields[i]));
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        report("csv-unknown-column", line, offset, "column '" + name + "' is not known and is ignored", text,
               "see docs/customers.md for the columns");
        continue;
      }
      columns[name] = i;
    }
    bool ok = true;
    for (auto req : required) {
      if (!columns.contains(std::string(req))) {
        report("csv-missing-column", line, offset, "required column '" + std::string(req) + "' is missing", text,
               "see docs/customers.md for the columns");
        ok = false;
      }
    }
    return ok;
  }
  std::string_view get(const std::vector<std::string>& row, std::string_view name) const {
    auto it = columns.find(std::string(name));
    if (it == columns.end() || it->second >= row.size()) return {};
    return trim(row[it->second]);
  }
};

std::optional<std::optional<core::Timestamp>> parse_opt_time(std::string_view s) {
  if (s.empty()) return std::optional<core::Timestamp>{};
  auto t = core::Timestamp::parse(s);
  if (!t) return std::nullopt;
  return std::optional<core::Timestamp>(*t);
}

bool plausible_email(std::string_view e) {
  auto at = e.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < e.size() && e.find('@', at + 1) == std::string_view::npos &&
         e.find_first_of(" <>\"") == std::string_view::npos;
}

bool known_time_zone(const std::string& tz) {
  if (tz == "UTC") return true;
  if (tz.find("..") != std::string::npos || tz.starts_with("/")) return false;
  std::error_code ec;
  if (!std::filesystem::is_directory("/usr/share/zoneinfo", ec)) return true;  // cannot check here
  return std::filesystem::is_regular_file("/usr/share/zoneinfo/" + tz, ec);
}

// Parses a prefix and reports host bits; nullopt after reporting.
std::optional<core::IpPrefix> parse_prefix(std::string_view text, const char* code, const Reporter& report,
                                           std::uint64_t line, std::uint64_t offset, std::string_view row) {
  auto p = core::IpPrefix::parse(text);
  if (!p) {
    report(code, line, offset, cat({"'", text, "' is not an IP address or prefix"}), row,
           "write 198.51.100.0/28, 2001:db8::/48 or a single address");
    return std::nullopt;
  }
  auto slash = text.find('/');
  auto addr = core::IpAddress::parse(text.substr(0, slash));
  if (addr && *addr != p->network()) {
    report("prefix-host-bits", line, offset,
           "prefix '" + std::string(text) + "' has host bits set; using " + p->to_string(), row,
           "write the network address");
  }
  return p;
}

class CustomerResolver {
 public:
  explicit CustomerResolver(store::Store& store) {
    for (const auto& c : store.list_customers()) {
      ids_.emplace(lower(c.id), c.id);
      for (const auto& a : c.accounts) ids_.emplace(lower(a), c.id);
    }
  }
  bool has(std::string_view id) const { return ids_.contains(lower(id)); }
  // By customer id or account name, case-insensitive; for "user@realm" also the part before '@'.
  std::optional<std::string> resolve(std::string_view name) const {
    if (name.empty()) return std::nullopt;
    if (auto it = ids_.find(lower(name)); it != ids_.end()) return it->second;
    auto at = name.find('@');
    if (at != std::string_view::npos && at > 0) {
      if (auto it = ids_.find(lower(name.substr(0, at))); it != ids_.end()) return it->second;
    }
    return std::nullopt;
  }

 private:
  std::unordered_map<std::string, std::string> ids_;
};

}  // namespace

ImportStats import_customers_csv(store::Store& store, std::string_view data, std::string_view input,
                                 const IssueFn& on_issue) {
  ImportStats stats;
  Reporter report{input, on_issue, stats};
  CsvReader reader(data);
  CsvTable table;
  if (!table.read_header(reader, {"id", "name", "emails", "language", "time_zone", "accounts"}, {"id", "name"},
                         report)) {
    return stats;
  }
  std::vector<std::string> row;
  std::uint64_t line = 0, offset = 0;
  std::string_view text;
  while (reader.next(row, line, offset, text)) {
    ++stats.records;
    Customer c;
    c.id = std::string(table.get(row, "id"));
    c.name = std::string(table.get(row, "name"));
    if (c.id.empty()) {
      report("customer-missing-id", line, offset, "row has no customer id", text);
      continue;
    }
    if (c.name.empty()) {
      report("customer-missing-name", line, offset, "customer " + c.id + " has no name", text);
      continue;
    }
    for (auto& e : split_list(table.get(row, "emails"))) {
      if (plausible_email(e)) {
        c.emails.push_back(e);
      } else {
        report("customer-bad-email", line, offset, cat({"'", e, "' is not an e-mail address; left out"}), text);
      }
    }
    if (c.emails.empty()) {
      report("customer-no-email", line, offset, "customer " + c.id + " has no contact address (letters cannot be sent)",
             text, "add addresses to the emails column, separated by ';'");
    }
    c.language = lower(table.get(row, "language"));
    if (!c.language.empty() && c.language != "de" && c.language != "en") {
      report("customer-bad-language", line, offset,
             "language '" + c.language + "' is not supported (de, en); the configured default is used", text);
      c.language.clear();
    }
    c.time_zone = std::string(table.get(row, "time_zone"));
    if (!c.time_zone.empty() && !known_time_zone(c.time_zone)) {
      report("customer-bad-time-zone", line, offset,
             "time zone '" + c.time_zone + "' is unknown; the configured default is used", text,
             "use an IANA name such as Europe/Berlin");
      c.time_zone.clear();
    }
    c.accounts = split_list(table.get(row, "accounts"));
    store.upsert_customer(c);
    ++stats.added;
  }
  return stats;
}

ImportStats import_assignments_csv(store::Store& store, std::string_view data, std::string_view input,
                                   const IssueFn& on_issue) {
  ImportStats stats;
  Reporter report{input, on_issue, stats};
  CsvReader reader(data);
  CsvTable table;
  if (!table.read_header(reader, {"customer", "prefix", "valid_from", "valid_to"}, {"customer", "prefix"}, report)) {
    return stats;
  }
  CustomerResolver customers(store);
  std::vector<std::string> row;
  std::uint64_t line = 0, offset = 0;
  std::string_view text;
  while (reader.next(row, line, offset, text)) {
    ++stats.records;
    StaticAssignment a;
    a.customer_id = std::string(table.get(row, "customer"));
    if (!customers.has(a.customer_id)) {
      report("assignment-unknown-customer", line, offset, "customer '" + a.customer_id + "' is not known", text,
             "import the customers file first (or in the same run)");
      continue;
    }
    auto p = parse_prefix(table.get(row, "prefix"), "assignment-bad-prefix", report, line, offset, text);
    if (!p) continue;
    a.prefix = *p;
    auto from = parse_opt_time(table.get(row, "valid_from"));
    auto to = parse_opt_time(table.get(row, "valid_to"));
    if (!from || !to) {
      report("assignment-bad-time", line, offset, "valid_from/valid_to is not a date or time", text,
             "write 2026-01-01 or 2026-01-01T00:00:00Z, or leave empty");
      continue;
    }
    a.valid_from = *from;
    a.valid_to = *to;
    if (a.valid_from && a.valid_to && *a.valid_to <= *a.valid_from) {
      report("assignment-empty-interval", line, offset, "valid_to is not after valid_from", text);
      continue;
    }
    if (store.add_assignment(a)) ++stats.added;
  }
  return stats;
}

ImportStats import_sessions_csv(store::Store& store, std::string_view data, std::string_view input,
                                const IssueFn& on_issue) {
  ImportStats stats;
  Reporter report{input, on_issue, stats};
  CsvReader reader(data);
  CsvTable table;
  if (!table.read_header(reader, {"customer", "address", "port_from", "port_to", "start", "stop", "session_id"},
                         {"customer", "address", "start"}, report)) {
    return stats;
  }
  CustomerResolver customers(store);
  std::vector<std::string> row;
  std::uint64_t line = 0, offset = 0;
  std::string_view text;
  std::string source_prefix = "csv:" + std::string(input) + ":";
  while (reader.next(row, line, offset, text)) {
    ++stats.records;
    Session s;
    auto who = customers.resolve(table.get(row, "customer"));
    if (!who) {
      report("session-unknown-customer", line, offset,
             "customer '" + std::string(table.get(row, "customer")) + "' is not known", text,
             "import the customers file first (or in the same run)");
      continue;
    }
    s.customer_id = *who;
    auto p = parse_prefix(table.get(row, "address"), "session-bad-address", report, line, offset, text);
    if (!p) continue;
    s.prefix = *p;
    auto start = core::Timestamp::parse(table.get(row, "start"));
    auto stop = parse_opt_time(table.get(row, "stop"));
    if (!start || !stop) {
      report("session-bad-time", line, offset, "start or stop is not a time", text,
             "write 2026-11-27T12:03:00Z; leave stop empty for an open session");
      continue;
    }
    s.start = *start;
    s.stop = *stop;
    if (s.stop && *s.stop < s.start) {
      report("session-stop-before-start", line, offset, "stop is before start", text);
      continue;
    }
    auto pf = table.get(row, "port_from"), pt = table.get(row, "port_to");
    if (!pf.empty() || !pt.empty()) {
      auto num = [](std::string_view v) -> std::optional<std::uint16_t> {
        if (v.empty() || v.size() > 5) return std::nullopt;
        unsigned n = 0;
        for (char c : v) {
          if (c < '0' || c > '9') return std::nullopt;
          n = n * 10 + static_cast<unsigned>(c - '0');
        }
        if (n > 65535) return std::nullopt;
        return static_cast<std::uint16_t>(n);
      };
      auto a = num(pf), b = num(pt);
      if (!a || !b || *b < *a) {
        report("session-bad-ports", line, offset, "port_from/port_to must both be ports 0-65535, from <= to", text);
        continue;
      }
      s.port_from = a;
      s.port_to = b;
    }
    s.session_key = std::string(table.get(row, "session_id"));
    s.source = source_prefix + std::to_string(line);
    if (store.upsert_session(s)) ++stats.added;
  }
  return stats;
}

// ---- FreeRADIUS detail ----
namespace {

constexpr std::array<std::string_view, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                      "jul", "aug", "sep", "oct", "nov", "dec"};

int month_index(std::string_view m) {
  auto l = lower(m);
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (l == kMonths[i]) return static_cast<int>(i) + 1;
  }
  return 0;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<core::Timestamp> from_parts(int year, int month, int day, std::string_view hms) {
  if (month == 0 || day < 1 || day > 31 || hms.size() != 8 || hms[2] != ':' || hms[5] != ':') return std::nullopt;
  auto two = [&](std::size_t i) { return (hms[i] - '0') * 10 + (hms[i + 1] - '0'); };
  if (!all_digits(hms.substr(0, 2)) || !all_digits(hms.substr(3, 2)) || !all_digits(hms.substr(6, 2))) {
    return std::nullopt;
  }
  int h = two(0), mi = two(3), se = two(6);
  if (h > 23 || mi > 59 || se > 60) return std::nullopt;
  auto days = core::days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return core::Timestamp::from_seconds(days * 86400 + h * 3600 + mi * 60 + se);
}

// Event-Timestamp as FreeRADIUS writes it ("Nov 27 2026 12:03:11 UTC", also CET/CEST offsets are
// not guessed: only UTC/GMT or a numeric offset are accepted) or as epoch seconds.
std::optional<core::Timestamp> parse_radius_time(std::string_view v) {
  v = trim(v);
  if (all_digits(v)) return core::Timestamp::from_seconds(std::stoll(std::string(v)));
  auto w = words(v);
  if (w.size() == 4 || w.size() == 5) {
    int month = month_index(w[0]);
    if (!all_digits(w[1]) || !all_digits(w[2])) return std::nullopt;
    auto t = from_parts(std::stoi(std::string(w[2])), month, std::stoi(std::string(w[1])), w[3]);
    if (!t) return std::nullopt;
    if (w.size() == 4) return std::nullopt;  // no zone: local time of the RADIUS server, unknown here
    auto z = w[4];
    if (z == "UTC" || z == "GMT" || z == "+0000" || z == "Z") return t;
    if (z.size() == 5 && (z[0] == '+' || z[0] == '-') && all_digits(z.substr(1))) {
      int off = std::stoi(std::string(z.substr(1, 2))) * 3600 + std::stoi(std::string(z.substr(3, 2))) * 60;
      return core::Timestamp::from_seconds(t->seconds() - (z[0] == '+' ? off : -off));
    }
    return std::nullopt;
  }
  return core::Timestamp::parse(v);
}

std::string unquote(std::string_view v) {
  v = trim(v);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) ++i;
    out.push_back(v[i]);
  }
  return out;
}

// Class is an octet string: FreeRADIUS prints it as 0x... hex unless it is printable.
std::string decode_class(std::string_view v) {
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X') && v.size() % 2 == 0) {
    std::string out;
    for (std::size_t i = 2; i + 1 < v.size(); i += 2) {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
      };
      int a = hex(v[i]), b = hex(v[i + 1]);
      if (a < 0 || b < 0) return std::string(v);
      out.push_back(static_cast<char>(a * 16 + b));
    }
    return out;
  }
  return std::string(v);
}

struct Record {
  std::uint64_t line = 0, offset = 0;
  std::string_view text;
  std::string_view header;
  std::map<std::string, std::string> attrs;  // lower-case name -> unquoted value (last wins)
  std::string get(std::string_view name) const {
    auto it = attrs.find(std::string(name));
    return it == attrs.end() ? std::string() : it->second;
  }
};

}  // namespace

ImportStats import_radius_detail(store::Store& store, std::string_view data, std::string_view input,
                                 const IssueFn& on_issue) {
  ImportStats stats;
  Reporter report{input, on_issue, stats};
  CustomerResolver customers(store);

  auto handle = [&](const Record& r) {
    ++stats.records;
    auto status = lower(r.get("acct-status-type"));
    if (status.empty()) {
      report("radius-missing-status", r.line, r.offset, "record has no Acct-Status-Type", r.text,
             "only accounting records (Start, Stop, Interim-Update) are read");
      return;
    }
    if (status == "accounting-on" || status == "accounting-off") {
      report("radius-nas-restart", r.line, r.offset,
             "NAS " + r.get("nas-ip-address") + " sent " + status + "; its open sessions are not closed automatically",
             r.text, "check the sessions of this NAS");
      return;
    }
    if (status != "start" && status != "stop" && status != "interim-update" && status != "alive") {
      report("radius-unknown-status", r.line, r.offset, "Acct-Status-Type '" + status + "' is not handled", r.text);
      return;
    }
    // Who: Class (set by the ISP's RADIUS from its customer database) beats User-Name.
    std::optional<std::string> who;
    std::string cls = decode_class(r.get("class"));
    if (!cls.empty()) who = customers.resolve(cls);
    std::string user = r.get("user-name");
    if (!who) who = customers.resolve(user);
    if (!who) {
      report("radius-unknown-user", r.line, r.offset,
             "neither Class '" + cls + "' nor User-Name '" + user + "' is a known customer or account", r.text,
             "add the account to the customer's accounts column");
      return;
    }
    // When: Event-Timestamp, else the detail writer's Timestamp.
    std::optional<core::Timestamp> when;
    for (auto name : {"event-timestamp", "timestamp"}) {
      auto v = r.get(name);
      if (v.empty()) continue;
      when = parse_radius_time(v);
      if (!when) {
        report("radius-bad-time", r.line, r.offset, std::string(name) + " '" + v + "' is not a time with a zone",
               r.text, "FreeRADIUS writes \"Nov 27 2026 12:03:11 UTC\" or epoch seconds");
        return;
      }
      break;
    }
    if (!when) {
      report("radius-missing-time", r.line, r.offset, "record has neither Event-Timestamp nor Timestamp", r.text);
      return;
    }
    std::optional<std::int64_t> session_time;
    if (auto v = r.get("acct-session-time"); !v.empty()) {
      if (!all_digits(v) || v.size() > 12) {
        report("radius-bad-session-time", r.line, r.offset, "Acct-Session-Time '" + v + "' is not a number", r.text);
        return;
      }
      session_time = std::stoll(v);
    }
    auto sid = r.get("acct-session-id");
    if (sid.empty()) {
      report("radius-missing-session-id", r.line, r.offset,
             "record has no Acct-Session-Id; Start and Stop cannot be paired", r.text);
      return;
    }
    std::string nas = r.get("nas-ip-address");
    if (nas.empty()) nas = r.get("nas-identifier");
    std::string key = sid + "@" + nas;

    std::vector<std::pair<core::IpPrefix, std::string>> addrs;
    auto add_addr = [&](const char* attr, const char* suffix, bool prefix_expected) {
      auto v = r.get(attr);
      if (v.empty()) return true;
      auto p = core::IpPrefix::parse(v);
      if (!p || (!prefix_expected && v.find('/') != std::string::npos)) {
        report("radius-bad-address", r.line, r.offset, std::string(attr) + " '" + v + "' is not valid", r.text);
        return false;
      }
      addrs.emplace_back(*p, key + suffix);
      return true;
    };
    if (!add_addr("framed-ip-address", "#ip", false) || !add_addr("delegated-ipv6-prefix", "#pd", true) ||
        !add_addr("framed-ipv6-prefix", "#v6", true) || !add_addr("framed-ipv6-address", "#v6a", false)) {
      return;
    }
    if (addrs.empty()) {
      report("radius-missing-address", r.line, r.offset,
             "record has no Framed-IP-Address, Delegated-IPv6-Prefix or Framed-IPv6-Prefix", r.text);
      return;
    }
    for (const auto& [prefix, k] : addrs) {
      Session s;
      s.customer_id = *who;
      s.prefix = prefix;
      s.session_key = k;
      s.source = "radius:" + std::string(input) + ":" + std::to_string(r.line);
      if (status == "start") {
        s.start = *when;
      } else {
        s.start = session_time ? core::Timestamp::from_seconds(when->seconds() - *session_time) : *when;
        if (status == "stop") s.stop = *when;
      }
      if (store.upsert_session(s)) ++stats.added;
    }
  };

  // Records: a header line at column 0 (the date), attribute lines indented, blank line between.
  Record cur;
  bool in_record = false;
  std::size_t pos = 0;
  std::uint64_t line_no = 0;
  std::size_t rec_start = 0;
  auto finish = [&](std::size_t end) {
    if (!in_record) return;
    cur.text = data.substr(rec_start, end - rec_start);
    handle(cur);
    cur = Record{};
    in_record = false;
  };
  while (pos < data.size()) {
    std::size_t nl = data.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? data.size() : nl;
    std::string_view line = data.substr(pos, end - pos);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty()) {
      finish(pos);
    } else if (line[0] != ' ' && line[0] != '\t') {
      finish(pos);
      in_record = true;
      rec_start = pos;
      cur.line = line_no;
      cur.offset = pos;
      cur.header = line;
    } else if (!in_record) {
      report("radius-bad-line", line_no, pos, "attribute line outside a record (no date line before it)", line);
    } else {
      auto body = trim(line);
      auto eq = body.find(" = ");
      if (eq == std::string_view::npos) {
        report("radius-bad-line", line_no, pos, "line is not 'Attribute = value'", line);
      } else {
        cur.attrs[lower(trim(body.substr(0, eq)))] = unquote(body.substr(eq + 3));
      }
    }
    pos = nl == std::string_view::npos ? data.size() : nl + 1;
  }
  finish(data.size());
  return stats;
}

}  // namespace klartext::customers
