// Timestamp parsing and formatting without locale or time zone database (UTC and numeric offsets).
#include "core/timestamp.hpp"

#include <chrono>
#include <cstring>

namespace klartext::core {
namespace {

struct Cursor {
  std::string_view s;
  std::size_t i = 0;
  bool done() const { return i >= s.size(); }
  char peek() const { return done() ? '\0' : s[i]; }
  bool digits(int n, int& out) {
    if (i + static_cast<std::size_t>(n) > s.size()) return false;
    int v = 0;
    for (int k = 0; k < n; ++k) {
      char c = s[i + static_cast<std::size_t>(k)];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    i += static_cast<std::size_t>(n);
    out = v;
    return true;
  }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i;
    return true;
  }
  void skip_spaces() {
    while (!done() && s[i] == ' ') ++i;
  }
};

constexpr unsigned kDaysInMonth[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

bool valid_date(int y, int m, int d) {
  if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1) return false;
  if (d > static_cast<int>(kDaysInMonth[m - 1])) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return !(m == 2 && d == 29 && !leap);
}

std::int64_t make_micros(int y, int mo, int d, int h, int mi, int s, std::int64_t frac_us, int offset_min) {
  std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  std::int64_t secs = days * 86400 + h * 3600 + mi * 60 + s - offset_min * 60;
  return secs * 1'000'000 + frac_us;
}

// Parses "Z", "UTC", "GMT", "+hh:mm", "+hhmm", "+hh"; empty means UTC.
bool parse_zone(Cursor& c, int& offset_min) {
  c.skip_spaces();
  offset_min = 0;
  if (c.done()) return true;
  std::string_view rest = c.s.substr(c.i);
  if (rest == "Z" || rest == "z" || rest == "UTC" || rest == "GMT" || rest == "+00:00 UTC") return true;
  char sign = c.peek();
  if (sign != '+' && sign != '-') return false;
  ++c.i;
  int hh = 0, mm = 0;
  if (!c.digits(2, hh)) return false;
  if (c.eat(':')) {
    if (!c.digits(2, mm)) return false;
  } else if (!c.done()) {
    if (!c.digits(2, mm)) return false;
  }
  if (hh > 23 || mm > 59) return false;
  offset_min = (sign == '-' ? -1 : 1) * (hh * 60 + mm);
  c.skip_spaces();
  if (!c.done()) {
    std::string_view tail = c.s.substr(c.i);
    if (tail != "UTC" && tail != "GMT" && tail.front() != '(') return false;
  }
  return true;
}

}  // namespace

Timestamp Timestamp::now() {
  auto d = std::chrono::system_clock::now().time_since_epoch();
  return Timestamp(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

std::optional<Timestamp> Timestamp::parse(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.empty() || text.size() > 64) return std::nullopt;

  // Epoch seconds (optionally with fraction).
  if (text.size() >= 9 && text.size() <= 17 && text.find('-') == std::string_view::npos &&
      text.find(':') == std::string_view::npos) {
    std::int64_t v = 0;
    std::size_t i = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) v = v * 10 + (text[i] - '0');
    if (i < 9) return std::nullopt;
    std::int64_t frac = 0;
    if (i < text.size()) {
      if (text[i] != '.') return std::nullopt;
      std::int64_t scale = 100000;
      for (++i; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
        frac += (text[i] - '0') * scale;
        scale /= 10;
      }
    }
    return Timestamp(v * 1'000'000 + frac);
  }

  Cursor c{text};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!c.digits(4, y) || !c.eat('-') || !c.digits(2, mo) || !c.eat('-') || !c.digits(2, d)) return std::nullopt;
  if (!valid_date(y, mo, d)) return std::nullopt;
  std::int64_t frac = 0;
  int offset = 0;
  if (c.done()) return Timestamp(make_micros(y, mo, d, 0, 0, 0, 0, 0));
  if (!c.eat('T') && !c.eat(' ') && !c.eat('t')) return std::nullopt;
  if (!c.digits(2, h) || !c.eat(':') || !c.digits(2, mi)) return std::nullopt;
  if (c.eat(':')) {
    if (!c.digits(2, s)) return std::nullopt;
    if (c.eat('.') || c.eat(',')) {
      std::int64_t scale = 100000;
      std::size_t start = c.i;
      while (!c.done() && c.peek() >= '0' && c.peek() <= '9') {
        frac += (c.peek() - '0') * scale;
        scale /= 10;
        ++c.i;
      }
      if (c.i == start) return std::nullopt;
    }
  }
  if (h > 23 || mi > 59 || s > 60) return std::nullopt;
  if (s == 60) s = 59;  // leap second: clamp
  if (!parse_zone(c, offset)) return std::nullopt;
  return Timestamp(make_micros(y, mo, d, h, mi, s, frac, offset));
}

std::optional<Timestamp> Timestamp::parse_rfc5322(std::string_view text) {
  static constexpr const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                            "jul", "aug", "sep", "oct", "nov", "dec"};
  Cursor c{text};
  c.skip_spaces();
  // Optional day name.
  std::size_t comma = text.find(',');
  if (comma != std::string_view::npos && comma < 12) c.i = comma + 1;
  c.skip_spaces();
  int d = 0;
  if (!c.digits(2, d)) {
    if (!c.digits(1, d)) return std::nullopt;
  }
  c.skip_spaces();
  if (c.i + 3 > text.size()) return std::nullopt;
  int mo = 0;
  for (int k = 0; k < 12; ++k) {
    bool eq = true;
    for (int j = 0; j < 3; ++j) {
      char ch = static_cast<char>(text[c.i + static_cast<std::size_t>(j)] | 0x20);
      if (ch != kMonths[k][j]) eq = false;
    }
    if (eq) mo = k + 1;
  }
  if (mo == 0) return std::nullopt;
  c.i += 3;
  c.skip_spaces();
  int y = 0;
  if (!c.digits(4, y)) {
    if (!c.digits(2, y)) return std::nullopt;
    y += y < 50 ? 2000 : 1900;
  }
  c.skip_spaces();
  int h = 0, mi = 0, s = 0;
  if (!c.digits(2, h)) {
    if (!c.digits(1, h)) return std::nullopt;
  }
  if (!c.eat(':') || !c.digits(2, mi)) return std::nullopt;
  if (c.eat(':') && !c.digits(2, s)) return std::nullopt;
  if (!valid_date(y, mo, d) || h > 23 || mi > 59 || s > 60) return std::nullopt;
  if (s == 60) s = 59;
  c.skip_spaces();
  int offset = 0;
  std::string_view zone = text.substr(c.i);
  if (!zone.empty() && (zone.front() == '+' || zone.front() == '-')) {
    int hh = 0, mm = 0;
    ++c.i;
    if (!c.digits(2, hh) || !c.digits(2, mm)) return std::nullopt;
    offset = (zone.front() == '-' ? -1 : 1) * (hh * 60 + mm);
  } else if (zone.substr(0, 3) == "EST") {
    offset = -300;
  } else if (zone.substr(0, 3) == "EDT") {
    offset = -240;
  } else if (zone.substr(0, 3) == "CST") {
    offset = -360;
  } else if (zone.substr(0, 3) == "CDT") {
    offset = -300;
  } else if (zone.substr(0, 3) == "MST") {
    offset = -420;
  } else if (zone.substr(0, 3) == "MDT") {
    offset = -360;
  } else if (zone.substr(0, 3) == "PST") {
    offset = -480;
  } else if (zone.substr(0, 3) == "PDT") {
    offset = -420;
  }
  return Timestamp(make_micros(y, mo, d, h, mi, s, 0, offset));
}

void Timestamp::append_iso(std::string& out) const {
  std::int64_t secs = seconds();
  std::int64_t frac = us_ - secs * 1'000'000;
  std::int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  std::int64_t sod = secs - days * 86400;
  // civil_from_days (Howard Hinnant).
  std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[40];
  auto put2 = [](char* p, unsigned v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  unsigned yy = static_cast<unsigned>(y);
  buf[0] = static_cast<char>('0' + (yy / 1000) % 10);
  buf[1] = static_cast<char>('0' + (yy / 100) % 10);
  buf[2] = static_cast<char>('0' + (yy / 10) % 10);
  buf[3] = static_cast<char>('0' + yy % 10);
  buf[4] = '-';
  put2(buf + 5, m);
  buf[7] = '-';
  put2(buf + 8, d);
  buf[10] = 'T';
  put2(buf + 11, static_cast<unsigned>(sod / 3600));
  buf[13] = ':';
  put2(buf + 14, static_cast<unsigned>((sod / 60) % 60));
  buf[16] = ':';
  put2(buf + 17, static_cast<unsigned>(sod % 60));
  std::size_t n = 19;
  if (frac != 0) {
    buf[n++] = '.';
    std::int64_t f = frac;
    for (int k = 5; k >= 0; --k) {
      buf[n + static_cast<std::size_t>(k)] = static_cast<char>('0' + f % 10);
      f /= 10;
    }
    n += 6;
  }
  std::memcpy(buf + n, "+00:00", 6);
  n += 6;
  out.append(buf, n);
}

std::string Timestamp::to_iso() const {
  std::string s;
  append_iso(s);
  return s;
}

}  // namespace klartext::core
