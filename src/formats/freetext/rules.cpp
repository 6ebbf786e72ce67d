// Loading and scoring the free-text classification rules (PCRE2 patterns from a YAML file).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "formats/freetext/rules.hpp"

#include <pcre2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>

#include "core/embedded.hpp"

namespace klartext::formats::freetext {

struct Regex::Impl {
  struct CodeFree {
    void operator()(pcre2_code* c) const { pcre2_code_free(c); }
  };
  struct ContextFree {
    void operator()(pcre2_match_context* c) const { pcre2_match_context_free(c); }
  };
  std::unique_ptr<pcre2_code, CodeFree> code;
  std::unique_ptr<pcre2_match_context, ContextFree> context;
};

Regex::Regex(std::string_view pattern)
    : impl_(std::make_unique<Impl>()), pattern_(pattern), literals_(required_literals(pattern)) {
  int err = 0;
  PCRE2_SIZE where = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_CASELESS | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &where, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    throw std::runtime_error("bad pattern '" + pattern_ + "' at " + std::to_string(where) + ": " +
                             reinterpret_cast<const char*>(msg));
  }
  impl_->code.reset(code);
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter when JIT is unavailable
  impl_->context.reset(pcre2_match_context_create(nullptr));
  // Hostile text must not make matching slow: bounded backtracking, failure counts as no match.
  pcre2_set_match_limit(impl_->context.get(), 200'000);
  pcre2_set_depth_limit(impl_->context.get(), 5'000);
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

bool Regex::search(std::string_view text) const {
  struct DataFree {
    void operator()(pcre2_match_data* d) const { pcre2_match_data_free(d); }
  };
  thread_local std::unique_ptr<pcre2_match_data, DataFree> data(pcre2_match_data_create(1, nullptr));
  int rc = pcre2_match(impl_->code.get(), reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0, 0, data.get(),
                       impl_->context.get());
  return rc >= 0;
}

namespace {

std::string where(const YAML::Node& n) {
  return "line " + std::to_string(n.Mark().line + 1);
}

Scope parse_scope(const std::string& s, const std::string& rule) {
  if (s == "lines") return Scope::kLines;
  if (s == "text") return Scope::kText;
  if (s == "subject") return Scope::kSubject;
  throw std::runtime_error("rule " + rule + ": unknown scope '" + s + "' (lines, text, subject)");
}

std::vector<WeightedPattern> parse_patterns(const YAML::Node& list, const std::string& rule, Scope default_scope) {
  std::vector<WeightedPattern> out;
  if (!list) return out;
  if (!list.IsSequence()) throw std::runtime_error("rule " + rule + ": patterns must be a list, " + where(list));
  for (const auto& p : list) {
    if (!p["pattern"] || !p["weight"]) {
      throw std::runtime_error("rule " + rule + ": each pattern needs 'pattern' and 'weight', " + where(p));
    }
    Scope scope = p["in"] ? parse_scope(p["in"].as<std::string>(), rule) : default_scope;
    out.push_back({Regex(p["pattern"].as<std::string>()), p["weight"].as<double>(), scope});
  }
  return out;
}

Feature parse_feature(const std::string& s, const std::string& rule) {
  if (s == "distinct_destination_ports") return Feature::kDistinctDestinationPorts;
  if (s == "distinct_destination_ips") return Feature::kDistinctDestinationIps;
  if (s == "evidence_lines") return Feature::kEvidenceLines;
  throw std::runtime_error("rule " + rule + ": unknown feature '" + s + "'");
}

// Bounded: the first lines carry the pattern if any do (logs repeat themselves).
constexpr std::size_t kMaxEvidenceLines = 500;

bool any_line(const Regex& r, const std::vector<std::string_view>& lines) {
  std::size_t n = 0;
  for (std::string_view l : lines) {
    if (r.search(l)) return true;
    if (++n >= kMaxEvidenceLines) break;
  }
  return false;
}

double capped(double v) {
  return v > 1.0 ? 1.0 : v;
}

}  // namespace

RuleSet parse_rules(std::string_view yaml_text) {
  YAML::Node root = YAML::Load(std::string(yaml_text));
  RuleSet set;
  if (root["threshold"]) set.threshold = root["threshold"].as<double>();
  if (root["evidence_wins_at"]) set.evidence_wins_at = root["evidence_wins_at"].as<double>();
  if (root["evidence_floor"]) set.evidence_floor = root["evidence_floor"].as<double>();
  if (root["conflict_margin"]) set.conflict_margin = root["conflict_margin"].as<double>();
  if (root["url_report_line"]) set.url_report_line = std::make_unique<Regex>(root["url_report_line"].as<std::string>());
  if (root["url_report_heading"]) {
    set.url_report_heading = std::make_unique<Regex>(root["url_report_heading"].as<std::string>());
  }
  if (root["url_ignore_hosts"]) {
    for (const auto& h : root["url_ignore_hosts"]) set.url_ignore_hosts.push_back(h.as<std::string>());
  }
  if (!root["rules"] || !root["rules"].IsSequence()) throw std::runtime_error("rules file has no 'rules' list");
  for (const auto& r : root["rules"]) {
    Rule rule;
    if (!r["id"]) throw std::runtime_error("rule without id at " + where(r));
    rule.id = r["id"].as<std::string>();
    auto c = core::Classification::parse(r["class"] ? r["class"].as<std::string>() : "",
                                         r["type"] ? r["type"].as<std::string>() : "",
                                         r["identifier"] ? r["identifier"].as<std::string>() : "");
    if (!c) throw std::runtime_error("rule " + rule.id + ": unknown or inconsistent class/type");
    if (c->is_undetermined()) throw std::runtime_error("rule " + rule.id + ": a rule must name a specific class");
    rule.classification = *c;
    rule.evidence = parse_patterns(r["evidence"], rule.id, Scope::kLines);
    rule.words = parse_patterns(r["words"], rule.id, Scope::kText);
    if (r["features"]) {
      for (const auto& f : r["features"]) {
        rule.features.push_back({parse_feature(f["feature"].as<std::string>(), rule.id), f["min"].as<std::uint64_t>(),
                                 f["weight"].as<double>()});
      }
    }
    if (r["veto"]) {
      for (const auto& v : r["veto"]) rule.veto.emplace_back(v.as<std::string>());
    }
    if (r["require_evidence"]) rule.require_evidence = r["require_evidence"].as<bool>();
    for (const Rule& other : set.rules) {
      if (other.id == rule.id) throw std::runtime_error("duplicate rule id " + rule.id);
    }
    set.rules.push_back(std::move(rule));
  }
  // The prefilter serves every pattern: the ones over the whole text (subject and text scope,
  // vetoes) with a scan of the text, the line-scoped ones with a scan of an address's lines.
  std::map<std::string, std::uint32_t, std::less<>> share_ids;
  auto attach = [&set, &share_ids](Regex& r) {
    std::vector<std::uint32_t> ids;
    for (const std::string& l : r.literals()) ids.push_back(set.literals.add(l));
    r.set_literal_ids(std::move(ids));
    auto [it, inserted] = share_ids.try_emplace(r.pattern(), static_cast<std::uint32_t>(share_ids.size()));
    r.set_share_id(it->second);
  };
  for (Rule& r : set.rules) {
    for (Regex& v : r.veto) attach(v);
    for (auto& p : r.words) attach(p.regex);
    for (auto& p : r.evidence) attach(p.regex);
  }
  set.distinct_patterns = share_ids.size();
  set.literals.build();
  return set;
}

const RuleSet& rules_for(const std::string& data_dir) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<RuleSet>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[data_dir];
  if (!slot) slot = std::make_unique<RuleSet>(parse_rules(core::load_data_file("rules/freetext.yaml", data_dir)));
  return *slot;
}

Classifier::Classifier(const RuleSet& rules, std::string_view subject, std::string_view text)
    : rules_(rules),
      words_(rules.rules.size()),
      text_ev_(rules.rules.size()),
      vetoed_(rules.rules.size()),
      subject_memo_(rules.distinct_patterns, -1),
      text_memo_(rules.distinct_patterns, -1) {
  // One scan serves both scopes (a literal spanning the joint only makes a pattern run).
  const std::string_view both[] = {subject, text};
  rules.literals.scan_folding(both, found_);
  auto matches = [&](const Regex& r, Scope scope) {
    bool in_subject = scope == Scope::kSubject;
    std::int8_t& memo = (in_subject ? subject_memo_ : text_memo_)[r.share_id()];
    if (memo < 0) memo = r.may_match(found_) && r.search(in_subject ? subject : text) ? 1 : 0;
    return memo == 1;
  };
  for (std::size_t i = 0; i < rules.rules.size(); ++i) {
    const Rule& r = rules.rules[i];
    for (const Regex& v : r.veto) {
      if (matches(v, Scope::kText)) vetoed_[i] = true;
    }
    if (vetoed_[i]) continue;
    double w = 0;
    for (const auto& p : r.words) {
      if (matches(p.regex, p.scope)) w += p.weight;
    }
    words_[i] = capped(w);
    double e = 0;
    for (const auto& p : r.evidence) {
      if (p.scope == Scope::kLines) continue;
      if (matches(p.regex, p.scope)) e += p.weight;
    }
    text_ev_[i] = e;
  }
}

Verdict Classifier::classify(const Evidence& ev) const {
  Verdict v;
  // The literals of the lines the patterns will search (a literal spanning two lines only makes a
  // pattern run), and each distinct line pattern searched once.
  std::vector<std::uint8_t> found;
  rules_.literals.scan_folding(
      std::span<const std::string_view>(ev.lines.data(), std::min(ev.lines.size(), kMaxEvidenceLines)), found);
  std::vector<std::int8_t> memo(rules_.distinct_patterns, -1);
  for (std::size_t i = 0; i < rules_.rules.size(); ++i) {
    if (vetoed_[i]) continue;
    const Rule& r = rules_.rules[i];
    double e = text_ev_[i];
    for (const auto& p : r.evidence) {
      if (p.scope != Scope::kLines) continue;
      std::int8_t& m = memo[p.regex.share_id()];
      if (m < 0) m = p.regex.may_match(found) && any_line(p.regex, ev.lines) ? 1 : 0;
      if (m == 1) e += p.weight;
    }
    for (const auto& f : r.features) {
      std::uint64_t value = f.feature == Feature::kDistinctDestinationPorts ? ev.distinct_destination_ports
                            : f.feature == Feature::kDistinctDestinationIps ? ev.distinct_destination_ips
                                                                            : ev.lines.size();
      if (value >= f.min) e += f.weight;
    }
    RuleScore s{&r, capped(e), words_[i]};
    if (s.total() > 0) v.scores.push_back(s);
  }
  std::stable_sort(v.scores.begin(), v.scores.end(),
                   [](const RuleScore& a, const RuleScore& b) { return a.total() > b.total(); });
  double max_ev = 0;
  for (const auto& s : v.scores) max_ev = std::max(max_ev, s.evidence);
  std::vector<const RuleScore*> eligible;
  for (const auto& s : v.scores) {
    if (s.rule->require_evidence && s.evidence <= 0) continue;
    // The evidence wins over the report's words: with strong evidence for one reading, a rule
    // that only the words support cannot win.
    if (max_ev >= rules_.evidence_wins_at && s.evidence < rules_.evidence_floor) continue;
    eligible.push_back(&s);
  }
  if (!v.scores.empty()) v.confidence = v.scores.front().total();
  if (eligible.empty() || eligible.front()->total() < rules_.threshold) {
    v.reason = v.scores.empty() ? "no-rule" : "below-threshold";
    if (!eligible.empty()) v.confidence = eligible.front()->total();
    return v;
  }
  const RuleScore& best = *eligible.front();
  for (std::size_t k = 1; k < eligible.size(); ++k) {
    const RuleScore& other = *eligible[k];
    if (other.total() < rules_.threshold) break;
    // Rules of one type agree unless both have their own evidence for different identifiers
    // ("memcached and SSDP" on the line of one address): then neither identifier is known.
    bool same_kind = other.rule->classification.type == best.rule->classification.type &&
                     (other.rule->classification.identifier == best.rule->classification.identifier ||
                      other.evidence <= 0 || best.evidence <= 0);
    if (!same_kind && best.total() - other.total() < rules_.conflict_margin) {
      v.reason = "conflict:" + best.rule->id + "," + other.rule->id;
      v.confidence = best.total();
      return v;
    }
  }
  v.classification = best.rule->classification;
  v.confidence = best.total();
  v.rule = best.rule;
  return v;
}

}  // namespace klartext::formats::freetext
