// The knowledge base: amplifier services and per-incident plain-language texts, loaded from data/knowledge/.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/taxonomy.hpp"

namespace klartext::knowledge {

// Plain-language texts for one incident identifier in one language. The texts may contain the
// placeholders listed at TextVars; letters pass them through render() before use.
struct LocalizedText {
  std::string title;        // one line: "Your NTP server can be abused as a DDoS amplifier"
  std::string explanation;  // what it is and why it matters, for a non-expert
  std::string remediation;  // concrete steps (may contain config snippets)
  std::string check;        // how to verify the fix from outside
};

// Values for the placeholders a knowledge text may use. The set is closed: the loader rejects any
// other {{name}} so that a typo cannot reach a customer.
//   {{ip}}          the reported address (source.ip of the case)
//   {{identifier}}  classification.identifier as the reporter named it (e.g. "avalanche-andromeda")
//   {{malware}}     malware.name; when empty, the identifier is used (sinkhole reports put the
//                   family in both)
struct TextVars {
  std::string ip;
  std::string identifier;
  std::string malware;
};
inline constexpr std::string_view kPlaceholders[] = {"ip", "identifier", "malware"};

// Substitutes the placeholders. An empty value renders as the placeholder name in upper case
// ("IP"), which reads as a fill-in in a letter rather than as a gap.
std::string render(std::string_view text, const TextVars& vars);
LocalizedText render(const LocalizedText& text, const TextVars& vars);

// A service that can be abused for reflection/amplification DDoS.
struct Amplifier {
  std::string identifier;            // classification.identifier, e.g. "ntp-monitor"
  std::vector<std::string> aliases;  // other names reports use: Shadowserver report types, old identifiers
  std::string service;               // "ntp"
  std::string transport = "udp";
  std::uint16_t port = 0;                     // 0 = varies (data says `port: varies`)
  double baf_typical = 0;                     // bandwidth amplification factor, typical (literature); 0 = unknown
  double baf_max = 0;                         // worst case seen in the literature; 0 = unknown
  double paf = 0;                             // packet amplification factor, 0 = unknown
  std::string source;                         // where the factors come from (e.g. "Rossow NDSS 2014, Table 1")
  std::string probe;                          // probe catalogue entry that verifies it, empty if none
  std::map<std::string, LocalizedText> text;  // by language code: "de", "en"
};

// Texts for identifiers that are not amplifiers (infected systems, spam, brute force, ...).
// An entry is either identifier-level (identifier + aliases) or type-level (`type`, identifier
// empty): a type-level entry applies to every identifier of that RSIT type that has no
// identifier-level entry, and its text names the reporter's identifier via {{identifier}} or
// {{malware}}. Only specific types may be type-level (never other/undetermined/test/
// vulnerable-system), so there is no catch-all.
struct IncidentText {
  std::string identifier;  // e.g. "spam-url"; empty for a type-level entry
  std::vector<std::string> aliases;
  std::optional<core::IncidentType> type;  // set for type-level entries only
  std::map<std::string, LocalizedText> text;
};

// A Shadowserver report that has amplification columns but is deliberately not an amplifier.
struct NotAmplifier {
  std::string report;
  std::string reason;
};

class KnowledgeBase {
 public:
  // Loads data/knowledge/*.yaml from `data_dir` (file by file, if present) or the embedded copy.
  // Throws std::runtime_error naming file, line and entry on malformed data.
  static const KnowledgeBase& instance(const std::string& data_dir = {});
  static KnowledgeBase load(const std::string& data_dir);
  // Parses the two documents directly (`*_name` is used in error messages).
  static KnowledgeBase parse(std::string_view amplifiers_yaml, std::string_view incidents_yaml,
                             std::string_view amplifiers_name = "knowledge/amplifiers.yaml",
                             std::string_view incidents_name = "knowledge/incidents.yaml");

  const std::vector<Amplifier>& amplifiers() const { return amplifiers_; }
  const std::vector<IncidentText>& incidents() const { return incidents_; }
  const std::vector<NotAmplifier>& not_amplifiers() const { return not_amplifiers_; }

  // By identifier or alias (case-insensitive); nullptr if none. To classify a Shadowserver row,
  // look up its report type (file_name, e.g. "scan_ntpmonitor"): the schema identifier alone is
  // ambiguous for open-ldap (scan_ldap_udp is CLDAP, scan_ldap_tcp is not an amplifier).
  const Amplifier* find_amplifier(std::string_view name) const;
  // Identifier-level incident entry by identifier or alias; nullptr if none.
  const IncidentText* find_incident(std::string_view identifier) const;
  // Identifier-specific text for a classification in `lang`; nullptr when there is none (the
  // letter then says honestly what the reporter called it: there is no generic fallback).
  // Order: ddos-amplifier -> amplifier table; identifier-level incident entry; vulnerable-system
  // -> amplifier table (the same services before reclassification); type-level entry of c.type.
  const LocalizedText* find_text(const core::Classification& c, std::string_view lang) const;

 private:
  std::vector<Amplifier> amplifiers_;
  std::vector<IncidentText> incidents_;
  std::vector<NotAmplifier> not_amplifiers_;
  std::map<std::string, std::size_t> amplifier_index_;  // lower-case identifier/alias -> index
  std::map<std::string, std::size_t> incident_index_;   // lower-case identifier/alias -> index
};

}  // namespace klartext::knowledge
