// The RSIT taxonomy (classes and types) as validated enums, plus the precise identifier.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace klartext::core {

enum class Taxonomy {
  kAbusiveContent,
  kMaliciousCode,
  kInformationGathering,
  kIntrusionAttempts,
  kIntrusions,
  kAvailability,
  kInformationContentSecurity,
  kFraud,
  kVulnerable,
  kOther,
  kTest,
};

enum class IncidentType {
  kSpam,
  kHarmfulSpeech,
  kViolence,
  kInfectedSystem,
  kC2Server,
  kMalwareDistribution,
  kMalwareConfiguration,
  kScanner,
  kSniffing,
  kSocialEngineering,
  kIdsAlert,
  kBruteForce,
  kExploit,
  kPrivilegedAccountCompromise,
  kUnprivilegedAccountCompromise,
  kApplicationCompromise,
  kSystemCompromise,
  kBurglary,
  kDos,
  kDdos,
  kMisconfiguration,
  kSabotage,
  kOutage,
  kUnauthorisedInformationAccess,
  kUnauthorisedInformationModification,
  kDataLoss,
  kDataLeak,
  kUnauthorisedUseOfResources,
  kCopyright,
  kMasquerade,
  kPhishing,
  kWeakCrypto,
  kDdosAmplifier,
  kPotentiallyUnwantedAccessible,
  kInformationDisclosure,
  kVulnerableSystem,
  kOther,
  kUndetermined,
  kTest,
};

struct TaxonomyInfo {
  Taxonomy value;
  std::string_view name;      // RSIT machine value, e.g. "vulnerable"
  std::string_view expanded;  // e.g. "Vulnerable"
};

struct TypeInfo {
  IncidentType value;
  Taxonomy taxonomy;          // the class this type belongs to
  std::string_view name;      // e.g. "ddos-amplifier"
  std::string_view expanded;  // e.g. "DDoS amplifier"
};

std::span<const TaxonomyInfo> all_taxonomies();
std::span<const TypeInfo> all_types();

std::string_view to_string(Taxonomy t);
std::string_view to_string(IncidentType t);
std::optional<Taxonomy> parse_taxonomy(std::string_view name);
std::optional<IncidentType> parse_incident_type(std::string_view name);
Taxonomy taxonomy_of(IncidentType t);

// What an event is: RSIT class and type (always consistent) plus a precise identifier such as
// "ntp-monitor". An unknown report is other/undetermined, never a guessed class.
struct Classification {
  Taxonomy taxonomy = Taxonomy::kOther;
  IncidentType type = IncidentType::kUndetermined;
  std::string identifier;

  static Classification undetermined(std::string identifier = {});
  // Builds from a type (the class follows from it).
  static Classification of(IncidentType type, std::string identifier);
  // Validates "taxonomy"/"type" names from data; nullopt when unknown or inconsistent.
  static std::optional<Classification> parse(std::string_view taxonomy, std::string_view type,
                                             std::string_view identifier);

  bool is_undetermined() const { return type == IncidentType::kUndetermined; }
  // "vulnerable/ddos-amplifier/ntp-monitor"
  std::string to_string() const;

  bool operator==(const Classification&) const = default;
};

}  // namespace klartext::core
