// Placeholder loader: defaults only (the TOML loader and key table are being written).
#include "config/config.hpp"

namespace klartext::config {

Config load(const std::string&) {
  return Config{};
}

const std::vector<KeyInfo>& all_keys() {
  static const std::vector<KeyInfo> kKeys;
  return kKeys;
}

std::string example_file() {
  return {};
}

}  // namespace klartext::config
