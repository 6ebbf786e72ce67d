// Codec registry and the small helpers of the codec interface.
#include "probe/codec.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>

#include "probe/codecs.hpp"

namespace klartext::probe {
namespace {

const std::vector<std::pair<std::string_view, const Codec*>>& registry() {
  static const std::vector<std::pair<std::string_view, const Codec*>> kCodecs = {
      {"ntp-mode7", &detail::ntp_mode7_codec()},
      {"ntp-mode6", &detail::ntp_mode6_codec()},
      {"ntp-mode3", &detail::ntp_mode3_codec()},
      {"dns", &detail::dns_codec()},
      {"ssdp", &detail::ssdp_codec()},
      {"memcached", &detail::memcached_codec()},
      {"chargen", &detail::chargen_codec()},
      {"qotd", &detail::qotd_codec()},
      {"snmp", &detail::snmp_codec()},
      {"portmap", &detail::portmap_codec()},
      {"netbios", &detail::netbios_codec()},
      {"cldap", &detail::cldap_codec()},
      {"ws-discovery", &detail::wsd_codec()},
      {"coap", &detail::coap_codec()},
      {"ard", &detail::ard_codec()},
      {"tftp", &detail::tftp_codec()},
  };
  return kCodecs;
}

}  // namespace

std::string param_str(const Params& p, std::string_view key, std::string_view fallback) {
  auto it = p.find(key);
  return it == p.end() ? std::string(fallback) : it->second;
}

std::int64_t param_int(const Params& p, std::string_view key, std::int64_t fallback) {
  auto it = p.find(key);
  if (it == p.end()) return fallback;
  std::int64_t v = 0;
  const auto& s = it->second;
  int base = 10;
  const char* b = s.data();
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    b += 2;
  }
  auto [ptr, ec] = std::from_chars(b, s.data() + s.size(), v, base);
  return (ec == std::errc{} && ptr == s.data() + s.size()) ? v : fallback;
}

void Decoded::add_num(std::string key, double v) {
  char buf[32];
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.6g", std::isfinite(v) ? v : 0.0);
  }
  details.push_back({std::move(key), buf, true});
}

const Detail* Decoded::find(std::string_view key) const {
  for (const auto& d : details) {
    if (d.key == key) return &d;
  }
  return nullptr;
}

const Codec* find_codec(std::string_view name) {
  for (const auto& [n, c] : registry()) {
    if (n == name) return c;
  }
  return nullptr;
}

std::vector<std::string> codec_names() {
  std::vector<std::string> out;
  for (const auto& [n, c] : registry()) out.emplace_back(n);
  return out;
}

}  // namespace klartext::probe
