// Re-notification decision (pure, so notify and the tests share it).
#include "letters/resend.hpp"

#include "config/config.hpp"

namespace klartext::letters {

ResendPolicy ResendPolicy::from(const config::Config& c) {
  return ResendPolicy{c.renotify_seconds_critical, c.renotify_seconds_high, c.renotify_seconds_medium,
                      c.renotify_seconds_low, c.renotify_seconds_info};
}

std::int64_t ResendPolicy::interval_seconds(core::Severity s) const {
  switch (s) {
    case core::Severity::kCritical: return critical_seconds;
    case core::Severity::kHigh: return high_seconds;
    case core::Severity::kMedium: return medium_seconds;
    case core::Severity::kLow: return low_seconds;
    case core::Severity::kInfo: return info_seconds;
    case core::Severity::kUnknown: return medium_seconds;
  }
  return medium_seconds;
}

std::string_view to_string(Due d) {
  switch (d) {
    case Due::kNew: return "new";
    case Due::kChanged: return "changed";
    case Due::kResend: return "resend";
    case Due::kNotDue: return "not-due";
  }
  return "not-due";
}

Due due(const ResendPolicy& policy, core::Severity severity, std::uint64_t event_count,
        const std::optional<SentBefore>& last, core::Timestamp now) {
  if (!last) return Due::kNew;
  if (event_count > last->event_count) return Due::kChanged;
  const std::int64_t elapsed = now.seconds() - last->at.seconds();
  return elapsed >= policy.interval_seconds(severity) ? Due::kResend : Due::kNotDue;
}

}  // namespace klartext::letters
