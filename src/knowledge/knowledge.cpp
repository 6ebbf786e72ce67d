// Loading and lookup of the knowledge base (YAML data files).
#include "knowledge/knowledge.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include "core/embedded.hpp"

namespace klartext::knowledge {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::map<std::string, LocalizedText> read_texts(const YAML::Node& node) {
  std::map<std::string, LocalizedText> out;
  for (const char* lang : {"de", "en"}) {
    if (!node[lang]) continue;
    const YAML::Node& t = node[lang];
    LocalizedText lt;
    lt.title = t["title"].as<std::string>("");
    lt.explanation = t["explanation"].as<std::string>("");
    lt.remediation = t["remediation"].as<std::string>("");
    lt.check = t["check"].as<std::string>("");
    out[lang] = std::move(lt);
  }
  return out;
}

std::vector<std::string> read_list(const YAML::Node& n) {
  std::vector<std::string> v;
  if (n && n.IsSequence()) {
    for (const auto& x : n) v.push_back(x.as<std::string>());
  }
  return v;
}

}  // namespace

KnowledgeBase KnowledgeBase::load(const std::string& data_dir) {
  KnowledgeBase kb;
  const std::string amp_path = "knowledge/amplifiers.yaml";
  try {
    YAML::Node root = YAML::Load(core::load_data_file(amp_path, data_dir));
    for (const auto& n : root["amplifiers"]) {
      Amplifier a;
      a.identifier = n["identifier"].as<std::string>();
      a.aliases = read_list(n["aliases"]);
      a.service = n["service"].as<std::string>("");
      a.transport = n["transport"].as<std::string>("udp");
      a.port = n["port"].as<std::uint16_t>(0);
      a.baf_typical = n["baf_typical"].as<double>(0);
      a.baf_max = n["baf_max"].as<double>(0);
      a.paf = n["paf"].as<double>(0);
      a.source = n["source"].as<std::string>("");
      a.probe = n["probe"].as<std::string>("");
      a.text = read_texts(n);
      kb.amplifiers_.push_back(std::move(a));
    }
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(amp_path + ": " + e.what());
  }
  const std::string inc_path = "knowledge/incidents.yaml";
  if (core::embedded_file(inc_path) || !data_dir.empty()) {
    try {
      YAML::Node root = YAML::Load(core::load_data_file(inc_path, data_dir));
      for (const auto& n : root["incidents"]) {
        IncidentText t;
        t.identifier = n["identifier"].as<std::string>();
        t.aliases = read_list(n["aliases"]);
        t.text = read_texts(n);
        kb.incidents_.push_back(std::move(t));
      }
    } catch (const YAML::Exception& e) {
      throw std::runtime_error(inc_path + ": " + e.what());
    } catch (const std::runtime_error&) {
      // incidents.yaml is optional in an override directory
    }
  }
  return kb;
}

const KnowledgeBase& KnowledgeBase::instance(const std::string& data_dir) {
  static std::once_flag once;
  static KnowledgeBase kb;
  std::call_once(once, [&] { kb = load(data_dir); });
  return kb;
}

const Amplifier* KnowledgeBase::find_amplifier(std::string_view name) const {
  for (const auto& a : amplifiers_) {
    if (iequals(a.identifier, name)) return &a;
    for (const auto& al : a.aliases) {
      if (iequals(al, name)) return &a;
    }
  }
  return nullptr;
}

const LocalizedText* KnowledgeBase::find_text(const core::Classification& c, std::string_view lang) const {
  auto pick = [&](const std::map<std::string, LocalizedText>& m) -> const LocalizedText* {
    auto it = m.find(std::string(lang));
    return it == m.end() ? nullptr : &it->second;
  };
  if (c.type == core::IncidentType::kDdosAmplifier || c.type == core::IncidentType::kVulnerableSystem) {
    if (const Amplifier* a = find_amplifier(c.identifier)) return pick(a->text);
  }
  for (const auto& t : incidents_) {
    bool match = iequals(t.identifier, c.identifier);
    for (const auto& al : t.aliases) match = match || iequals(al, c.identifier);
    if (match) return pick(t.text);
  }
  return nullptr;
}

}  // namespace klartext::knowledge
