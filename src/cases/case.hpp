// The case value types: one case per (customer, classification, source ip), its states and transitions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/event.hpp"
#include "core/ip.hpp"
#include "core/taxonomy.hpp"
#include "core/timestamp.hpp"

namespace klartext::cases {

// open -> notified -> resolved (customer says fixed) -> closed (verified, or quiet long enough);
// escalated when it keeps recurring after notifications. Only kClosed ends a case: a new event
// for the same key afterwards opens a new case.
enum class CaseState : std::uint8_t { kOpen, kNotified, kResolved, kEscalated, kClosed };
std::string_view to_string(CaseState s);  // "open", "notified", ...
std::optional<CaseState> parse_case_state(std::string_view s);

struct Case {
  std::int64_t id = 0;
  std::string customer_id;
  core::Classification classification;
  core::IpAddress source_ip;
  CaseState state = CaseState::kOpen;
  std::int64_t event_count = 0;
  core::Timestamp first_seen;  // earliest event time (time.source, else observation/ingest time)
  core::Timestamp last_seen;   // latest event time
  core::Severity severity = core::Severity::kUnknown;  // highest of its events
  std::optional<std::uint16_t> source_port;            // port of the most recent event, if any
  core::Timestamp created;                             // wall clock when the case was opened
  core::Timestamp updated;                             // wall clock of the last change
  // Letters: how many were sent about this case, when the last one was, and how many events the
  // case had then (event_count > notified_event_count means "changed since the last letter").
  std::int64_t notifications = 0;
  std::optional<core::Timestamp> last_notified;
  std::int64_t notified_event_count = 0;
  std::optional<CaseState> notified_state;     // the state the last letter described
  std::optional<core::Timestamp> resolved_at;  // when the customer said it was fixed (kResolved)
};

// One state change, recorded with time and reason. `from` is empty for the creation of the case.
struct Transition {
  std::int64_t case_id = 0;
  std::optional<CaseState> from;
  CaseState to = CaseState::kOpen;
  core::Timestamp time;
  std::string reason;
};

}  // namespace klartext::cases
