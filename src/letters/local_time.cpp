// Time zone conversion with HowardHinnant date/tz, reading the system tz database (Debian tzdata).
#include "letters/local_time.hpp"

#include <date/tz.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdint>

namespace klartext::letters {

LocalTime::LocalTime(std::string fallback_zone) : fallback_(std::move(fallback_zone)) {}

bool LocalTime::known_zone(std::string_view zone) {
  if (zone.empty()) return false;
  try {
    return date::locate_zone(zone) != nullptr;
  } catch (const std::exception&) {
    return false;
  }
}

const date::time_zone* LocalTime::zone(std::string_view name) const {
  std::lock_guard lock(mu_);
  std::string key(name.empty() ? std::string_view(fallback_) : name);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  const date::time_zone* z = nullptr;
  for (std::string_view candidate : {std::string_view(key), std::string_view(fallback_), std::string_view("UTC")}) {
    try {
      z = date::locate_zone(candidate);
      break;
    } catch (const std::exception&) {
      // Unknown zone (or no tz database): try the next candidate.
    }
  }
  cache_.emplace(std::move(key), z);
  return z;
}

std::string LocalTime::format(core::Timestamp t, std::string_view zone_name, std::string_view lang) const {
  using namespace std::chrono;
  const sys_seconds s{seconds{t.seconds()}};
  // Written with fmt rather than date::format (iostreams): letters format several times per case.
  std::string abbrev = "UTC";
  std::int64_t local = t.seconds();
  if (const date::time_zone* z = zone(zone_name)) {
    const date::sys_info info = z->get_info(s);
    local += info.offset.count();
    abbrev = info.abbrev;
  }
  const std::int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
  const std::int64_t secs = local - days * 86400;
  const date::year_month_day ymd{date::sys_days{date::days{days}}};
  const int hh = static_cast<int>(secs / 3600), mm = static_cast<int>(secs / 60 % 60), ss = static_cast<int>(secs % 60);
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const unsigned d = static_cast<unsigned>(ymd.day()), m = static_cast<unsigned>(ymd.month());
  const int y = static_cast<int>(ymd.year());
  if (lang == "de") return fmt::format("{:02}.{:02}.{:04} {:02}:{:02}:{:02} {}", d, m, y, hh, mm, ss, abbrev);
  return fmt::format("{:02} {} {:04} {:02}:{:02}:{:02} {}", d, kMonths[m - 1], y, hh, mm, ss, abbrev);
}

}  // namespace klartext::letters
