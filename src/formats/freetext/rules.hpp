// Classification rules for free text (data/rules/freetext.yaml): weighted patterns over evidence and words.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/taxonomy.hpp"
#include "formats/freetext/prefilter.hpp"

namespace klartext::formats::freetext {

// A compiled PCRE2 pattern (caseless, UTF, JIT when available) with bounded matching.
class Regex {
 public:
  explicit Regex(std::string_view pattern);  // throws std::runtime_error naming the pattern
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  bool search(std::string_view text) const;
  const std::string& pattern() const { return pattern_; }

  // The prefilter: the literals one of which every match contains (empty: always run).
  const std::vector<std::string>& literals() const { return literals_; }
  void set_literal_ids(std::vector<std::uint32_t> ids) { literal_ids_ = std::move(ids); }
  // Patterns with the same text share one id (RuleSet::distinct_patterns): a report's text is
  // searched once per distinct pattern, however many rules list it.
  std::uint32_t share_id() const { return share_id_; }
  void set_share_id(std::uint32_t id) { share_id_ = id; }
  // False only when the prefilter proves no match: none of the literals occurs in the text that
  // `found` (LiteralSet::scan_folding) was computed from.
  bool may_match(const std::vector<std::uint8_t>& found) const {
    if (literals_.empty()) return true;
    for (std::uint32_t id : literal_ids_) {
      if (found[id] != 0) return true;
    }
    return false;
  }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string pattern_;
  std::vector<std::string> literals_;
  std::vector<std::uint32_t> literal_ids_;
  std::uint32_t share_id_ = 0;
};

enum class Scope : std::uint8_t { kLines, kText, kSubject };

// Numbers computed from an address's evidence, usable as rule conditions.
enum class Feature : std::uint8_t { kDistinctDestinationPorts, kDistinctDestinationIps, kEvidenceLines };

struct WeightedPattern {
  Regex regex;
  double weight = 0;
  Scope scope = Scope::kLines;
};

struct FeatureCondition {
  Feature feature;
  std::uint64_t min = 0;
  double weight = 0;
};

struct Rule {
  std::string id;
  core::Classification classification;
  std::vector<WeightedPattern> evidence;  // what the logs/evidence show
  std::vector<WeightedPattern> words;     // what the report says (subject and body)
  std::vector<FeatureCondition> features;
  std::vector<Regex> veto;        // any match over subject+body: the rule does not apply
  bool require_evidence = false;  // words alone never suffice
};

struct RuleSet {
  double threshold = 0.6;
  double evidence_wins_at = 0.5;  // when some rule's evidence reaches this, rules whose evidence is
  double evidence_floor = 0.25;   // below this floor cannot win
  double conflict_margin = 0.15;  // two different classes this close: undetermined
  std::vector<Rule> rules;
  // Hosts whose links are references, never reported content (matched as domain suffixes).
  std::vector<std::string> url_ignore_hosts;
  // A line that singles out the URL it names ("Phishing URL: ..."); without one a URL stays undetermined.
  std::unique_ptr<Regex> url_report_line;
  std::unique_ptr<Regex> url_report_heading;  // "Phishing URLs:" singles out the URLs below it
  // The literals of every pattern and veto (see Regex::may_match).
  LiteralSet literals;
  std::size_t distinct_patterns = 0;  // share ids of the rules' patterns are below this
};

// Parses the YAML rules text; throws std::runtime_error naming the rule and field on bad input.
RuleSet parse_rules(std::string_view yaml_text);
// The rules from data/rules/freetext.yaml (embedded, or `data_dir` override), loaded once per dir.
const RuleSet& rules_for(const std::string& data_dir);

// What one address's evidence looks like to the rules.
struct Evidence {
  std::vector<std::string_view> lines;  // the lines that mention the address
  std::uint64_t distinct_destination_ports = 0;
  std::uint64_t distinct_destination_ips = 0;
};

struct RuleScore {
  const Rule* rule = nullptr;
  double evidence = 0;
  double words = 0;
  double total() const { return evidence + words > 1.0 ? 1.0 : evidence + words; }
};

struct Verdict {
  core::Classification classification = core::Classification::undetermined();
  double confidence = 0;          // score of the chosen rule, or the best score below the threshold
  const Rule* rule = nullptr;     // null when undetermined
  std::string reason;             // why undetermined: "below-threshold", "conflict", "no-rule"
  std::vector<RuleScore> scores;  // every rule that scored, best first
};

// Caches the word scores of one report (they are the same for every address in it).
class Classifier {
 public:
  Classifier(const RuleSet& rules, std::string_view subject, std::string_view text);
  Verdict classify(const Evidence& evidence) const;

 private:
  const RuleSet& rules_;
  std::vector<double> words_;    // per rule
  std::vector<double> text_ev_;  // text-scoped evidence per rule
  std::vector<bool> vetoed_;
  std::vector<std::uint8_t> found_;  // literals occurring in the text (LiteralSet::scan_folding)
  // Results per share id over the subject and over the text: -1 not yet searched, else 0/1.
  std::vector<std::int8_t> subject_memo_, text_memo_;
};

}  // namespace klartext::formats::freetext
