// Data-driven tests of the free-text rules: every rule in data/rules/freetext.yaml has a case in
// tests/data/freetext/rule_cases.yaml, and every case comes out as expected.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <set>

#include "core/embedded.hpp"
#include "formats/freetext/freetext.hpp"
#include "formats/freetext/rules.hpp"

namespace klartext::formats::freetext {
namespace {

class Collect : public Sink {
 public:
  void on_event(const core::Event& e) override { events.push_back(e); }
  void on_issue(const ParseIssue& i) override { issues.push_back(i); }
  std::vector<core::Event> events;
  std::vector<ParseIssue> issues;
};

std::vector<core::Event> run(std::string_view subject, std::string_view body) {
  Collect sink;
  ParseOptions options;
  Input input{"case", "case.txt", body, {}};
  ParseContext ctx(sink, options, input);
  TextReport report{subject, body, "reporter@example.org", core::Timestamp::parse("2026-11-28T12:00:00Z"),
                    "example.org"};
  parse_free_text(ctx, report);
  return sink.events;
}

YAML::Node cases() {
  return YAML::LoadFile(std::string(KLARTEXT_TEST_DATA) + "/freetext/rule_cases.yaml")["cases"];
}

TEST(FreetextRules, RulesFileLoads) {
  const RuleSet& rules = rules_for({});
  EXPECT_GE(rules.rules.size(), 10u);
  EXPECT_GT(rules.threshold, 0.0);
}

TEST(FreetextRules, EveryRuleHasACase) {
  std::set<std::string> covered;
  for (const auto& c : cases()) covered.insert(c["rule"].as<std::string>());
  for (const Rule& r : rules_for({}).rules) EXPECT_TRUE(covered.count(r.id)) << "rule without a case: " << r.id;
}

TEST(FreetextRules, Cases) {
  const RuleSet& rules = rules_for({});
  for (const auto& c : cases()) {
    std::string rule = c["rule"].as<std::string>();
    std::string ip = c["ip"].as<std::string>();
    std::string expect = c["expect"].as<std::string>();
    auto events = run(c["subject"].as<std::string>(""), c["body"].as<std::string>());
    const core::Event* found = nullptr;
    for (const auto& e : events) {
      if (e.source_ip() && e.source_ip()->to_string() == ip) found = &e;
    }
    ASSERT_NE(found, nullptr) << "rule " << rule << ": no event for " << ip;
    std::string got = found->classification().to_string();
    if (expect == "other/undetermined") {
      EXPECT_TRUE(found->classification().is_undetermined()) << "rule " << rule << " ip " << ip << ": got " << got;
    } else {
      EXPECT_EQ(got, expect) << "rule " << rule << " ip " << ip << " scores "
                             << found->get("extra.rule_scores").value_or("");
    }
    if (rule != "none") {
      bool exists = false;
      for (const Rule& r : rules.rules) exists = exists || r.id == rule;
      EXPECT_TRUE(exists) << "case names unknown rule " << rule;
    }
  }
}

TEST(FreetextRules, BadRulesAreRejected) {
  EXPECT_THROW(parse_rules("rules: [{id: x, class: spam, type: spam}]"), std::runtime_error);
  EXPECT_THROW(parse_rules("rules: [{id: x, class: other, type: undetermined}]"), std::runtime_error);
  EXPECT_THROW(parse_rules("rules: [{id: x, class: abusive-content, type: spam, words: [{pattern: '(', weight: 1}]}]"),
               std::runtime_error);
  EXPECT_THROW(parse_rules("threshold: 0.5"), std::runtime_error);
}

TEST(FreetextRules, ConflictIsUndetermined) {
  RuleSet set = parse_rules(R"(
threshold: 0.5
conflict_margin: 0.2
rules:
  - {id: a, class: abusive-content, type: spam, identifier: a, words: [{pattern: 'alpha', weight: 0.6}]}
  - {id: b, class: fraud, type: phishing, identifier: b, words: [{pattern: 'beta', weight: 0.6}]}
)");
  Classifier both(set, "", "alpha beta");
  Verdict v = both.classify({});
  EXPECT_TRUE(v.classification.is_undetermined());
  EXPECT_EQ(v.reason.rfind("conflict", 0), 0u);
  Classifier one(set, "", "alpha");
  EXPECT_EQ(one.classify({}).classification.to_string(), "abusive-content/spam/a");
}

TEST(FreetextRules, EvidenceBeatsWords) {
  RuleSet set = parse_rules(R"(
threshold: 0.5
rules:
  - {id: words, class: abusive-content, type: spam, identifier: w, words: [{pattern: 'spam', weight: 0.9}]}
  - {id: ev, class: intrusion-attempts, type: brute-force, identifier: e, evidence: [{pattern: 'sshd', weight: 0.6}]}
)");
  Classifier c(set, "spam", "spam");
  Evidence ev;
  ev.lines = {"sshd[1]: Failed password"};
  EXPECT_EQ(c.classify(ev).classification.to_string(), "intrusion-attempts/brute-force/e");
  EXPECT_EQ(c.classify({}).classification.to_string(), "abusive-content/spam/w");
}

TEST(FreetextRules, PatternsStayFastOnHostileText) {
  std::string text(1 << 20, 'a');
  Regex r("(a+)+b");  // catastrophic backtracking without limits
  EXPECT_FALSE(r.search(text));
}

}  // namespace
}  // namespace klartext::formats::freetext
