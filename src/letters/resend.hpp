// When a case is due for a letter: new, changed since the last letter, or its re-notification interval passed.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/event.hpp"
#include "core/timestamp.hpp"

namespace klartext::config {
struct Config;
}

namespace klartext::letters {

struct ResendPolicy {
  std::int64_t critical_seconds = 24 * 3600;
  std::int64_t high_seconds = 3 * 24 * 3600;
  std::int64_t medium_seconds = 7 * 24 * 3600;
  std::int64_t low_seconds = 14 * 24 * 3600;
  std::int64_t info_seconds = 30 * 24 * 3600;

  static ResendPolicy from(const config::Config& c);
  // Unknown severity is treated as medium.
  std::int64_t interval_seconds(core::Severity s) const;
};

// What the store knows about earlier letters for one case.
struct SentBefore {
  core::Timestamp at;             // when the last letter went out
  std::uint64_t event_count = 0;  // the case's event count at that time
};

enum class Due : std::uint8_t {
  kNew,      // never written about
  kChanged,  // new events since the last letter
  kResend,   // unchanged, but the interval for its severity has passed
  kNotDue,   // unchanged and written about recently
};
std::string_view to_string(Due d);

Due due(const ResendPolicy& policy, core::Severity severity, std::uint64_t event_count,
        const std::optional<SentBefore>& last, core::Timestamp now);

}  // namespace klartext::letters
