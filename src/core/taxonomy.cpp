// The RSIT tables (machinev1, version 1003), declared once.
#include "core/taxonomy.hpp"

#include <array>

namespace klartext::core {
namespace {

using enum Taxonomy;

constexpr std::array kTaxonomies = {
    TaxonomyInfo{kAbusiveContent, "abusive-content", "Abusive Content"},
    TaxonomyInfo{kMaliciousCode, "malicious-code", "Malicious Code"},
    TaxonomyInfo{kInformationGathering, "information-gathering", "Information Gathering"},
    TaxonomyInfo{kIntrusionAttempts, "intrusion-attempts", "Intrusion Attempts"},
    TaxonomyInfo{kIntrusions, "intrusions", "Intrusions"},
    TaxonomyInfo{kAvailability, "availability", "Availability"},
    TaxonomyInfo{kInformationContentSecurity, "information-content-security", "Information Content Security"},
    TaxonomyInfo{kFraud, "fraud", "Fraud"},
    TaxonomyInfo{kVulnerable, "vulnerable", "Vulnerable"},
    TaxonomyInfo{Taxonomy::kOther, "other", "Other"},
    TaxonomyInfo{Taxonomy::kTest, "test", "Test"},
};

using T = IncidentType;
constexpr std::array kTypes = {
    TypeInfo{T::kSpam, kAbusiveContent, "spam", "Spam"},
    TypeInfo{T::kHarmfulSpeech, kAbusiveContent, "harmful-speech", "Harmful Speech"},
    TypeInfo{T::kViolence, kAbusiveContent, "violence", "(Child) Sexual Exploitation/Sexual/Violent Content"},
    TypeInfo{T::kInfectedSystem, kMaliciousCode, "infected-system", "Infected System"},
    TypeInfo{T::kC2Server, kMaliciousCode, "c2-server", "C2 Server"},
    TypeInfo{T::kMalwareDistribution, kMaliciousCode, "malware-distribution", "Malware Distribution"},
    TypeInfo{T::kMalwareConfiguration, kMaliciousCode, "malware-configuration", "Malware Configuration"},
    TypeInfo{T::kScanner, kInformationGathering, "scanner", "Scanning"},
    TypeInfo{T::kSniffing, kInformationGathering, "sniffing", "Sniffing"},
    TypeInfo{T::kSocialEngineering, kInformationGathering, "social-engineering", "Social Engineering"},
    TypeInfo{T::kIdsAlert, kIntrusionAttempts, "ids-alert", "Exploitation of known Vulnerabilities"},
    TypeInfo{T::kBruteForce, kIntrusionAttempts, "brute-force", "Login attempts"},
    TypeInfo{T::kExploit, kIntrusionAttempts, "exploit", "New attack signature"},
    TypeInfo{T::kPrivilegedAccountCompromise, kIntrusions, "privileged-account-compromise",
             "Privileged Account Compromise"},
    TypeInfo{T::kUnprivilegedAccountCompromise, kIntrusions, "unprivileged-account-compromise",
             "Unprivileged Account Compromise"},
    TypeInfo{T::kApplicationCompromise, kIntrusions, "application-compromise", "Application Compromise"},
    TypeInfo{T::kSystemCompromise, kIntrusions, "system-compromise", "System Compromise"},
    TypeInfo{T::kBurglary, kIntrusions, "burglary", "Burglary"},
    TypeInfo{T::kDos, kAvailability, "dos", "Denial of Service"},
    TypeInfo{T::kDdos, kAvailability, "ddos", "Distributed Denial of Service"},
    TypeInfo{T::kMisconfiguration, kAvailability, "misconfiguration", "Misconfiguration"},
    TypeInfo{T::kSabotage, kAvailability, "sabotage", "Sabotage"},
    TypeInfo{T::kOutage, kAvailability, "outage", "Outage"},
    TypeInfo{T::kUnauthorisedInformationAccess, kInformationContentSecurity, "unauthorised-information-access",
             "Unauthorised access to information"},
    TypeInfo{T::kUnauthorisedInformationModification, kInformationContentSecurity,
             "unauthorised-information-modification", "Unauthorised modification of information"},
    TypeInfo{T::kDataLoss, kInformationContentSecurity, "data-loss", "Data Loss"},
    TypeInfo{T::kDataLeak, kInformationContentSecurity, "data-leak", "Leak of confidential information"},
    TypeInfo{T::kUnauthorisedUseOfResources, kFraud, "unauthorised-use-of-resources", "Unauthorised use of resources"},
    TypeInfo{T::kCopyright, kFraud, "copyright", "Copyright"},
    TypeInfo{T::kMasquerade, kFraud, "masquerade", "Masquerade"},
    TypeInfo{T::kPhishing, kFraud, "phishing", "Phishing"},
    TypeInfo{T::kWeakCrypto, kVulnerable, "weak-crypto", "Weak crypto"},
    TypeInfo{T::kDdosAmplifier, kVulnerable, "ddos-amplifier", "DDoS amplifier"},
    TypeInfo{T::kPotentiallyUnwantedAccessible, kVulnerable, "potentially-unwanted-accessible",
             "Potentially unwanted accessible services"},
    TypeInfo{T::kInformationDisclosure, kVulnerable, "information-disclosure", "Information disclosure"},
    TypeInfo{T::kVulnerableSystem, kVulnerable, "vulnerable-system", "Vulnerable system"},
    TypeInfo{T::kOther, Taxonomy::kOther, "other", "Other"},
    TypeInfo{T::kUndetermined, Taxonomy::kOther, "undetermined", "Undetermined"},
    TypeInfo{T::kTest, Taxonomy::kTest, "test", "Test"},
};

}  // namespace

std::span<const TaxonomyInfo> all_taxonomies() {
  return kTaxonomies;
}
std::span<const TypeInfo> all_types() {
  return kTypes;
}

std::string_view to_string(Taxonomy t) {
  // The tables list the enumerators in their order: the entry at the value's index is the one.
  const auto at = static_cast<std::size_t>(t);
  if (at < kTaxonomies.size() && kTaxonomies[at].value == t) return kTaxonomies[at].name;
  for (const auto& i : kTaxonomies) {
    if (i.value == t) return i.name;
  }
  return "other";
}

std::string_view to_string(IncidentType t) {
  const auto at = static_cast<std::size_t>(t);
  if (at < kTypes.size() && kTypes[at].value == t) return kTypes[at].name;
  for (const auto& i : kTypes) {
    if (i.value == t) return i.name;
  }
  return "undetermined";
}

std::optional<Taxonomy> parse_taxonomy(std::string_view name) {
  for (const auto& i : kTaxonomies) {
    if (i.name == name) return i.value;
  }
  return std::nullopt;
}

std::optional<IncidentType> parse_incident_type(std::string_view name) {
  for (const auto& i : kTypes) {
    if (i.name == name) return i.value;
  }
  return std::nullopt;
}

Taxonomy taxonomy_of(IncidentType t) {
  const auto at = static_cast<std::size_t>(t);
  if (at < kTypes.size() && kTypes[at].value == t) return kTypes[at].taxonomy;
  for (const auto& i : kTypes) {
    if (i.value == t) return i.taxonomy;
  }
  return Taxonomy::kOther;
}

Classification Classification::undetermined(std::string identifier) {
  return Classification{Taxonomy::kOther, IncidentType::kUndetermined, std::move(identifier)};
}

Classification Classification::of(IncidentType type, std::string identifier) {
  return Classification{taxonomy_of(type), type, std::move(identifier)};
}

std::optional<Classification> Classification::parse(std::string_view taxonomy, std::string_view type,
                                                    std::string_view identifier) {
  auto ty = parse_incident_type(type);
  if (!ty) return std::nullopt;
  if (!taxonomy.empty()) {
    auto tx = parse_taxonomy(taxonomy);
    if (!tx || *tx != taxonomy_of(*ty)) return std::nullopt;
  }
  return Classification::of(*ty, std::string(identifier));
}

std::string Classification::to_string() const {
  std::string s(core::to_string(taxonomy));
  s += '/';
  s += core::to_string(type);
  if (!identifier.empty()) {
    s += '/';
    s += identifier;
  }
  return s;
}

}  // namespace klartext::core
