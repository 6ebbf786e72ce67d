// Tests for the TOML configuration: defaults, the key table, round trips, and errors with line numbers.
#include "config/config.hpp"

#include <gtest/gtest.h>

#include <set>

namespace klartext::config {
namespace {

std::string error_of(const std::string& toml) {
  try {
    parse(toml, "k.toml");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Config, EmptyFileGivesDefaults) {
  const Config c = parse("", "k.toml");
  EXPECT_EQ(c, Config{});
  EXPECT_EQ(c.store_path, "var/klartext.db");
  EXPECT_EQ(c.outbox_dir, "var/outbox");
}

TEST(Config, KeyTableIsCompleteAndUnique) {
  std::set<std::string> names;
  for (const auto& k : all_keys()) {
    EXPECT_TRUE(names.insert(k.name).second) << k.name;
    EXPECT_NE(k.name.find('.'), std::string::npos) << k.name;
    EXPECT_FALSE(k.help.empty()) << k.name;
    EXPECT_FALSE(k.default_value.empty()) << k.name;
  }
  for (const auto& l : core::all_limits()) EXPECT_TRUE(names.contains("limits." + std::string(l.name))) << l.name;
  for (const char* n : {"store.backend", "store.path", "store.dsn", "data.dir", "data.templates", "sender.address",
                        "sender.default_language", "delivery.outbox", "cases.renotify_seconds_high",
                        "cases.escalate_after_notifications", "probe.allowed_prefixes"}) {
    EXPECT_TRUE(names.contains(n)) << n;
  }
}

TEST(Config, ExampleFileParsesToDefaults) {
  const std::string ex = example_file();
  EXPECT_EQ(parse(ex, "example"), Config{});
  for (const auto& k : all_keys()) {
    EXPECT_NE(ex.find("# " + k.help + "\n"), std::string::npos) << k.name;
  }
}

TEST(Config, EveryKeyIsReadAndWrittenBack) {
  const std::string text = R"(
[store]
backend = "postgres"
path = "/srv/kt.db"
dsn = "host=db dbname=klartext"
[data]
dir = "/etc/klartext/data"
templates = "/etc/klartext/templates"
[sender]
name = "Abuse-Team \"Nord\""
address = "abuse@example.org"
reply_to = "noc@example.org"
organisation = "Müller Netz GmbH"
default_language = "en"
default_time_zone = "UTC"
[delivery]
outbox = "/var/spool/klartext"
[cases]
renotify_seconds_critical = 1
renotify_seconds_high = 2
renotify_seconds_medium = 3
renotify_seconds_low = 4
renotify_seconds_info = 5
close_after_quiet_seconds = 6
escalate_after_notifications = 7
evidence_rows_inline = 0
[probe]
allowed_prefixes = ["192.0.2.0/24", "2001:db8::/32"]
rate_pps = 10
target_spacing_ms = 0
timeout_ms = 500
retries = 0
[limits]
max_line_bytes = 4096
max_excerpt_bytes = 0
)";
  const Config c = parse(text, "k.toml");
  EXPECT_EQ(c.store_backend, "postgres");
  EXPECT_EQ(c.sender_name, "Abuse-Team \"Nord\"");
  EXPECT_EQ(c.organisation, "Müller Netz GmbH");
  EXPECT_EQ(c.renotify_seconds_info, 5);
  EXPECT_EQ(c.escalate_after_notifications, 7);
  EXPECT_EQ(c.probe_allowed_prefixes, (std::vector<std::string>{"192.0.2.0/24", "2001:db8::/32"}));
  EXPECT_EQ(c.limits.max_line_bytes, 4096u);
  EXPECT_EQ(c.limits.max_excerpt_bytes, 0u);
  EXPECT_EQ(c.limits.max_mime_depth, core::Limits{}.max_mime_depth);
  EXPECT_FALSE(c == Config{});
  const std::string shown = to_toml(c, true);
  EXPECT_EQ(parse(shown, "shown"), c);
  EXPECT_NE(shown.find("# default: \"sqlite\"\nbackend = \"postgres\""), std::string::npos);
}

TEST(Config, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(error_of("[store]\npath = \"x\"\npth = \"y\"\n"), "k.toml:3: unknown key 'store.pth'");
  EXPECT_EQ(error_of("[cases]\n\nevidence_rows_inline = \"5\"\n"),
            "k.toml:3: key 'cases.evidence_rows_inline' must be an integer, got string");
  EXPECT_EQ(error_of("[store]\npath = 5\n"), "k.toml:2: key 'store.path' must be a string, got integer");
  EXPECT_EQ(error_of("[probe]\nallowed_prefixes = \"127.0.0.0/8\"\n"),
            "k.toml:2: key 'probe.allowed_prefixes' must be a list of strings, got string");
  EXPECT_EQ(error_of("[probe]\nallowed_prefixes = [\"192.0.2.0/33\"]\n"),
            "k.toml:2: key 'probe.allowed_prefixes' not an IP prefix: \"192.0.2.0/33\"");
  EXPECT_EQ(error_of("[mail]\nx = 1\n"), "k.toml:1: unknown section [mail]");
  EXPECT_EQ(error_of("store_path = \"x\"\n"),
            "k.toml:1: unknown key 'store_path' (every key belongs to a section such as [store])");
  EXPECT_EQ(error_of("[store]\nbackend = \"mysql\"\n"),
            "k.toml:2: key 'store.backend' must be one of sqlite, postgres, got \"mysql\"");
  EXPECT_EQ(error_of("[sender]\ndefault_language = \"fr\"\n"),
            "k.toml:2: key 'sender.default_language' must be de or en, got \"fr\"");
  EXPECT_EQ(error_of("[limits]\nmax_line_bytes = -1\n"),
            "k.toml:2: key 'limits.max_line_bytes' must be at least 0, got -1");
  EXPECT_EQ(error_of("[cases]\nescalate_after_notifications = 0\n"),
            "k.toml:2: key 'cases.escalate_after_notifications' must be at least 1, got 0");
  EXPECT_EQ(error_of("[store.sub]\nx = 1\n"), "k.toml:1: unknown key 'store.sub'");
  EXPECT_EQ(error_of("[store]\npath = \"a\"\npath = \"b\"\n").rfind("k.toml:3:", 0), 0u);
  EXPECT_EQ(error_of("[store\n").rfind("k.toml:1:", 0), 0u);
}

TEST(Config, LoadReadsAFileAndNamesIt) {
  const Config c = load(KLARTEXT_SOURCE_DIR "/examples/klartext.toml");
  EXPECT_EQ(c.store_path, "var/klartext.db");
  EXPECT_EQ(c.outbox_dir, "var/outbox");
  try {
    load("/nonexistent/klartext.toml");
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/klartext.toml: cannot read configuration file");
  }
}

}  // namespace
}  // namespace klartext::config
