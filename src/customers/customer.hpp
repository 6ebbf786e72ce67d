// The customer directory's value types: customers, static prefix assignments and dynamic sessions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/ip.hpp"
#include "core/timestamp.hpp"

namespace klartext::customers {

struct Customer {
  std::string id;                     // the ISP's customer number, e.g. "K-1001" (unique)
  std::string name;                   // e.g. "Müller Zahntechnik GmbH"
  std::vector<std::string> emails;    // contact addresses for letters, first is primary
  std::string language;               // "de" or "en"; empty: the configured default
  std::string time_zone;              // IANA name, e.g. "Europe/Berlin"; empty: the configured default
  std::vector<std::string> accounts;  // RADIUS User-Name / Class values that belong to this customer
};

// A prefix assigned to a customer, valid in [valid_from, valid_to) (either end may be open).
struct StaticAssignment {
  std::string customer_id;
  core::IpPrefix prefix;
  std::optional<core::Timestamp> valid_from;
  std::optional<core::Timestamp> valid_to;
};

// Who held a dynamic address (a single address: /32 or /128; a delegated IPv6 prefix; or a CGNAT
// address with a port range) during [start, stop). A session without stop is still open.
struct Session {
  std::string customer_id;
  core::IpPrefix prefix;                   // host prefix for an address
  std::optional<std::uint16_t> port_from;  // CGNAT port range (inclusive), both or neither set
  std::optional<std::uint16_t> port_to;
  core::Timestamp start;
  std::optional<core::Timestamp> stop;
  std::string session_key;  // RADIUS Acct-Session-Id (+ NAS) or CSV session id; empty: none
  std::string source;       // where it came from, e.g. "radius:detail-20261127:14"
};

}  // namespace klartext::customers
