// Target expansion and the allowed-prefix check of the prober.
#include "probe/policy.hpp"

#include <algorithm>

namespace klartext::probe {
namespace {

std::string list_text(const std::vector<core::IpPrefix>& v) {
  std::string s;
  for (const auto& p : v) {
    if (!s.empty()) s += ", ";
    s += p.to_string();
  }
  return s.empty() ? "(empty)" : s;
}

core::IpAddress next_address(const core::IpAddress& a) {
  if (a.is_v4()) return core::IpAddress::v4(a.v4_value() + 1);
  auto b = a.bytes();
  for (int i = 15; i >= 0; --i) {
    if (++b[static_cast<std::size_t>(i)] != 0) break;
  }
  return core::IpAddress::v6(b);
}

bool never_probed(const core::IpAddress& a) {
  return a.is_multicast() || a.is_broadcast() || a.is_unspecified();
}

}  // namespace

core::Expected<TargetPolicy> TargetPolicy::from_config(const std::vector<std::string>& prefixes) {
  TargetPolicy p;
  for (const auto& text : prefixes) {
    auto pfx = core::IpPrefix::parse(text);
    if (!pfx) return core::make_error("bad-config", "probe.allowed_prefixes: '" + text + "' is not an address prefix");
    bool v4 = pfx->network().is_v4();
    if ((v4 && pfx->length() < 8) || (!v4 && pfx->length() < 16)) {
      return core::make_error("bad-config", "probe.allowed_prefixes: '" + text +
                                                "' is broader than /8 (IPv4) or /16 (IPv6); list your own networks");
    }
    p.allowed.push_back(*pfx);
  }
  return p;
}

core::Expected<std::vector<core::IpAddress>> expand_targets(const std::vector<std::string>& texts,
                                                            const TargetPolicy& policy) {
  std::vector<core::IpAddress> out;
  std::uint64_t limit = std::min(policy.max_targets, kMaxTargetsCeiling);
  for (const auto& text : texts) {
    auto pfx = core::IpPrefix::parse(text);
    if (!pfx) return core::make_error("bad-target", "'" + text + "' is not an IP address or prefix");
    bool inside = std::any_of(policy.allowed.begin(), policy.allowed.end(),
                              [&](const core::IpPrefix& a) { return a.contains(*pfx); });
    if (!inside) {
      return core::make_error("target-not-allowed", "target " + text + " is outside probe.allowed_prefixes (" +
                                                        list_text(policy.allowed) +
                                                        "); klartext only probes networks you list there in the "
                                                        "config file ([probe] allowed_prefixes)");
    }
    const auto& net = pfx->network();
    if (never_probed(net)) {
      return core::make_error("target-not-allowed",
                              "target " + text + " is multicast, broadcast or unspecified; those are never probed");
    }
    std::uint64_t size = pfx->size();
    bool skip_ends = net.is_v4() && pfx->length() < 31;
    std::uint64_t count = skip_ends ? size - 2 : size;
    if (size == 0 || count > limit || out.size() + count > limit) {
      return core::make_error("too-many-targets", "targets expand to more than " + std::to_string(limit) +
                                                      " addresses (--max-targets; ceiling " +
                                                      std::to_string(kMaxTargetsCeiling) + ")");
    }
    core::IpAddress a = skip_ends ? next_address(net) : net;
    for (std::uint64_t i = 0; i < count; ++i, a = next_address(a)) {
      if (never_probed(a)) {
        return core::make_error("target-not-allowed", "target " + a.to_string() + " (from " + text +
                                                          ") is multicast, broadcast or unspecified");
      }
      out.push_back(a);
    }
  }
  return out;
}

}  // namespace klartext::probe
