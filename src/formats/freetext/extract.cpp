// Hand-written scanners for free text (no regex: bodies can be megabytes and lines hostile).
#include "formats/freetext/extract.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <functional>
#include <map>

namespace klartext::formats::freetext {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_alnum(char c) {
  return is_digit(c) || is_alpha(c);
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
constexpr char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool istarts_with(std::string_view s, std::size_t at, std::string_view prefix) {
  return at + prefix.size() <= s.size() && iequals(s.substr(at, prefix.size()), prefix);
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

// Defanging tokens and what they stand for; longest first where they share a prefix.
struct Fang {
  std::string_view from;
  std::string_view to;
};
constexpr std::array<Fang, 16> kFangs = {{
    {"[://]", "://"},
    {"[:]//", "://"},
    {"[.]", "."},
    {"(.)", "."},
    {"{.}", "."},
    {"[dot]", "."},
    {"(dot)", "."},
    {"{dot}", "."},
    {"[:]", ":"},
    {"hxxps", "https"},
    {"hxxp", "http"},
    {"hxxps", "https"},
    {"h**ps", "https"},
    {"h**p", "http"},
    {"fxp://", "ftp://"},
    {"[/]", "/"},
}};

// ---- time -------------------------------------------------------------------------------------

struct Cursor {
  std::string_view s;
  std::size_t i = 0;
  bool done() const { return i >= s.size(); }
  char peek(std::size_t ahead = 0) const { return i + ahead < s.size() ? s[i + ahead] : '\0'; }
  // 1..max digits.
  bool number(int min_digits, int max_digits, int& out) {
    int n = 0, v = 0;
    while (n < max_digits && is_digit(peek())) {
      v = v * 10 + (s[i] - '0');
      ++i;
      ++n;
    }
    if (n < min_digits || is_digit(peek())) return false;
    out = v;
    return true;
  }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i;
    return true;
  }
  std::size_t skip_spaces() {
    std::size_t n = 0;
    while (peek() == ' ' || peek() == '\t') {
      ++i;
      ++n;
    }
    return n;
  }
  std::string_view word() {
    std::size_t b = i;
    while (is_alpha(peek())) ++i;
    return s.substr(b, i - b);
  }
};

constexpr std::array<std::string_view, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                      "jul", "aug", "sep", "oct", "nov", "dec"};

// Month from an English (or German/French/Dutch abbreviated) name; 0 if none.
int month_of(std::string_view w) {
  if (w.size() < 3 || w.size() > 9) return 0;
  char buf[9];  // lowercase copy without allocation (called for every word of every line)
  for (std::size_t i = 0; i < w.size(); ++i) buf[i] = lower(w[i]);
  std::string_view l(buf, w.size());
  for (std::size_t m = 0; m < kMonths.size(); ++m) {
    if (l.substr(0, 3) == kMonths[m]) {
      static constexpr std::array<std::string_view, 12> kFull = {"january",   "february", "march",    "april",
                                                                 "may",       "june",     "july",     "august",
                                                                 "september", "october",  "november", "december"};
      if (l.size() == 3 || l == kFull[m] || (l == "sept" && m == 8)) return static_cast<int>(m) + 1;
    }
  }
  static constexpr std::array<std::pair<std::string_view, int>, 8> kOther = {
      {{"mai", 5}, {"okt", 10}, {"dez", 12}, {"mrz", 3}, {"mär", 3}, {"maerz", 3}, {"juni", 6}, {"juli", 7}}};
  for (const auto& [name, m] : kOther) {
    if (l == name) return m;
  }
  return 0;
}

constexpr unsigned kDaysInMonth[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

bool valid_date(int y, int m, int d) {
  if (y < 1990 || y > 2100 || m < 1 || m > 12 || d < 1) return false;
  if (d > static_cast<int>(kDaysInMonth[m - 1])) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return !(m == 2 && d == 29 && !leap);
}

struct Clock {
  int h = 0, m = 0, s = 0;
  std::int64_t frac_us = 0;
};

// H:MM[:SS][.frac] [AM|PM]
bool parse_clock(Cursor& c, Clock& out) {
  if (!c.number(1, 2, out.h) || !c.eat(':') || !c.number(2, 2, out.m)) return false;
  if (c.peek() == ':' && is_digit(c.peek(1))) {
    c.eat(':');
    if (!c.number(2, 2, out.s)) return false;
    if ((c.peek() == '.' || c.peek() == ',') && is_digit(c.peek(1))) {
      ++c.i;
      std::int64_t scale = 100000;
      while (is_digit(c.peek())) {
        if (scale > 0) out.frac_us += (c.peek() - '0') * scale;
        scale /= 10;
        ++c.i;
      }
    }
  }
  std::size_t save = c.i;
  c.skip_spaces();
  std::string_view w = c.word();
  if (iequals(w, "am") || iequals(w, "pm")) {
    if (out.h < 1 || out.h > 12) return false;
    if (iequals(w, "am") && out.h == 12) out.h = 0;
    if (iequals(w, "pm") && out.h != 12) out.h += 12;
  } else {
    c.i = save;
  }
  return out.h <= 23 && out.m <= 59 && out.s <= 60;
}

// +hh:mm, +hhmm, +hh, +h after a sign; returns minutes east.
bool parse_numeric_offset(Cursor& c, int& out) {
  char sign = c.peek();
  if (sign != '+' && sign != '-') return false;
  std::size_t save = c.i;
  ++c.i;
  c.skip_spaces();
  int hh = 0, mm = 0;
  std::size_t start = c.i;
  while (is_digit(c.peek()) && c.i - start < 4) ++c.i;
  std::size_t n = c.i - start;
  if (n == 0 || is_digit(c.peek())) {
    c.i = save;
    return false;
  }
  std::string_view d = c.s.substr(start, n);
  if (n <= 2) {
    hh = std::stoi(std::string(d));
    if (c.peek() == ':' && is_digit(c.peek(1)) && is_digit(c.peek(2))) {
      mm = (c.peek(1) - '0') * 10 + (c.peek(2) - '0');
      c.i += 3;
    }
  } else if (n == 4) {
    hh = (d[0] - '0') * 10 + (d[1] - '0');
    mm = (d[2] - '0') * 10 + (d[3] - '0');
  } else {
    c.i = save;
    return false;
  }
  if (hh > 14 || mm > 59) {
    c.i = save;
    return false;
  }
  out = (sign == '-' ? -1 : 1) * (hh * 60 + mm);
  return true;
}

// A zone after a time: Z, +hh:mm, UTC, GMT+8, (CET), CEST. nullopt if none.
std::optional<int> parse_zone(Cursor& c) {
  std::size_t save = c.i;
  c.skip_spaces();
  if ((c.peek() == 'Z' || c.peek() == 'z') && !is_alnum(c.peek(1))) {
    ++c.i;
    return 0;
  }
  int off = 0;
  if (parse_numeric_offset(c, off)) {
    // "+0100 (CET)" carries a comment we skip.
    std::size_t after = c.i;
    c.skip_spaces();
    if (c.eat('(')) {
      c.word();
      if (!c.eat(')')) c.i = after;
    } else {
      c.i = after;
    }
    return off;
  }
  bool paren = c.eat('(');
  std::string_view w = c.word();
  if (iequals(w, "uhr") || iequals(w, "h") ||
      (paren && (iequals(w, "heure") || iequals(w, "hora") || iequals(w, "ora") || iequals(w, "uur") ||
                 iequals(w, "time") || iequals(w, "zone")))) {
    c.skip_spaces();
    w = c.word();
    if (w.empty()) {
      c.i = save;
      return std::nullopt;
    }
  }
  if (!w.empty() && w.size() <= 5) {
    if (iequals(w, "utc") || iequals(w, "gmt") || iequals(w, "z")) {
      std::size_t after = c.i;
      int extra = 0;
      if (c.peek() == ' ' && (c.peek(1) == '+' || c.peek(1) == '-')) ++c.i;  // "GMT +8"
      if (parse_numeric_offset(c, extra)) {
        off = extra;
      } else {
        c.i = after;
        off = 0;
      }
      if (paren) c.eat(')');
      return off;
    }
    if (auto z = zone_offset(w)) {
      if (paren) c.eat(')');
      return *z;
    }
  }
  c.i = save;
  return std::nullopt;
}

struct DateParts {
  int y = 0, mo = 0, d = 0;
};

std::optional<FoundTime> finish(Cursor& c, DateParts date, std::optional<int> default_offset) {
  // Separator between date and time: 'T', spaces, ", ", " at ", ":" (apache), "um", "à".
  std::size_t save = c.i;
  if (c.peek() == 'T' && is_digit(c.peek(1))) {
    ++c.i;
  } else if (c.peek() == ':' && is_digit(c.peek(1))) {
    ++c.i;
  } else {
    c.eat(',');
    if (c.skip_spaces() == 0 && c.i == save) return std::nullopt;
    std::size_t w0 = c.i;
    std::string_view w = c.word();
    if (iequals(w, "at") || iequals(w, "um") || iequals(w, "a") || iequals(w, "om") || iequals(w, "alle")) {
      c.skip_spaces();
    } else {
      c.i = w0;
    }
  }
  Clock clk;
  if (!parse_clock(c, clk)) return std::nullopt;
  std::optional<int> zone = parse_zone(c);
  // ctime style puts the year last: "Sat Nov 28 10:02:01 [UTC] 2026".
  if (date.y == 0) {
    std::size_t keep = c.i;
    c.skip_spaces();
    int y = 0;
    if (c.number(4, 4, y) && y >= 1990 && y <= 2100) {
      date.y = y;
    } else {
      c.i = keep;
    }
  }
  if (date.y == 0) return std::nullopt;  // caller completes syslog years
  if (!valid_date(date.y, date.mo, date.d)) return std::nullopt;
  FoundTime ft;
  int off = 0;
  if (zone) {
    off = *zone;
    ft.zone_known = true;
  } else if (default_offset) {
    off = *default_offset;
    ft.zone_known = true;
  }
  std::int64_t days = core::days_from_civil(date.y, static_cast<unsigned>(date.mo), static_cast<unsigned>(date.d));
  std::int64_t secs = days * 86400 + clk.h * 3600 + clk.m * 60 + clk.s - off * 60;
  ft.time = core::Timestamp::from_micros(secs * 1'000'000 + clk.frac_us);
  return ft;
}

int year_of(core::Timestamp t) {
  std::int64_t days = t.seconds() / 86400;
  // civil_from_days (Hinnant), year only.
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
}

// Syslog dates have no year: take the mail's year, or the year before if that lands in the future.
std::optional<FoundTime> with_year(Cursor& c, DateParts date, std::optional<core::Timestamp> sent,
                                   std::optional<int> default_offset) {
  std::size_t save = c.i;
  auto t = finish(c, date, default_offset);
  if (t || date.y != 0) return t;
  c.i = save;
  core::Timestamp ref = sent ? *sent : core::Timestamp::now();
  date.y = year_of(ref);
  auto ft = finish(c, date, default_offset);
  if (ft && ft->time.seconds() > ref.seconds() + 2 * 86400) {
    c.i = save;
    date.y -= 1;
    ft = finish(c, date, default_offset);
  }
  return ft;
}

std::optional<FoundTime> time_at(std::string_view s, std::size_t p, std::optional<core::Timestamp> sent,
                                 std::optional<int> default_offset) {
  Cursor c{s, p};
  if (is_digit(s[p])) {
    int a = 0;
    if (!c.number(1, 4, a)) return std::nullopt;
    std::size_t na = c.i - p;
    char sep = c.peek();
    if (na == 4 && (sep == '-' || sep == '/' || sep == '.')) {
      // 2026-11-28
      ++c.i;
      int mo = 0, d = 0;
      if (!c.number(1, 2, mo) || !c.eat(sep) || !c.number(1, 2, d)) return std::nullopt;
      return finish(c, {a, mo, d}, default_offset);
    }
    if (na <= 2 && (sep == '.' || sep == '/' || sep == '-')) {
      ++c.i;
      if (is_alpha(c.peek())) {
        // 28/Nov/2026:10:02:01 +0100 (access logs), 28-Nov-2026 10:02
        int mo = month_of(c.word());
        int y = 0;
        if (mo == 0 || !c.eat(sep) || !c.number(4, 4, y)) return std::nullopt;
        return finish(c, {y, mo, a}, default_offset);
      }
      int b = 0, y = 0;
      if (!c.number(1, 2, b) || !c.eat(sep) || !c.number(4, 4, y)) return std::nullopt;
      if (sep == '.') return finish(c, {y, b, a}, default_offset);  // 28.11.2026: day first
      if (a > 12 && b <= 12) return finish(c, {y, b, a}, default_offset);
      if (b > 12 && a <= 12) return finish(c, {y, a, b}, default_offset);
      if (a == b) return finish(c, {y, a, b}, default_offset);
      return std::nullopt;  // 03/04/2026: day and month order unknown; better no time than a wrong one
    }
    if (na <= 2 && (sep == ' ' || sep == '-')) {
      // RFC 2822 "28 Nov 2026 10:02:01 +0100", "28 November 2026 10:02"
      c.skip_spaces();
      c.eat('-');
      int mo = month_of(c.word());
      if (mo == 0) return std::nullopt;
      c.eat('.');
      c.skip_spaces();
      c.eat('-');
      int y = 0;
      if (!c.number(4, 4, y)) return std::nullopt;
      return finish(c, {y, mo, a}, default_offset);
    }
    return std::nullopt;
  }
  // Month first: "Nov 28 10:02:01" (syslog), "Nov 28, 2026 10:02 AM", "Sat Nov 28 10:02:01 2026".
  std::string_view w = c.word();
  int mo = month_of(w);
  if (mo == 0) {
    static constexpr std::array<std::string_view, 7> kDays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    if (w.size() < 3) return std::nullopt;
    char d3[3] = {lower(w[0]), lower(w[1]), lower(w[2])};
    if (std::find(kDays.begin(), kDays.end(), std::string_view(d3, 3)) == kDays.end()) return std::nullopt;
    c.eat(',');
    c.skip_spaces();
    if (is_digit(c.peek())) return time_at(s, c.i, sent, default_offset);  // "Sat, 28 Nov 2026 ..."
    mo = month_of(c.word());
    if (mo == 0) return std::nullopt;
  }
  c.eat('.');
  if (c.skip_spaces() == 0) return std::nullopt;
  int d = 0;
  if (!c.number(1, 2, d)) return std::nullopt;
  c.eat(',');
  std::size_t save = c.i;
  c.skip_spaces();
  int y = 0;
  if (c.number(4, 4, y) && c.peek() != ':') return finish(c, {y, mo, d}, default_offset);
  c.i = save;
  return with_year(c, {0, mo, d}, sent, default_offset);
}

// ---- roles ------------------------------------------------------------------------------------

constexpr std::array<std::string_view, 20> kSourceWords = {
    "src", "source", "from",      "rhost",  "client", "attacker", "offender", "offending", "banned", "ban",
    "von", "abuser", "attacking", "origin", "remote", "sender",   "de",       "depuis",    "desde",  "vanaf"};
constexpr std::array<std::string_view, 14> kDestinationWords = {
    "dst",     "dest",    "destination", "to",  "target", "targeted", "victim",
    "towards", "against", "dport",       "auf", "dst_ip", "dest_ip",  "->"};

constexpr std::array<std::string_view, 7> kSourceHeaders = {
    "x-originating-ip", "x-sourceip", "x-source-ip", "x-originatingip", "client-ip", "x-sender-ip", "x-remote-ip"};

template <std::size_t N>
bool in_set(const std::array<std::string_view, N>& set, std::string_view w) {
  return std::find(set.begin(), set.end(), w) != set.end();
}

// The last two words before `end` (lowercase, punctuation trimmed); the nearer one first. Words
// further than a few characters of punctuation away do not belong to the address.
std::array<std::string, 2> words_before(std::string_view line, std::size_t end) {
  std::array<std::string, 2> out;
  std::size_t i = end;
  auto word_char = [](char c) { return is_alnum(c) || c == '_' || c == '-' || c == '>'; };
  for (std::size_t k = 0; k < out.size(); ++k) {
    std::size_t gap_start = i;
    while (i > 0 && !word_char(line[i - 1]) && gap_start - i < 8) --i;
    if (i > 0 && !word_char(line[i - 1])) break;  // too much punctuation in between
    std::size_t e = i;
    while (i > 0 && word_char(line[i - 1]) && e - i < 24) --i;
    out[k] = to_lower(line.substr(i, e - i));
  }
  return out;
}

constexpr std::array<std::string_view, 14> kOurWords = {"our",   "unseren", "unserem", "unser",    "unsere",
                                                        "notre", "nos",     "nuestro", "nuestros", "ons",
                                                        "onze",  "nostro",  "nosso",   "my"};
constexpr std::array<std::string_view, 14> kHostWords = {"server",   "servers", "host",    "hosts",         "ip",
                                                         "ips",      "network", "system",  "netzwerk",      "serveur",
                                                         "honeypot", "site",    "website", "infrastructure"};

Role role_from_words(const std::array<std::string, 2>& w) {
  if (in_set(kOurWords, w[1]) && in_set(kHostWords, w[0])) return Role::kDestination;
  if (in_set(kDestinationWords, w[0])) return Role::kDestination;
  if (in_set(kSourceWords, w[0]) || in_set(kSourceHeaders, w[0])) return Role::kSource;
  // "Destination IP: x", "Source address: x", "from host[x]"
  if (w[0] == "ip" || w[0] == "address" || w[0] == "addr" || w[0] == "host" || w[0] == "unknown" || w[0] == "port" ||
      w[0] == "adresse" || w[0] == "ipv4" || w[0] == "ipv6") {
    if (in_set(kDestinationWords, w[1])) return Role::kDestination;
    if (in_set(kSourceWords, w[1]) || w[1] == "your" || w[1] == "ihrer" || w[1] == "offending") return Role::kSource;
  }
  if (w[1] == "from" && !w[0].empty()) return Role::kSource;  // "connect from host.example[x]"
  return Role::kNeutral;
}

// Column roles of a delimited header line ("asn, ip, timestamp, dst_ip, dst_port").
struct TableHeader {
  char delim = 0;
  std::vector<Role> roles;
  std::size_t paragraph = 0;
};

char guess_delim(std::string_view line) {
  for (char d : {'\t', ';', '|', ','}) {
    if (std::count(line.begin(), line.end(), d) >= 2) return d;
  }
  return 0;
}

std::optional<TableHeader> table_header(std::string_view line, std::size_t paragraph) {
  char d = guess_delim(line);
  if (d == 0 || line.size() > 2000) return std::nullopt;
  TableHeader h{d, {}, paragraph};
  bool any = false;
  std::size_t b = 0;
  while (b <= line.size()) {
    std::size_t e = line.find(d, b);
    if (e == std::string_view::npos) e = line.size();
    std::string f = to_lower(line.substr(b, e - b));
    f.erase(std::remove_if(f.begin(), f.end(), [](char c) { return c == ' ' || c == '"' || c == '\''; }), f.end());
    if (f.size() > 32) return std::nullopt;
    for (char c : f) {
      if (is_digit(c)) return std::nullopt;  // a data row, not a header
    }
    Role r = Role::kNeutral;
    if (f.rfind("dst", 0) == 0 || f.rfind("dest", 0) == 0 || f.find("target") != std::string::npos ||
        f.find("victim") != std::string::npos) {
      r = Role::kDestination;
    } else if (f == "ip" || f.rfind("src", 0) == 0 || f.rfind("source", 0) == 0 || f == "ip_address" ||
               f == "ipaddress" || f == "attacker") {
      r = Role::kSource;
    }
    any = any || r != Role::kNeutral;
    h.roles.push_back(r);
    b = e + 1;
  }
  if (!any || h.roles.size() < 3) return std::nullopt;
  return h;
}

bool heading_says_destination(std::string_view line) {
  // Only a line ending in ':' is a heading: checked before the lowercase copy (every line comes here).
  std::size_t last = line.find_last_not_of(" \r\t");
  if (last == std::string_view::npos || line[last] != ':' || last + 1 > 160) return false;
  std::string l = to_lower(line);
  while (!l.empty() && (l.back() == ' ' || l.back() == '\r' || l.back() == '\t')) l.pop_back();
  if (l.empty() || l.back() != ':' || l.size() > 160) return false;
  // "Our server was flooded. The sources were:" introduces the reported hosts, not ours.
  for (std::string_view w : {"source", "sender", "from your", "in your network", "quelle", "absender", "aus ihrem"}) {
    if (l.find(w) != std::string::npos) return false;
  }
  for (std::string_view w : {"target", "victim", "destination", "our ip", "our server", "our network", "our host",
                             "attacked ip", "attacked host", "ziel", "unsere ip", "unser"}) {
    // Whole words only: "your network" is not "our network".
    for (std::size_t k = l.find(w); k != std::string::npos; k = l.find(w, k + 1)) {
      if (k == 0 || !is_alpha(l[k - 1])) return true;
    }
  }
  return false;
}

}  // namespace

// WHOIS output names networks and their holders, never the reported host.
bool is_registry_line(std::string_view line) {
  std::size_t p = line.find_first_not_of(" \t>");
  if (p == std::string_view::npos) return false;
  if (line[p] == '%') return true;
  std::size_t colon = line.find(':', p);
  if (colon == std::string_view::npos || colon - p > 16) return false;
  std::string key = to_lower(line.substr(p, colon - p));
  static constexpr std::array<std::string_view, 12> kKeys = {"inetnum", "inet6num", "netrange",  "cidr",
                                                             "route",   "route6",   "nethandle", "parent",
                                                             "netname", "descr",    "remarks",   "nserver"};
  return std::find(kKeys.begin(), kKeys.end(), key) != kKeys.end();
}

namespace {

std::optional<std::uint16_t> port_after(std::string_view line, std::size_t at, std::string_view keyword) {
  std::size_t k = 0;
  while ((k = line.find(keyword, k)) != std::string_view::npos) {
    std::size_t p = k + keyword.size();
    if (k > 0 && is_alnum(line[k - 1])) {
      k = p;
      continue;
    }
    if (p < at) {
      k = p;
      continue;
    }
    int v = 0, n = 0;
    while (p < line.size() && is_digit(line[p]) && n < 6) {
      v = v * 10 + (line[p] - '0');
      ++p;
      ++n;
    }
    if (n > 0 && n <= 5 && v <= 65535) return static_cast<std::uint16_t>(v);
    k = p;
  }
  return std::nullopt;
}

// "port 22" right after the address (sshd: the client's port).
std::optional<std::uint16_t> port_word_after(std::string_view line, std::size_t end) {
  std::size_t p = end;
  while (p < line.size() && (line[p] == ' ' || line[p] == ']' || line[p] == ',')) ++p;
  if (!istarts_with(line, p, "port")) return std::nullopt;
  p += 4;
  while (p < line.size() && (line[p] == ' ' || line[p] == ':')) ++p;
  int v = 0, n = 0;
  while (p < line.size() && is_digit(line[p]) && n < 6) {
    v = v * 10 + (line[p] - '0');
    ++p;
    ++n;
  }
  if (n == 0 || n > 5 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

}  // namespace

std::optional<int> zone_offset(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, int>, 34> kZones = {{
      {"UTC", 0},    {"GMT", 0},    {"UT", 0},     {"Z", 0},       {"WET", 0},     {"WEST", 60},  {"BST", 60},
      {"CET", 60},   {"CEST", 120}, {"MET", 60},   {"MEST", 120},  {"MEZ", 60},    {"MESZ", 120}, {"EET", 120},
      {"EEST", 180}, {"MSK", 180},  {"EST", -300}, {"EDT", -240},  {"CST", -360},  {"CDT", -300}, {"MST", -420},
      {"MDT", -360}, {"PST", -480}, {"PDT", -420}, {"AKST", -540}, {"AKDT", -480}, {"HST", -600}, {"JST", 540},
      {"KST", 540},  {"SGT", 480},  {"AEST", 600}, {"AEDT", 660},  {"NZST", 720},  {"NZDT", 780},
  }};
  for (const auto& [n, off] : kZones) {
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin())) return off;
  }
  return std::nullopt;
}

bool looks_defanged(std::string_view line) {
  // The bytes a defanging token can start with: one table lookup per byte of every line.
  static constexpr std::array<bool, 256> kStarts = [] {
    std::array<bool, 256> t{};
    for (unsigned char c : std::string_view("[({hHfF")) t[c] = true;
    return t;
  }();
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (!kStarts[static_cast<unsigned char>(line[i])]) continue;
    char c = lower(line[i]);
    // Every token starting with a letter continues with 'x' or '*' ("hxxp", "h**p", "fxp"): most
    // words with h or f end the check here.
    if ((c == 'h' || c == 'f') && (i + 1 >= line.size() || (lower(line[i + 1]) != 'x' && line[i + 1] != '*'))) {
      continue;
    }
    for (const Fang& f : kFangs) {
      if (lower(f.from[0]) == c && istarts_with(line, i, f.from)) return true;
    }
  }
  return false;
}

std::string refang(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (std::size_t i = 0; i < line.size();) {
    bool hit = false;
    char c = lower(line[i]);
    if (c == '[' || c == '(' || c == '{' || c == 'h' || c == 'f') {
      for (const Fang& f : kFangs) {
        if (istarts_with(line, i, f.from)) {
          out += f.to;
          i += f.from.size();
          hit = true;
          break;
        }
      }
    }
    if (!hit) out += line[i++];
  }
  return out;
}

std::vector<IpHit> find_ips(std::string_view t) {
  std::vector<IpHit> hits;
  // IPv6 first: runs of hex digits, colons and dots with at least two colons.
  std::vector<std::pair<std::size_t, std::size_t>> covered;
  // A line with fewer than two colons has no IPv6 candidate, one without digits no IPv4 address.
  std::size_t colon = t.find(':');
  bool two_colons = colon != std::string_view::npos && t.find(':', colon + 1) != std::string_view::npos;
  for (std::size_t i = 0; two_colons && i < t.size(); ++i) {
    if (!(is_hex(t[i]) || t[i] == ':')) continue;
    if (i > 0 && (is_alnum(t[i - 1]) || t[i - 1] == ':' || t[i - 1] == '.' || t[i - 1] == '_')) continue;
    std::size_t e = i;
    int colons = 0;
    while (e < t.size() && (is_hex(t[e]) || t[e] == ':' || t[e] == '.') && e - i < 60) {
      colons += t[e] == ':';
      ++e;
    }
    if (colons < 2) {
      i = e;
      continue;
    }
    std::size_t end = e;
    while (end > i && (t[end - 1] == '.' || (t[end - 1] == ':' && !(end >= i + 2 && t[end - 2] == ':')))) --end;
    if (end < t.size() && (is_alpha(t[end]) || t[end] == '_')) {
      i = e;
      continue;
    }
    std::string_view cand = t.substr(i, end - i);
    // At least one group of 3+ hex digits: rules out MAC addresses and clock times.
    bool long_group = false;
    std::size_t run = 0;
    for (char c : cand) {
      run = is_hex(c) ? run + 1 : 0;
      long_group = long_group || run >= 3;
    }
    auto ip = long_group ? core::IpAddress::parse(cand) : std::nullopt;
    if (ip && !ip->is_v4()) {
      IpHit h{*ip, i, end, std::nullopt};
      if (i > 0 && t[i - 1] == '[' && end + 2 < t.size() && t[end] == ']' && t[end + 1] == ':') {
        std::size_t p = end + 2;
        int v = 0, n = 0;
        while (p < t.size() && is_digit(t[p]) && n < 6) v = v * 10 + (t[p++] - '0'), ++n;
        if (n > 0 && n <= 5 && v <= 65535) h.port = static_cast<std::uint16_t>(v);
      }
      hits.push_back(h);
      covered.emplace_back(i, end);
    }
    i = e;
  }
  // Every IPv4 address has a digit, a dot and a digit in a row: most lines have none.
  bool digit_dot_digit = false;
  for (std::size_t k = t.find('.'); k != std::string_view::npos && !digit_dot_digit; k = t.find('.', k + 1)) {
    digit_dot_digit = k > 0 && k + 1 < t.size() && is_digit(t[k - 1]) && is_digit(t[k + 1]);
  }
  for (std::size_t i = 0; digit_dot_digit && i < t.size(); ++i) {
    if (!is_digit(t[i])) continue;
    if (i > 0) {
      char p = t[i - 1];
      if (is_alnum(p) || p == '.' || p == '_' || p == '-' || p == '+' || p == ',') continue;
      if (p == '/' && !(i >= 2 && t[i - 2] == '/')) continue;  // "Chrome/96.0.4664.110", not "http://x"
    }
    std::size_t j = i;
    std::uint32_t v = 0;
    int octets = 0;
    bool ok = true;
    while (octets < 4) {
      std::size_t s = j;
      unsigned o = 0;
      while (j < t.size() && is_digit(t[j]) && j - s < 4) o = o * 10 + static_cast<unsigned>(t[j++] - '0');
      std::size_t n = j - s;
      if (n == 0 || n > 3 || o > 255 || (n > 1 && t[s] == '0')) {
        ok = false;
        break;
      }
      v = (v << 8) | o;
      ++octets;
      if (octets < 4) {
        if (j >= t.size() || t[j] != '.') {
          ok = false;
          break;
        }
        ++j;
      }
    }
    if (!ok || octets != 4) {
      while (i + 1 < t.size() && (is_digit(t[i + 1]) || t[i + 1] == '.')) ++i;
      continue;
    }
    std::optional<std::uint16_t> dotted_port;
    if (j + 1 < t.size() && t[j] == '.' && is_digit(t[j + 1])) {
      // tcpdump writes "192.0.2.1.51234 > ...": a fifth number is the port, a sixth makes it no address.
      std::size_t p = j + 1;
      unsigned pv = 0;
      while (p < t.size() && is_digit(t[p]) && p - j <= 6) pv = pv * 10 + static_cast<unsigned>(t[p++] - '0');
      bool end_ok = p >= t.size() || t[p] == ' ' || t[p] == ':' || t[p] == ',';
      if (end_ok && p - j - 1 <= 5 && pv <= 65535 && t.find(" > ") != std::string_view::npos) {
        dotted_port = static_cast<std::uint16_t>(pv);
        j = p;
      }
    }
    if (!dotted_port && j < t.size() &&
        (is_alnum(t[j]) || t[j] == '_' || (t[j] == '.' && j + 1 < t.size() && is_digit(t[j + 1])))) {
      i = j;
      continue;
    }
    bool inside_v6 = false;
    for (const auto& [b, e] : covered) inside_v6 = inside_v6 || (i >= b && i < e);
    if (!inside_v6) {
      IpHit h{core::IpAddress::v4(v), i, j, dotted_port};
      if (!dotted_port && j + 1 < t.size() && t[j] == ':' && is_digit(t[j + 1])) {
        std::size_t p = j + 1;
        int pv = 0, n = 0;
        while (p < t.size() && is_digit(t[p]) && n < 6) pv = pv * 10 + (t[p++] - '0'), ++n;
        if (n <= 5 && pv <= 65535 && (p >= t.size() || t[p] != ':')) h.port = static_cast<std::uint16_t>(pv);
      }
      hits.push_back(h);
    }
    i = j;
  }
  std::sort(hits.begin(), hits.end(), [](const IpHit& a, const IpHit& b) { return a.begin < b.begin; });
  return hits;
}

std::optional<FoundTime> find_time(std::string_view text, std::optional<core::Timestamp> sent,
                                   std::optional<int> default_offset_min) {
  std::string_view s = text.substr(0, std::min<std::size_t>(text.size(), 4096));
  // Every time found goes through parse_clock, which needs a digit, ':' and two digits: a line
  // without that (most lines of a report) has none, and is not walked word by word.
  bool clock = false;
  for (std::size_t k = s.find(':'); k != std::string_view::npos && !clock; k = s.find(':', k + 1)) {
    clock = k > 0 && k + 2 < s.size() && is_digit(s[k - 1]) && is_digit(s[k + 1]) && is_digit(s[k + 2]);
  }
  if (!clock) return std::nullopt;
  for (std::size_t p = 0; p < s.size(); ++p) {
    char c = s[p];
    if (p > 0 && (is_alnum(s[p - 1]) || s[p - 1] == '.' || s[p - 1] == ':')) continue;
    if (is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
      if (auto t = time_at(s, p, sent, default_offset_min)) return t;
    }
  }
  return std::nullopt;
}

std::optional<int> find_zone_statement(std::string_view body) {
  const std::string_view text = body.substr(0, std::min<std::size_t>(body.size(), 1 << 20));
  static constexpr std::string_view kKeys[] = {"timezone",   "time zone",      "zeitzone",     "all times", "times are",
                                               "time is in", "fuseau horaire", "zona horaria", "tijdzone",  "zeiten in",
                                               "uhrzeiten",  "zeiten ",        "times in"};
  constexpr std::size_t kCount = std::size(kKeys);
  // The first (caseless) occurrence of every key in one pass over the text, by the keys' first two
  // bytes: a bit per byte pair, with case folded by setting bit 5 (which lets a few non-letters
  // through; the comparison decides). Searching the text once per key (13 passes over up to 1 MB,
  // on a lower-case copy) was a tenth of the mail intake.
  static constexpr std::array<std::uint64_t, 1024> kPairs = [] {
    std::array<std::uint64_t, 1024> bits{};
    for (std::string_view k : kKeys) {
      unsigned w = (static_cast<unsigned>(k[0]) << 8) | static_cast<unsigned>(k[1]);
      bits[w >> 6] |= std::uint64_t{1} << (w & 63);
    }
    return bits;
  }();
  std::array<std::size_t, kCount> first;
  first.fill(std::string_view::npos);
  std::size_t missing = kCount;
  const auto* t = reinterpret_cast<const unsigned char*>(text.data());
  for (std::size_t i = 0; i + 1 < text.size() && missing > 0; ++i) {
    const unsigned w = ((t[i] | 0x20u) << 8) | (t[i + 1] | 0x20u);
    if ((kPairs[w >> 6] >> (w & 63) & 1) == 0) continue;
    for (std::size_t k = 0; k < kCount; ++k) {
      if (first[k] == std::string_view::npos && istarts_with(text, i, kKeys[k])) {
        first[k] = i;
        --missing;
      }
    }
  }
  for (std::size_t key_index = 0; key_index < kCount; ++key_index) {
    std::string_view key = kKeys[key_index];
    std::size_t k = first[key_index];
    if (k == std::string_view::npos) continue;
    std::size_t from = k + key.size();
    std::string_view window = std::string_view(body).substr(from, std::min<std::size_t>(40, body.size() - from));
    for (std::size_t p = 0; p < window.size(); ++p) {
      if (p > 0 && is_alnum(window[p - 1])) continue;
      if (!(is_alpha(window[p]) || window[p] == '+' || window[p] == '-')) continue;
      Cursor c{window, p};
      if (is_alpha(window[p])) {
        std::size_t b = c.i;
        std::string_view w = c.word();
        if (!(iequals(w, "utc") || iequals(w, "gmt") || zone_offset(w))) continue;
        c.i = b;
      }
      if (auto z = parse_zone(c)) return z;
    }
  }
  return std::nullopt;
}

Extraction extract(std::string_view subject, std::string_view body, const ExtractOptions& options) {
  Extraction ex;
  std::optional<int> stated = find_zone_statement(body);
  if (stated) {
    int a = std::abs(*stated);
    char buf[48];
    std::snprintf(buf, sizeof buf, "UTC%c%02d:%02d (stated in the text)", *stated < 0 ? '-' : '+', a / 60, a % 60);
    ex.zone_note = buf;
  }
  // Without a mail date, the newest full date in the text completes syslog years.
  std::optional<core::Timestamp> sent = options.sent;

  // Lines and paragraphs.
  std::size_t para = 0;
  bool prev_blank = true;
  for (std::size_t b = 0; b < body.size() && ex.lines.size() < options.max_lines;) {
    std::size_t e = body.find('\n', b);
    if (e == std::string_view::npos) e = body.size();
    std::string_view line = body.substr(b, e - b);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    bool blank = line.find_first_not_of(" \t>") == std::string_view::npos;
    if (blank) {
      if (!prev_blank) ++para;
    } else {
      ex.lines.push_back({line, b, para, std::nullopt});
    }
    prev_blank = blank;
    b = e + 1;
  }
  if (!sent) {
    for (const TextLine& l : ex.lines) {
      auto t = find_time(l.text, core::Timestamp::from_seconds(4102444800), stated);  // year hint 2100: ignored
      if (t && (!sent || t->time > *sent)) sent = t->time;
    }
  }

  // Quoted mail headers. In "Received: from A ([x]) by B ([y])" x is a relay, y a receiver;
  // Authentication-Results/Received-SPF/X-Originating-IP name the sender; other headers name
  // the reporter's own machinery and are no evidence about an address.
  std::string header;  // lowercase name of the header the current line belongs to, or empty
  bool received_by_seen = false;
  auto header_start = [](std::string_view t) {
    std::size_t p = t.find_first_not_of(" \t>");
    return p == std::string_view::npos ? t.size() : p;
  };
  auto update_received_state = [&](std::string_view t, std::size_t line_index) {
    if (line_index == kSubjectLine) return;
    std::size_t p = header_start(t);
    if (!header.empty() && p > 0 && (t[0] == ' ' || t[0] == '\t')) return;  // folded continuation
    header.clear();
    std::size_t colon = t.find(':', p);
    if (colon == std::string_view::npos || colon == p || colon - p > 40) return;
    for (std::size_t k = p; k < colon; ++k) {
      if (!(is_alnum(t[k]) || t[k] == '-')) return;
    }
    std::string name = to_lower(t.substr(p, colon - p));
    static constexpr std::array<std::string_view, 9> kMailHeaders = {
        "received",    "authentication-results", "received-spf",   "arc-authentication-results",
        "arc-seal",    "arc-message-signature",  "dkim-signature", "return-path",
        "delivered-to"};
    if (name.rfind("x-", 0) == 0 || in_set(kMailHeaders, name)) header = name;
    if (name == "received") received_by_seen = false;
  };
  auto received_role = [&](std::string_view t, std::size_t at) -> std::optional<Role> {
    std::string l = to_lower(t.substr(0, at));
    std::size_t rec = l.rfind("received: from");
    if (rec == std::string::npos && header.empty()) return std::nullopt;
    if (rec == std::string::npos && header != "received") {
      if (in_set(kSourceHeaders, header)) return Role::kSource;
      if ((header == "authentication-results" || header == "received-spf" || header == "arc-authentication-results") &&
          (l.find("sender ip is") != std::string::npos || l.find("client-ip=") != std::string::npos ||
           l.find("designates") != std::string::npos)) {
        return Role::kSource;
      }
      return Role::kDestination;  // no evidence about this address
    }
    std::size_t from = rec == std::string::npos ? 0 : rec;
    bool by = l.find(" by ", from) != std::string::npos || (rec == std::string::npos && received_by_seen);
    return by ? Role::kDestination : Role::kRelay;
  };
  auto after_line_received = [&](std::string_view t) {
    if (header != "received") return;
    std::string l = to_lower(t);
    std::size_t rec = l.rfind("received: from");
    std::size_t from = rec == std::string::npos ? 0 : rec;
    if (l.find(" by ", from) != std::string::npos || l.find("by ", from) == header_start(t)) received_by_seen = true;
    if (rec != std::string::npos && l.find(" by ", rec) == std::string::npos) received_by_seen = false;
  };
  std::optional<TableHeader> table;
  std::size_t dest_section = static_cast<std::size_t>(-1);  // paragraph whose heading names targets
  std::map<std::string, std::size_t> url_seen;
  auto scan = [&](std::string_view original, std::size_t line_index) {
    std::string fanged;
    std::string_view t = original;
    if (looks_defanged(original)) {
      fanged = refang(original);
      t = fanged;
    }
    update_received_state(t, line_index);
    // URLs (not those of quoted mail headers such as List-Unsubscribe).
    for (std::size_t k = 0; header.empty() && k < t.size();) {
      if (t.find("://", k) == std::string_view::npos) break;  // every scheme below ends so
      std::size_t h = std::string_view::npos;
      for (std::string_view scheme : {"http://", "https://", "ftp://"}) {
        for (std::size_t q = k; q + scheme.size() <= t.size(); ++q) {
          if ((t[q] == 'h' || t[q] == 'H' || t[q] == 'f' || t[q] == 'F') && istarts_with(t, q, scheme)) {
            h = std::min(h, q);
            break;
          }
        }
      }
      if (h == std::string_view::npos) break;
      std::size_t e = h;
      while (e < t.size() && !std::isspace(static_cast<unsigned char>(t[e])) && t[e] != '<' && t[e] != '>' &&
             t[e] != '"' && t[e] != '\'' && t[e] != '`')
        ++e;
      std::size_t end = e;
      while (end > h && std::strchr(".,;:!?)]}*", t[end - 1]) != nullptr) --end;
      std::string url(t.substr(h, end - h));
      if (url.size() > 10 && url.size() < 4096) {
        auto [it, inserted] = url_seen.try_emplace(url, ex.urls.size());
        if (inserted) ex.urls.push_back({url, {}, false});
        FoundUrl& fu = ex.urls[it->second];
        if (fu.lines.empty() || fu.lines.back() != line_index) fu.lines.push_back(line_index);
        fu.defanged = fu.defanged || !fanged.empty();
      }
      k = e;
    }
    // Addresses.
    auto hits = find_ips(t);
    if (hits.empty()) return;
    if (line_index != kSubjectLine && is_registry_line(t)) return;
    // "192.0.2.0 - 192.0.2.255" and "192.0.2.0/24" are ranges, not reported hosts.
    std::vector<bool> skip(hits.size(), false);
    for (std::size_t k = 0; k < hits.size(); ++k) {
      if (hits[k].end < t.size() && t[hits[k].end] == '/' && hits[k].end + 1 < t.size() &&
          is_digit(t[hits[k].end + 1])) {
        skip[k] = true;
      }
      if (k + 1 < hits.size()) {
        std::string_view between = t.substr(hits[k].end, hits[k + 1].begin - hits[k].end);
        if (between.find('-') != std::string_view::npos && between.find_first_not_of(" -") == std::string_view::npos) {
          skip[k] = skip[k + 1] = true;
        }
      }
    }
    bool sshd = t.find("sshd[") != std::string_view::npos || t.find("sshd:") != std::string_view::npos;
    std::optional<std::uint16_t> dpt = port_after(t, 0, "DPT=");
    std::optional<core::IpAddress> dst;
    for (const IpHit& h : hits) {
      if (h.begin >= 4 && iequals(t.substr(h.begin - 4, 4), "DST=")) dst = h.ip;
    }
    for (std::size_t k = 0; k < hits.size(); ++k) {
      const IpHit& h = hits[k];
      if (skip[k]) continue;
      Mention m{h.ip, line_index, Role::kNeutral, h.port, std::nullopt, std::nullopt};
      if (line_index == kSubjectLine) {
        m.role = Role::kSource;
      } else if (auto r = received_role(t, h.begin)) {
        m.role = *r;
      } else {
        bool line_start = h.begin == t.find_first_not_of(" \t>[(\"'");
        auto w = words_before(t, h.begin);
        if (line_start && line_index > 0 && ex.lines[line_index - 1].paragraph == ex.lines[line_index].paragraph) {
          // Prose wrapped before the address: "... attacks on our server\n203.0.113.5".
          std::string_view prev = ex.lines[line_index - 1].text;
          w = words_before(prev, prev.size());
        }
        m.role = role_from_words(w);
        std::size_t after = t.find_first_not_of(" :0123456789", h.end);
        if (after != std::string_view::npos && t.compare(after, 2, "->") == 0) m.role = Role::kSource;
        if (after != std::string_view::npos && t.compare(after, 1, ">") == 0 && m.role == Role::kNeutral)
          m.role = Role::kSource;
        if (table && m.role == Role::kNeutral && table->paragraph == ex.lines[line_index].paragraph) {
          std::size_t col = static_cast<std::size_t>(std::count(t.begin(), t.begin() + h.begin, table->delim));
          if (col < table->roles.size()) m.role = table->roles[col];
        }
        if (m.role == Role::kNeutral && dest_section == ex.lines[line_index].paragraph) m.role = Role::kDestination;
        // Access logs and lists start with the client address.
        if (m.role == Role::kNeutral && line_start) m.role = Role::kSource;
        if (!m.port) m.port = port_word_after(t, h.end);
        if (m.role == Role::kSource) {
          m.destination_port = dpt;
          if (!m.destination_port && sshd) m.destination_port = 22;
          if (dst && !(*dst == h.ip)) m.peer = dst;
        }
      }
      ex.mentions.push_back(m);
    }
  };

  if (!subject.empty()) scan(subject, kSubjectLine);
  for (std::size_t i = 0; i < ex.lines.size(); ++i) {
    TextLine& line = ex.lines[i];
    line.time = find_time(line.text, sent, stated);
    if (auto h = table_header(line.text, line.paragraph)) {
      table = h;
    } else if (table && table->paragraph != line.paragraph) {
      table.reset();
    }
    if (heading_says_destination(line.text) && find_ips(line.text).empty()) {
      dest_section = line.paragraph + (i + 1 < ex.lines.size() && ex.lines[i + 1].paragraph != line.paragraph);
    }
    scan(line.text, i);
    after_line_received(line.text);
  }
  return ex;
}

}  // namespace klartext::formats::freetext
