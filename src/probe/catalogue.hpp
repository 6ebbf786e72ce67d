// The probe catalogue: which UDP services klartext can verify, loaded from data/probes/catalogue.yaml.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "probe/codec.hpp"

namespace klartext::probe {

struct Variant {
  std::string name;
  std::string description;
  Params params;
};

struct ProbeSpec {
  std::string name;     // "ntp-monitor": the `probe` field of the amplifier knowledge base
  std::string service;  // "ntp": what --service also accepts, selecting every probe of the service
  std::uint16_t port = 0;
  std::string codec_name;
  const Codec* codec = nullptr;
  std::string description;
  bool abusable = true;              // false: a harmless baseline (e.g. NTP mode 3)
  bool reply_from_any_port = false;  // TFTP answers from a new port
  double min_baf = 2.0;              // BAF from which a valid abusable answer is an amplifier
  std::string tshark;                // dissector that decodes the request on `port`; empty if none
  std::vector<Variant> variants;     // first is the default

  const Variant* find_variant(std::string_view name) const;
};

class Catalogue {
 public:
  // Parses catalogue YAML; throws std::runtime_error naming the entry on bad data or unknown codec.
  static Catalogue parse(std::string_view yaml);
  // data/probes/catalogue.yaml from `data_dir` or the embedded copy; loaded once.
  static const Catalogue& instance(const std::string& data_dir = {});

  const std::vector<ProbeSpec>& probes() const { return probes_; }
  const ProbeSpec* find(std::string_view name) const;
  // Probes named `name_or_service` (a probe name, or a service selecting all its probes).
  std::vector<const ProbeSpec*> select(std::string_view name_or_service) const;

 private:
  std::vector<ProbeSpec> probes_;
};

}  // namespace klartext::probe
