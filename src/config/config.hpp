// klartext's configuration: one TOML file; every key has a default and help text, declared once (config.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.hpp"

namespace klartext::config {

struct Config {
  // [store]
  std::string store_backend = "sqlite";        // "sqlite" or "postgres"
  std::string store_path = "var/klartext.db";  // SQLite file
  std::string store_dsn;                       // PostgreSQL connection string
  // [data]
  std::string data_dir;      // overrides for embedded data (knowledge, schema, rules)
  std::string template_dir;  // overrides for letter templates
  // [sender]
  std::string sender_name = "Abuse Desk";
  std::string sender_address = "abuse@example.org";
  std::string reply_to;
  std::string organisation = "Example ISP";
  std::string default_language = "de";  // for customers without one
  std::string default_time_zone = "Europe/Berlin";
  // [delivery]
  std::string outbox_dir = "var/outbox";  // Maildir the letters are written to
  // [cases]
  std::int64_t renotify_seconds_critical = 24 * 3600;
  std::int64_t renotify_seconds_high = 3 * 24 * 3600;
  std::int64_t renotify_seconds_medium = 7 * 24 * 3600;
  std::int64_t renotify_seconds_low = 14 * 24 * 3600;
  std::int64_t renotify_seconds_info = 30 * 24 * 3600;
  std::int64_t close_after_quiet_seconds = 30 * 24 * 3600;  // resolved/notified case closes when quiet
  std::int64_t escalate_after_notifications = 3;            // recurring after N letters -> escalated
  std::int64_t evidence_rows_inline = 5;                    // original rows quoted in the letter body
  // [probe]
  std::vector<std::string> probe_allowed_prefixes = {"127.0.0.0/8", "::1/128"};
  std::int64_t probe_rate_pps = 1000;          // global packet rate; hard ceiling in code
  std::int64_t probe_target_spacing_ms = 100;  // per-target spacing between packets
  std::int64_t probe_timeout_ms = 2000;        // quiet period that ends a measurement
  std::int64_t probe_retries = 1;
  // [limits]
  core::Limits limits;

  bool operator==(const Config&) const;
};

// One key of the file: name ("section.key"), default (as TOML text) and help.
struct KeyInfo {
  std::string name;
  std::string default_value;
  std::string help;
  std::string type;  // "string", "integer", "list of strings"
};

// Loads `path` (empty: ./klartext.toml if present, else defaults only). Unknown keys, wrong types
// and invalid values are errors naming file, line and key. Throws std::runtime_error.
Config load(const std::string& path);
// Parses TOML text; `source_name` is used in error messages.
Config parse(std::string_view toml_text, const std::string& source_name);
// All keys with defaults and help, in file order (for `klartext config --help`, docs).
const std::vector<KeyInfo>& all_keys();
// Applies a command-line --store value: "postgresql://..." / "postgres://..." (libpq URI) or
// "postgres:<libpq connection string>" selects PostgreSQL; any other value is an SQLite file path.
void apply_store_option(Config& cfg, const std::string& value);
// A commented example file with every key at its default.
std::string example_file();
// `c` as a TOML file in the same layout; with `comments`, each key carries its help, and keys that
// differ from the default name the default.
std::string to_toml(const Config& c, bool comments);

}  // namespace klartext::config
