// Loading and lookup of the probe catalogue (YAML data + codecs by name).
#include "probe/catalogue.hpp"

#include <yaml-cpp/yaml.h>

#include <mutex>
#include <stdexcept>

#include "core/embedded.hpp"

namespace klartext::probe {

const Variant* ProbeSpec::find_variant(std::string_view n) const {
  for (const auto& v : variants) {
    if (v.name == n) return &v;
  }
  return nullptr;
}

Catalogue Catalogue::parse(std::string_view yaml) {
  Catalogue c;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(std::string("probes/catalogue.yaml: ") + e.what());
  }
  if (!root["probes"] || !root["probes"].IsSequence())
    throw std::runtime_error("probes/catalogue.yaml: no 'probes' list");
  for (const auto& n : root["probes"]) {
    ProbeSpec s;
    try {
      s.name = n["name"].as<std::string>();
      s.service = n["service"].as<std::string>(s.name);
      int port = n["port"].as<int>();
      if (port <= 0 || port > 65535) throw std::runtime_error("port out of range");
      s.port = static_cast<std::uint16_t>(port);
      s.codec_name = n["codec"].as<std::string>();
      s.description = n["description"].as<std::string>("");
      s.abusable = n["abusable"].as<bool>(true);
      s.reply_from_any_port = n["reply_from_any_port"].as<bool>(false);
      s.tshark = n["tshark"].as<std::string>("");
      s.min_baf = n["min_baf"].as<double>(2.0);
      for (const auto& v : n["variants"]) {
        Variant var;
        var.name = v["name"].as<std::string>();
        var.description = v["description"].as<std::string>("");
        if (v["params"]) {
          for (const auto& kv : v["params"]) var.params[kv.first.as<std::string>()] = kv.second.as<std::string>();
        }
        s.variants.push_back(std::move(var));
      }
    } catch (const std::exception& e) {
      throw std::runtime_error("probes/catalogue.yaml: entry '" + s.name + "': " + e.what());
    }
    s.codec = find_codec(s.codec_name);
    if (s.codec == nullptr) {
      throw std::runtime_error("probes/catalogue.yaml: entry '" + s.name + "': unknown codec '" + s.codec_name + "'");
    }
    if (s.variants.empty()) throw std::runtime_error("probes/catalogue.yaml: entry '" + s.name + "' has no variants");
    if (c.find(s.name)) throw std::runtime_error("probes/catalogue.yaml: duplicate entry '" + s.name + "'");
    c.probes_.push_back(std::move(s));
  }
  return c;
}

const Catalogue& Catalogue::instance(const std::string& data_dir) {
  static std::once_flag once;
  static Catalogue cat;
  std::call_once(once, [&] { cat = parse(core::load_data_file("probes/catalogue.yaml", data_dir)); });
  return cat;
}

const ProbeSpec* Catalogue::find(std::string_view name) const {
  for (const auto& p : probes_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<const ProbeSpec*> Catalogue::select(std::string_view name_or_service) const {
  std::vector<const ProbeSpec*> out;
  if (auto* p = find(name_or_service)) {
    out.push_back(p);
    return out;
  }
  for (const auto& p : probes_) {
    if (p.service == name_or_service) out.push_back(&p);
  }
  return out;
}

}  // namespace klartext::probe
