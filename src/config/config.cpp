// The TOML configuration: one table declares every key (name, member, help, validation); parsing,
// defaults (taken from the Config initializers), help and the example file all read that table.
#include "config/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <variant>

#include "core/ip.hpp"

namespace klartext::config {
namespace {

using StringMember = std::string Config::*;
using IntMember = std::int64_t Config::*;
using ListMember = std::vector<std::string> Config::*;
using LimitMember = std::uint64_t core::Limits::*;
using Member = std::variant<StringMember, IntMember, ListMember, LimitMember>;

enum class Check { kNone, kChoice, kIpPrefixes, kLanguage };

struct Key {
  std::string name;  // "section.key"
  Member member;
  std::string help;
  std::int64_t min = 0;              // integers
  Check check = Check::kNone;        // strings and lists
  std::vector<std::string> choices;  // Check::kChoice
};

std::vector<Key> make_keys() {
  std::vector<Key> k = {
      {"store.backend",
       &Config::store_backend,
       "where cases and reports are kept: sqlite or postgres",
       0,
       Check::kChoice,
       {"sqlite", "postgres"}},
      {"store.path", &Config::store_path, "SQLite database file (backend sqlite)"},
      {"store.dsn", &Config::store_dsn,
       "PostgreSQL connection string, e.g. \"host=db dbname=klartext\" (backend postgres)"},
      {"data.dir", &Config::data_dir,
       "directory whose files replace the built-in data file by file (knowledge/*.yaml, schemas, rules); empty: "
       "built-in only"},
      {"data.templates", &Config::template_dir,
       "directory whose letter templates replace the built-in ones file by file; empty: built-in only"},
      {"sender.name", &Config::sender_name, "display name in the From: header of letters"},
      {"sender.address", &Config::sender_address, "e-mail address letters are sent from"},
      {"sender.reply_to", &Config::reply_to, "Reply-To: address; empty: replies go to sender.address"},
      {"sender.organisation", &Config::organisation, "your organisation, named in the letters"},
      {"sender.default_language", &Config::default_language, "letter language for customers without one (de or en)", 0,
       Check::kLanguage},
      {"sender.default_time_zone", &Config::default_time_zone,
       "IANA time zone for customers without one; times in letters are shown in it"},
      {"delivery.outbox", &Config::outbox_dir, "Maildir the letters are written to"},
      {"cases.renotify_seconds_critical", &Config::renotify_seconds_critical,
       "an unchanged case of severity critical is mailed again after this many seconds"},
      {"cases.renotify_seconds_high", &Config::renotify_seconds_high, "the same for severity high"},
      {"cases.renotify_seconds_medium", &Config::renotify_seconds_medium, "the same for severity medium"},
      {"cases.renotify_seconds_low", &Config::renotify_seconds_low, "the same for severity low"},
      {"cases.renotify_seconds_info", &Config::renotify_seconds_info, "the same for severity info"},
      {"cases.close_after_quiet_seconds", &Config::close_after_quiet_seconds,
       "a notified or resolved case without new events for this long is closed"},
      {"cases.escalate_after_notifications", &Config::escalate_after_notifications,
       "a case that keeps recurring after this many letters is escalated", 1},
      {"cases.evidence_rows_inline", &Config::evidence_rows_inline,
       "original evidence rows quoted in the letter body (all rows are attached)"},
      {"probe.allowed_prefixes", &Config::probe_allowed_prefixes,
       "the only networks klartext check may send probes to (IPv4/IPv6 prefixes)", 0, Check::kIpPrefixes},
      {"probe.rate_pps", &Config::probe_rate_pps, "global probe packet rate (packets per second; capped in code)", 1},
      {"probe.target_spacing_ms", &Config::probe_target_spacing_ms, "pause between packets to the same target (ms)"},
      {"probe.timeout_ms", &Config::probe_timeout_ms, "quiet period that ends a measurement (ms)", 1},
      {"probe.retries", &Config::probe_retries, "resends when a target does not answer"},
  };
  for (const auto& l : core::all_limits()) {
    k.push_back({"limits." + std::string(l.name), l.member, std::string(l.help)});
  }
  return k;
}

const std::vector<Key>& keys() {
  static const std::vector<Key> kKeys = make_keys();
  return kKeys;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string value_text(const Config& c, const Key& k) {
  return std::visit(
      [&](auto m) -> std::string {
        using M = decltype(m);
        if constexpr (std::is_same_v<M, StringMember>) {
          return quote(c.*m);
        } else if constexpr (std::is_same_v<M, IntMember>) {
          return std::to_string(c.*m);
        } else if constexpr (std::is_same_v<M, ListMember>) {
          std::string out = "[";
          for (const auto& v : c.*m) out += (out.size() > 1 ? ", " : "") + quote(v);
          return out + "]";
        } else {
          return std::to_string(c.limits.*m);
        }
      },
      k.member);
}

std::string type_name(const Member& m) {
  switch (m.index()) {
    case 0: return "string";
    case 2: return "list of strings";
    default: return "integer";
  }
}

std::string toml_type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::array: return "array";
    case toml::node_type::table: return "table";
    default: return "date/time";
  }
}

// Sets one key from its TOML node; returns an error text, empty when fine.
std::string assign(Config& c, const Key& k, const toml::node& n) {
  const std::string wanted = k.member.index() == 0   ? "a string"
                             : k.member.index() == 2 ? "a list of strings"
                                                     : "an integer";
  const std::string wrong = "must be " + wanted + ", got " + toml_type_name(n);
  return std::visit(
      [&](auto m) -> std::string {
        using M = decltype(m);
        if constexpr (std::is_same_v<M, StringMember>) {
          if (!n.is_string()) return wrong;
          std::string v = *n.value<std::string>();
          if (k.check == Check::kChoice && std::find(k.choices.begin(), k.choices.end(), v) == k.choices.end()) {
            std::string list;
            for (const auto& ch : k.choices) list += (list.empty() ? "" : ", ") + ch;
            return "must be one of " + list + ", got " + quote(v);
          }
          if (k.check == Check::kLanguage && v != "de" && v != "en") return "must be de or en, got " + quote(v);
          c.*m = std::move(v);
        } else if constexpr (std::is_same_v<M, ListMember>) {
          const toml::array* a = n.as_array();
          if (a == nullptr) return wrong;
          std::vector<std::string> out;
          for (const auto& e : *a) {
            if (!e.is_string()) return wrong;
            std::string v = *e.value<std::string>();
            if (k.check == Check::kIpPrefixes && !core::IpPrefix::parse(v)) return "not an IP prefix: " + quote(v);
            out.push_back(std::move(v));
          }
          c.*m = std::move(out);
        } else {
          if (!n.is_integer()) return wrong;
          const std::int64_t v = *n.value<std::int64_t>();
          if (v < k.min) return "must be at least " + std::to_string(k.min) + ", got " + std::to_string(v);
          if constexpr (std::is_same_v<M, IntMember>) {
            c.*m = v;
          } else {
            c.limits.*m = static_cast<std::uint64_t>(v);
          }
        }
        return {};
      },
      k.member);
}

[[noreturn]] void fail(const std::string& source, const toml::source_region& where, const std::string& msg) {
  throw std::runtime_error(source + ":" + std::to_string(where.begin.line) + ": " + msg);
}

}  // namespace

bool Config::operator==(const Config& o) const {
  return std::all_of(keys().begin(), keys().end(),
                     [&](const Key& k) { return value_text(*this, k) == value_text(o, k); });
}

Config parse(std::string_view toml_text, const std::string& source_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(source_name + ":" + std::to_string(e.source().begin.line) + ":" +
                             std::to_string(e.source().begin.column) +
                             ": TOML syntax error: " + std::string(e.description()));
  }
  Config c;
  for (const auto& [section_key, section] : root) {
    const std::string section_name(section_key.str());
    const toml::table* tbl = section.as_table();
    if (tbl == nullptr) {
      fail(source_name, section_key.source(),
           "unknown key '" + section_name + "' (every key belongs to a section such as [store])");
    }
    const bool known_section = std::any_of(keys().begin(), keys().end(), [&](const Key& k) {
      return k.name.compare(0, section_name.size() + 1, section_name + ".") == 0;
    });
    if (!known_section) fail(source_name, section_key.source(), "unknown section [" + section_name + "]");
    for (const auto& [key, node] : *tbl) {
      const std::string name = section_name + "." + std::string(key.str());
      auto it = std::find_if(keys().begin(), keys().end(), [&](const Key& k) { return k.name == name; });
      if (it == keys().end()) fail(source_name, key.source(), "unknown key '" + name + "'");
      if (std::string err = assign(c, *it, node); !err.empty()) {
        fail(source_name, node.source(), "key '" + name + "' " + err);
      }
    }
  }
  return c;
}

Config load(const std::string& path) {
  std::string p = path;
  if (p.empty()) {
    if (!std::filesystem::exists("klartext.toml")) return Config{};
    p = "klartext.toml";
  }
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error(p + ": cannot read configuration file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), p);
}

const std::vector<KeyInfo>& all_keys() {
  static const std::vector<KeyInfo> kInfo = [] {
    std::vector<KeyInfo> out;
    const Config defaults;
    for (const auto& k : keys()) out.push_back({k.name, value_text(defaults, k), k.help, type_name(k.member)});
    return out;
  }();
  return kInfo;
}

std::string to_toml(const Config& c, bool comments) {
  const Config defaults;
  std::string out;
  std::string section;
  for (const auto& k : keys()) {
    const auto dot = k.name.find('.');
    const std::string sec = k.name.substr(0, dot);
    if (sec != section) {
      // Appended piece by piece: g++ 12 -O2 reports a false -Wrestrict for "x" + std::string chains.
      if (!section.empty()) out += '\n';
      out.append("[").append(sec).append("]\n");
      section = sec;
    }
    const std::string value = value_text(c, k);
    if (comments) {
      out.append("# ").append(k.help).append("\n");
      if (const std::string def = value_text(defaults, k); def != value)
        out.append("# default: ").append(def).append("\n");
    }
    out.append(k.name, dot + 1).append(" = ").append(value).append("\n");
  }
  return out;
}

std::string example_file() {
  return "# klartext configuration (TOML). Every key is shown with its default; delete what you do not change.\n"
         "# klartext reads the file given with --config (or $KLARTEXT_CONFIG), else ./klartext.toml if present.\n"
         "# Unknown keys and wrong types are errors. Check a file with: klartext config --check FILE\n"
         "# Durations are in seconds or milliseconds as the key name says; sizes are in bytes.\n\n" +
         to_toml(Config{}, true);
}

void apply_store_option(Config& cfg, const std::string& value) {
  const std::string_view v(value);
  if (v.starts_with("postgresql://") || v.starts_with("postgres://")) {
    cfg.store_backend = "postgres";
    cfg.store_dsn = value;
  } else if (v.starts_with("postgres:")) {
    cfg.store_backend = "postgres";
    cfg.store_dsn = value.substr(std::string_view("postgres:").size());
  } else {
    cfg.store_backend = "sqlite";
    cfg.store_path = value;
  }
}

}  // namespace klartext::config
