// The knowledge base: amplifier services and per-incident plain-language texts, loaded from data/knowledge/.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/taxonomy.hpp"

namespace klartext::knowledge {

// Plain-language texts for one incident identifier in one language.
struct LocalizedText {
  std::string title;        // one line: "Your NTP server can be abused as a DDoS amplifier"
  std::string explanation;  // what it is and why it matters, for a non-expert
  std::string remediation;  // concrete steps (may contain config snippets)
  std::string check;        // how to verify the fix from outside
};

// A UDP service that can be abused for reflection/amplification DDoS.
struct Amplifier {
  std::string identifier;            // classification.identifier, e.g. "ntp-monitor"
  std::vector<std::string> aliases;  // other names reports use: Shadowserver report types, old identifiers
  std::string service;               // "ntp"
  std::string transport = "udp";
  std::uint16_t port = 0;
  double baf_typical = 0;                     // bandwidth amplification factor, typical (literature)
  double baf_max = 0;                         // worst case seen in the literature
  double paf = 0;                             // packet amplification factor, 0 = unknown
  std::string source;                         // where the factors come from (e.g. "Rossow NDSS 2014, Table 1")
  std::string probe;                          // probe catalogue entry that verifies it, empty if none
  std::map<std::string, LocalizedText> text;  // by language code: "de", "en"
};

// Texts for identifiers that are not amplifiers (infected systems, spam, brute force, ...).
struct IncidentText {
  std::string identifier;  // e.g. "spam-url"; may also be a type name like "brute-force"
  std::vector<std::string> aliases;
  std::map<std::string, LocalizedText> text;
};

class KnowledgeBase {
 public:
  // Loads data/knowledge/*.yaml from `data_dir` (if given and present) or the embedded copy.
  // Throws std::runtime_error with file and reason on malformed data.
  static const KnowledgeBase& instance(const std::string& data_dir = {});
  static KnowledgeBase load(const std::string& data_dir);

  const std::vector<Amplifier>& amplifiers() const { return amplifiers_; }
  // By identifier or alias (case-insensitive); nullptr if none.
  const Amplifier* find_amplifier(std::string_view name) const;
  // Identifier-specific text for a classification in `lang`; nullptr when there is none (the
  // letter then says honestly what the reporter called it: there is no generic fallback).
  const LocalizedText* find_text(const core::Classification& c, std::string_view lang) const;

 private:
  std::vector<Amplifier> amplifiers_;
  std::vector<IncidentText> incidents_;
};

}  // namespace klartext::knowledge
