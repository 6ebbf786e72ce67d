// Time zone conversion with HowardHinnant date/tz, reading the system tz database (Debian tzdata).
#include "letters/local_time.hpp"

#include <date/tz.h>

#include <chrono>

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
  const char* fmt = lang == "de" ? "%d.%m.%Y %H:%M:%S %Z" : "%d %b %Y %H:%M:%S %Z";
  if (const date::time_zone* z = zone(zone_name)) return date::format(fmt, date::make_zoned(z, s));
  // No tz database at all: UTC is still correct, just less convenient.
  return date::format(lang == "de" ? "%d.%m.%Y %H:%M:%S UTC" : "%d %b %Y %H:%M:%S UTC", s);
}

}  // namespace klartext::letters
