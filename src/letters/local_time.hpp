// Timestamps as a customer reads them: in their time zone, written the way their language writes dates.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/timestamp.hpp"

namespace date {
class time_zone;
}

namespace klartext::letters {

class LocalTime {
 public:
  // `fallback_zone` is used for customers with no or an unknown zone (and UTC if that is unknown too).
  explicit LocalTime(std::string fallback_zone = "Europe/Berlin");

  // "27.11.2026 03:14:09 CET" (de) or "27 Nov 2026 03:14:09 CET" (en).
  std::string format(core::Timestamp t, std::string_view zone, std::string_view lang) const;
  // Whether the time zone database knows `zone`.
  static bool known_zone(std::string_view zone);

 private:
  const date::time_zone* zone(std::string_view name) const;

  std::string fallback_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, const date::time_zone*> cache_;
};

}  // namespace klartext::letters
