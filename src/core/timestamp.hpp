// UTC instant with microsecond resolution, parsed from the forms reports use.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace klartext::core {

class Timestamp {
 public:
  constexpr Timestamp() = default;
  static constexpr Timestamp from_micros(std::int64_t us) { return Timestamp(us); }
  static constexpr Timestamp from_seconds(std::int64_t s) { return Timestamp(s * 1'000'000); }
  static Timestamp now();

  // ISO 8601 / RFC 3339 and the common variants: "2024-07-04 12:00:00", "2024-07-04T12:00:00Z",
  // "...+02:00", "... UTC", fractional seconds, a bare date (midnight UTC), and epoch seconds
  // (10 digits). A time without zone is taken as UTC (Shadowserver's convention).
  static std::optional<Timestamp> parse(std::string_view text);
  // RFC 5322 date ("Thu, 28 Nov 2026 10:02:00 +0100"), as mail headers carry it.
  static std::optional<Timestamp> parse_rfc5322(std::string_view text);

  constexpr std::int64_t micros() const { return us_; }
  constexpr std::int64_t seconds() const { return us_ >= 0 ? us_ / 1'000'000 : -((-us_ + 999'999) / 1'000'000); }

  // IntelMQ's form: "2024-07-04T12:00:00+00:00" (fraction only when non-zero).
  std::string to_iso() const;
  void append_iso(std::string& out) const;

  constexpr auto operator<=>(const Timestamp&) const = default;

 private:
  constexpr explicit Timestamp(std::int64_t us) : us_(us) {}
  std::int64_t us_ = 0;
};

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace klartext::core
