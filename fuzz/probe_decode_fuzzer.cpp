// Fuzz target: every probe codec's decoder on hostile answer datagrams.
// Input: byte 0 picks the probe (catalogue order), the rest is split into datagrams at "\xff\xfe\xfd".
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "probe/catalogue.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using klartext::probe::Catalogue;
  static const Catalogue& cat = Catalogue::instance();
  if (size < 1) return 0;
  const auto& probes = cat.probes();
  const auto& spec = probes[data[0] % probes.size()];
  const auto& variant = spec.variants[(data[0] / probes.size()) % spec.variants.size()];
  std::string request = spec.codec->build(variant.params, 0x1234);
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<std::string> datagrams;
  while (datagrams.size() < 64) {
    auto cut = rest.find("\xff\xfe\xfd");
    datagrams.emplace_back(rest.substr(0, cut));
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + 3);
  }
  (void)spec.codec->decode(variant.params, request, datagrams);
  return 0;
}
