// Safety policy of the prober: only the operator's own networks (probe.allowed_prefixes), never
// multicast or broadcast, and a bounded number of addresses per run. Checked before any packet.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/expected.hpp"
#include "core/ip.hpp"

namespace klartext::probe {

// No run may expand to more addresses than this, whatever the configuration says.
inline constexpr std::uint64_t kMaxTargetsCeiling = 1u << 20;

struct TargetPolicy {
  std::vector<core::IpPrefix> allowed;
  std::uint64_t max_targets = 65536;

  // From the config's probe.allowed_prefixes texts. Fails (naming the setting) on a bad entry or
  // one broader than /8 (IPv4) or /16 (IPv6): that is not "your own network".
  static core::Expected<TargetPolicy> from_config(const std::vector<std::string>& prefixes);
};

// Expands TARGET texts (address or prefix) into addresses. Fails before anything is sent when a
// target is malformed, outside the allowed prefixes, multicast/broadcast/unspecified, or when the
// total exceeds max_targets. IPv4 prefixes shorter than /31 skip their network and broadcast address.
core::Expected<std::vector<core::IpAddress>> expand_targets(const std::vector<std::string>& texts,
                                                            const TargetPolicy& policy);

}  // namespace klartext::probe
