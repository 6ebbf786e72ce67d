// Loading, validation and lookup of the knowledge base (data/knowledge/*.yaml).
#include "knowledge/knowledge.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <initializer_list>
#include <mutex>
#include <set>
#include <stdexcept>

#include "core/embedded.hpp"

namespace klartext::knowledge {
namespace {

constexpr std::string_view kAmplifiersPath = "knowledge/amplifiers.yaml";
constexpr std::string_view kIncidentsPath = "knowledge/incidents.yaml";
constexpr std::string_view kRequiredLanguages[] = {"de", "en"};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_language_key(const std::string& k) {
  return k.size() == 2 && std::islower(static_cast<unsigned char>(k[0])) &&
         std::islower(static_cast<unsigned char>(k[1]));
}

// Reads one YAML document and turns every problem into an error naming file, line and entry.
class Reader {
 public:
  explicit Reader(std::string_view file) : file_(file) {}

  YAML::Node parse(std::string_view text) const {
    try {
      return YAML::Load(std::string(text));
    } catch (const YAML::ParserException& e) {
      throw std::runtime_error(file_ + ":" + std::to_string(e.mark.line + 1) + ": YAML syntax error: " + e.msg);
    }
  }

  // Sets the entry the next errors refer to ("amplifier #3 (ntp-version)").
  void enter(std::string what) { entry_ = std::move(what); }

  [[noreturn]] void fail(const YAML::Node& at, const std::string& msg) const {
    std::string where = file_;
    if (at.IsDefined() && !at.Mark().is_null()) where += ":" + std::to_string(at.Mark().line + 1);
    if (!entry_.empty()) where += ": " + entry_;
    throw std::runtime_error(where + ": " + msg);
  }

  void only_keys(const YAML::Node& map, std::initializer_list<std::string_view> allowed, bool languages) const {
    if (!map.IsMap()) fail(map, "expected a mapping");
    for (const auto& kv : map) {
      const auto key = kv.first.as<std::string>();
      if (languages && is_language_key(key)) continue;
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        fail(kv.first, "unknown field '" + key + "'");
    }
  }

  std::string string(const YAML::Node& map, const char* key, bool required, bool non_empty = false) const {
    const YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) {
      if (required) fail(map, std::string("missing field '") + key + "'");
      return {};
    }
    if (!n.IsScalar()) fail(n, std::string("field '") + key + "' must be text");
    auto s = n.as<std::string>();
    if (non_empty && s.find_first_not_of(" \t\r\n") == std::string::npos) {
      fail(n, std::string("field '") + key + "' is empty");
    }
    return s;
  }

  double number(const YAML::Node& map, const char* key) const {
    const YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return 0;
    double v = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !(v >= 0)) {
      fail(n, std::string("field '") + key + "' must be a number >= 0 (0 = unknown)");
    }
    return v;
  }

  std::vector<std::string> list(const YAML::Node& map, const char* key) const {
    std::vector<std::string> out;
    const YAML::Node n = map[key];
    if (!n.IsDefined() || n.IsNull()) return out;
    if (!n.IsSequence()) fail(n, std::string("field '") + key + "' must be a list");
    for (const auto& x : n) {
      if (!x.IsScalar() || x.as<std::string>().empty()) fail(x, std::string("'") + key + "' entries must be text");
      out.push_back(x.as<std::string>());
    }
    return out;
  }

  void check_placeholders(const YAML::Node& at, const std::string& field, const std::string& text) const {
    for (std::size_t pos = text.find("{{"); pos != std::string::npos; pos = text.find("{{", pos + 2)) {
      const std::size_t end = text.find("}}", pos + 2);
      if (end == std::string::npos) fail(at, field + ": unterminated placeholder '{{'");
      const std::string name = text.substr(pos + 2, end - pos - 2);
      if (std::find(std::begin(kPlaceholders), std::end(kPlaceholders), name) == std::end(kPlaceholders)) {
        fail(at, field + ": unknown placeholder {{" + name + "}} (known: ip, identifier, malware)");
      }
    }
  }

  // The de/en/... blocks of an entry: de and en are required, every field non-empty.
  std::map<std::string, LocalizedText> texts(const YAML::Node& entry) const {
    std::map<std::string, LocalizedText> out;
    for (const auto& kv : entry) {
      const auto lang = kv.first.as<std::string>();
      if (!is_language_key(lang)) continue;
      const YAML::Node& t = kv.second;
      only_keys(t, {"title", "explanation", "remediation", "check"}, false);
      LocalizedText lt;
      lt.title = string(t, "title", true, true);
      lt.explanation = string(t, "explanation", true, true);
      lt.remediation = string(t, "remediation", true, true);
      lt.check = string(t, "check", true, true);
      if (lt.title.find('\n') != std::string::npos) fail(t["title"], lang + ".title must be one line");
      for (const auto& [name, value] : {std::pair{"title", &lt.title}, std::pair{"explanation", &lt.explanation},
                                        std::pair{"remediation", &lt.remediation}, std::pair{"check", &lt.check}}) {
        check_placeholders(t[name], lang + "." + name, *value);
      }
      out[lang] = std::move(lt);
    }
    for (auto lang : kRequiredLanguages) {
      if (!out.contains(std::string(lang))) fail(entry, "missing texts for language '" + std::string(lang) + "'");
    }
    return out;
  }

  // Registers `names` in a case-insensitive index; a name used twice is an error.
  void index(const YAML::Node& at, std::map<std::string, std::size_t>& idx, const std::vector<std::string>& names,
             std::size_t pos) const {
    for (const auto& n : names) {
      auto [it, inserted] = idx.emplace(lower(n), pos);
      if (inserted) continue;
      if (it->second == pos) fail(at, "name '" + n + "' is listed twice in this entry");
      fail(at, "name '" + n + "' is already used by entry #" + std::to_string(it->second + 1));
    }
  }

 private:
  std::string file_;
  std::string entry_;
};

std::uint16_t read_port(const Reader& r, const YAML::Node& entry) {
  const YAML::Node n = entry["port"];
  if (!n.IsDefined() || !n.IsScalar()) r.fail(entry, "missing field 'port' (a number, or 'varies')");
  const auto s = n.as<std::string>();
  if (s == "varies") return 0;
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v == 0 || v > 65535) {
    r.fail(n, "port must be 1..65535 or 'varies', got '" + s + "'");
  }
  return static_cast<std::uint16_t>(v);
}

const YAML::Node top_list(const Reader& r, const YAML::Node& root, const char* key, bool required) {
  if (!root.IsMap()) r.fail(root, "expected a mapping with '" + std::string(key) + ":' at the top");
  const YAML::Node n = root[key];
  if (!n.IsDefined() || n.IsNull()) {
    if (required) r.fail(root, "missing top-level list '" + std::string(key) + "'");
    return YAML::Node(YAML::NodeType::Sequence);
  }
  if (!n.IsSequence()) r.fail(n, "'" + std::string(key) + "' must be a list");
  return n;
}

}  // namespace

std::string render(std::string_view text, const TextVars& vars) {
  std::string out;
  out.reserve(text.size() + 32);
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t pos = text.find("{{", i);
    const std::size_t end = pos == std::string_view::npos ? pos : text.find("}}", pos + 2);
    if (pos == std::string_view::npos || end == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, pos - i));
    const std::string_view name = text.substr(pos + 2, end - pos - 2);
    const std::string* value = nullptr;
    if (name == "ip") value = &vars.ip;
    if (name == "identifier") value = &vars.identifier;
    if (name == "malware") value = vars.malware.empty() ? &vars.identifier : &vars.malware;
    if (value == nullptr) {
      out.append(text.substr(pos, end + 2 - pos));  // not ours: leave it for the template engine
    } else if (value->empty()) {
      for (char c : name) out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    } else {
      out.append(*value);
    }
    i = end + 2;
  }
  return out;
}

LocalizedText render(const LocalizedText& t, const TextVars& vars) {
  return {render(t.title, vars), render(t.explanation, vars), render(t.remediation, vars), render(t.check, vars)};
}

KnowledgeBase KnowledgeBase::parse(std::string_view amplifiers_yaml, std::string_view incidents_yaml,
                                   std::string_view amplifiers_name, std::string_view incidents_name) {
  KnowledgeBase kb;
  {
    Reader r(amplifiers_name);
    const YAML::Node root = r.parse(amplifiers_yaml);
    std::size_t i = 0;
    for (const auto& n : top_list(r, root, "amplifiers", true)) {
      r.enter("amplifier #" + std::to_string(i + 1));
      if (!n.IsMap()) r.fail(n, "expected a mapping");
      Amplifier a;
      a.identifier = r.string(n, "identifier", true, true);
      r.enter("amplifier #" + std::to_string(i + 1) + " (" + a.identifier + ")");
      r.only_keys(
          n,
          {"identifier", "aliases", "service", "transport", "port", "baf_typical", "baf_max", "paf", "source", "probe"},
          true);
      a.aliases = r.list(n, "aliases");
      a.service = r.string(n, "service", true, true);
      a.transport = r.string(n, "transport", false);
      if (a.transport.empty()) a.transport = "udp";
      if (a.transport != "udp" && a.transport != "tcp") r.fail(n["transport"], "transport must be udp or tcp");
      a.port = read_port(r, n);
      a.baf_typical = r.number(n, "baf_typical");
      a.baf_max = r.number(n, "baf_max");
      a.paf = r.number(n, "paf");
      if (a.baf_max != 0 && a.baf_max < a.baf_typical) r.fail(n, "baf_max is below baf_typical");
      a.source = r.string(n, "source", true, true);
      a.probe = r.string(n, "probe", false);
      a.text = r.texts(n);
      std::vector<std::string> names = {a.identifier};
      names.insert(names.end(), a.aliases.begin(), a.aliases.end());
      r.index(n, kb.amplifier_index_, names, i);
      kb.amplifiers_.push_back(std::move(a));
      ++i;
    }
    i = 0;
    for (const auto& n : top_list(r, root, "not_amplifiers", false)) {
      r.enter("not_amplifiers #" + std::to_string(++i));
      r.only_keys(n, {"report", "reason"}, false);
      NotAmplifier na{r.string(n, "report", true, true), r.string(n, "reason", true, true)};
      if (kb.find_amplifier(na.report) != nullptr) r.fail(n, "report '" + na.report + "' is also an amplifier");
      kb.not_amplifiers_.push_back(std::move(na));
    }
  }
  {
    Reader r(incidents_name);
    const YAML::Node root = r.parse(incidents_yaml);
    std::set<core::IncidentType> typed;
    std::size_t i = 0;
    for (const auto& n : top_list(r, root, "incidents", true)) {
      r.enter("incident #" + std::to_string(i + 1));
      if (!n.IsMap()) r.fail(n, "expected a mapping");
      IncidentText t;
      t.identifier = r.string(n, "identifier", false);
      const std::string type = r.string(n, "type", false);
      if (t.identifier.empty() == type.empty()) r.fail(n, "an entry has exactly one of 'identifier' or 'type'");
      if (!type.empty()) {
        r.enter("incident #" + std::to_string(i + 1) + " (type " + type + ")");
        auto parsed = core::parse_incident_type(type);
        if (!parsed) r.fail(n["type"], "unknown RSIT type '" + type + "'");
        using enum core::IncidentType;
        if (*parsed == kOther || *parsed == kUndetermined || *parsed == kTest || *parsed == kVulnerableSystem ||
            *parsed == kDdosAmplifier) {
          r.fail(n["type"], "type '" + type + "' is too broad for a type-level text (it would be a catch-all)");
        }
        if (!typed.insert(*parsed).second) r.fail(n["type"], "type '" + type + "' has two type-level entries");
        r.only_keys(n, {"type"}, true);
        t.type = parsed;
      } else {
        r.enter("incident #" + std::to_string(i + 1) + " (" + t.identifier + ")");
        t.aliases = r.list(n, "aliases");
        r.only_keys(n, {"identifier", "aliases"}, true);
        std::vector<std::string> names = {t.identifier};
        names.insert(names.end(), t.aliases.begin(), t.aliases.end());
        r.index(n, kb.incident_index_, names, i);
      }
      t.text = r.texts(n);
      kb.incidents_.push_back(std::move(t));
      ++i;
    }
  }
  return kb;
}

KnowledgeBase KnowledgeBase::load(const std::string& data_dir) {
  return parse(core::load_data_file(kAmplifiersPath, data_dir), core::load_data_file(kIncidentsPath, data_dir));
}

const KnowledgeBase& KnowledgeBase::instance(const std::string& data_dir) {
  static std::once_flag once;
  static KnowledgeBase kb;
  std::call_once(once, [&] { kb = load(data_dir); });
  return kb;
}

const Amplifier* KnowledgeBase::find_amplifier(std::string_view name) const {
  auto it = amplifier_index_.find(lower(name));
  return it == amplifier_index_.end() ? nullptr : &amplifiers_[it->second];
}

const IncidentText* KnowledgeBase::find_incident(std::string_view identifier) const {
  auto it = incident_index_.find(lower(identifier));
  return it == incident_index_.end() ? nullptr : &incidents_[it->second];
}

const LocalizedText* KnowledgeBase::find_text(const core::Classification& c, std::string_view lang) const {
  auto pick = [&](const std::map<std::string, LocalizedText>& m) -> const LocalizedText* {
    auto it = m.find(std::string(lang));
    return it == m.end() ? nullptr : &it->second;
  };
  using enum core::IncidentType;
  if (c.type == kDdosAmplifier) {
    if (const Amplifier* a = find_amplifier(c.identifier)) return pick(a->text);
  }
  if (!c.identifier.empty()) {
    if (const IncidentText* t = find_incident(c.identifier)) return pick(t->text);
  }
  if (c.type == kVulnerableSystem) {
    if (const Amplifier* a = find_amplifier(c.identifier)) return pick(a->text);
  }
  for (const auto& t : incidents_) {
    if (t.type && *t.type == c.type) return pick(t.text);
  }
  return nullptr;
}

}  // namespace klartext::knowledge
