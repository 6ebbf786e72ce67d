// Tests for the knowledge base: completeness of the shipped data, schema coverage, lookups, load errors.
#include "knowledge/knowledge.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/embedded.hpp"

namespace klartext::knowledge {
namespace {

namespace fs = std::filesystem;
using core::Classification;
using core::IncidentType;

const KnowledgeBase& kb() {
  static const KnowledgeBase k = KnowledgeBase::load({});
  return k;
}

void expect_complete(const std::map<std::string, LocalizedText>& texts, const std::string& who) {
  for (const char* lang : {"de", "en"}) {
    auto it = texts.find(lang);
    ASSERT_NE(it, texts.end()) << who << " has no " << lang << " text";
    EXPECT_FALSE(it->second.title.empty()) << who << " " << lang;
    EXPECT_FALSE(it->second.explanation.empty()) << who << " " << lang;
    EXPECT_FALSE(it->second.remediation.empty()) << who << " " << lang;
    EXPECT_FALSE(it->second.check.empty()) << who << " " << lang;
  }
}

std::string all_text(const LocalizedText& t) {
  return t.title + t.explanation + t.remediation + t.check;
}

TEST(Knowledge, EveryEntryHasGermanAndEnglishTexts) {
  ASSERT_GE(kb().amplifiers().size(), 29u);
  for (const auto& a : kb().amplifiers()) expect_complete(a.text, a.identifier);
  ASSERT_GE(kb().incidents().size(), 15u);
  for (const auto& t : kb().incidents()) {
    expect_complete(t.text, t.identifier.empty() ? std::string(core::to_string(*t.type)) : t.identifier);
  }
}

TEST(Knowledge, AmplifierFieldsAreValid) {
  std::set<std::string> probes = {"ntp-monitor",  "ntp-version", "dns",        "ssdp", "memcached", "chargen",
                                  "qotd",         "snmp",        "portmapper", "mdns", "netbios",   "cldap",
                                  "ws-discovery", "coap",        "ard",        "tftp"};
  for (const auto& a : kb().amplifiers()) {
    EXPECT_TRUE(a.transport == "udp" || a.transport == "tcp") << a.identifier;
    // Only Loop-DoS covers several ports (the report row names it).
    if (a.identifier != "open-loop-dos") {
      EXPECT_GT(a.port, 0) << a.identifier;
    }
    EXPECT_FALSE(a.source.empty()) << a.identifier;
    EXPECT_FALSE(a.service.empty()) << a.identifier;
    EXPECT_TRUE(a.baf_max == 0 || a.baf_max >= a.baf_typical) << a.identifier;
    if (!a.probe.empty()) {
      EXPECT_TRUE(probes.contains(a.probe)) << a.identifier << " probe " << a.probe;
    }
  }
  const Amplifier* ntp = kb().find_amplifier("ntp-monitor");
  ASSERT_NE(ntp, nullptr);
  EXPECT_EQ(ntp->port, 123);
  EXPECT_DOUBLE_EQ(ntp->baf_typical, 556.9);
  EXPECT_DOUBLE_EQ(ntp->baf_max, 4670);
  EXPECT_EQ(ntp->probe, "ntp-monitor");
}

// The motivating failure: an amplifier letter must never read like a spam or malware complaint.
TEST(Knowledge, AmplifierTextsSayDdosAndNotSpam) {
  for (const auto& a : kb().amplifiers()) {
    const auto& de = a.text.at("de");
    const auto& en = a.text.at("en");
    EXPECT_NE(de.explanation.find("DDoS"), std::string::npos) << a.identifier;
    EXPECT_NE(en.explanation.find("DDoS"), std::string::npos) << a.identifier;
    EXPECT_NE(de.explanation.find("kein Spam"), std::string::npos) << a.identifier;
    EXPECT_NE(en.explanation.find("not spam"), std::string::npos) << a.identifier;
  }
}

TEST(Knowledge, NtpMonitorRemediationHasTheConcreteFix) {
  for (const char* lang : {"de", "en"}) {
    const auto& t = kb().find_amplifier("scan_ntpmonitor")->text.at(lang);
    EXPECT_NE(t.remediation.find("4.2.8"), std::string::npos);
    EXPECT_NE(t.remediation.find("disable monitor"), std::string::npos);
    EXPECT_NE(t.remediation.find("restrict default kod nomodify notrap nopeer noquery"), std::string::npos);
    EXPECT_NE(t.remediation.find("restrict -6 default kod nomodify notrap nopeer noquery"), std::string::npos);
    EXPECT_NE(t.remediation.find("123"), std::string::npos);
    EXPECT_NE(t.check.find("ntpdc -n -c monlist {{ip}}"), std::string::npos);
    EXPECT_NE(t.check.find("ntpq -c rv {{ip}}"), std::string::npos);
  }
}

// German texts are written with umlauts, not ASCII stand-ins.
TEST(Knowledge, GermanUsesUmlauts) {
  std::vector<std::string> german;
  for (const auto& a : kb().amplifiers()) german.push_back(all_text(a.text.at("de")));
  for (const auto& t : kb().incidents()) german.push_back(all_text(t.text.at("de")));
  for (const auto& s : german) {
    for (const char* ascii : {"fuer ", "ueber", "koenn", "moegl", "Rueck", "aender", "Geraet", "schaedl", "loesch"}) {
      EXPECT_EQ(s.find(ascii), std::string::npos) << "'" << ascii << "' in: " << s.substr(0, 80);
    }
  }
}

TEST(Knowledge, NamesAreUniqueAcrossTheTable) {
  std::set<std::string> seen;
  for (const auto& a : kb().amplifiers()) {
    std::vector<std::string> names = a.aliases;
    names.push_back(a.identifier);
    for (auto n : names) {
      for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      EXPECT_TRUE(seen.insert(n).second) << n;
      EXPECT_EQ(kb().find_amplifier(n), &a) << n;
    }
  }
  EXPECT_EQ(kb().find_amplifier("SCAN_NTPMONITOR"), kb().find_amplifier("ntp-monitor"));
  EXPECT_EQ(kb().find_amplifier("no-such-service"), nullptr);
}

class ShadowserverSchema : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path p = fs::path(KLARTEXT_SHARED_DIR) / "corpus/shadowserver/schema/intelmq.json";
    if (!fs::exists(p)) GTEST_SKIP() << "../shared not present: " << p;
    std::ifstream in(p);
    schema_ = nlohmann::json::parse(in);
  }
  static bool has_amplification_column(const nlohmann::json& report) {
    for (const char* list : {"required_fields", "optional_fields"}) {
      if (!report.contains(list)) continue;
      for (const auto& f : report[list]) {
        const auto col = f.at(1).get<std::string>();
        if (col == "amplification" || col == "min_amplification") return true;
      }
    }
    return false;
  }
  nlohmann::json schema_;
};

// Every schema report with an amplification column is either an amplifier or deliberately excluded
// (with a reason, in the data); a new amplifier report in a newer schema makes this fail.
TEST_F(ShadowserverSchema, EveryAmplificationReportResolves) {
  std::set<std::string> excluded;
  for (const auto& n : kb().not_amplifiers()) excluded.insert(n.report);
  int amplifier_reports = 0;
  for (const auto& [name, report] : schema_.items()) {
    if (name == "_meta" || !has_amplification_column(report)) continue;
    if (excluded.contains(name)) {
      EXPECT_EQ(kb().find_amplifier(name), nullptr) << name;
      continue;
    }
    const Amplifier* a = kb().find_amplifier(name);
    ASSERT_NE(a, nullptr) << "schema report " << name << " has amplification columns but no entry";
    ++amplifier_reports;
  }
  EXPECT_GE(amplifier_reports, 25);
  // The reports named in the issue without an amplification column.
  for (const char* r : {"scan_mdns", "scan_ipmi", "scan_slp", "scan6_slp", "scan_loop_dos", "scan_stun"}) {
    EXPECT_NE(kb().find_amplifier(r), nullptr) << r;
  }
}

// For each report type alias: it exists in the schema, and the schema identifier resolves to the
// same entry (so events classified by identifier find the same texts).
TEST_F(ShadowserverSchema, ReportAliasesMatchSchemaIdentifiers) {
  for (const auto& a : kb().amplifiers()) {
    for (const auto& alias : a.aliases) {
      if (!schema_.contains(alias)) {
        EXPECT_TRUE(alias.rfind("scan", 0) != 0) << a.identifier << ": report type " << alias << " not in schema";
        continue;
      }
      const auto& report = schema_[alias];
      ASSERT_EQ(report.at("file_name").get<std::string>(), alias);
      const auto id = report.at("constant_fields").value("classification.identifier", "");
      EXPECT_EQ(kb().find_amplifier(id), &a) << alias << " -> " << id;
      EXPECT_EQ(kb().find_amplifier(report.at("feed_name").get<std::string>()), &a) << alias;
    }
  }
}

// Identifiers in IntelMQ 3.2.1's expected output (older generation) resolve too.
TEST_F(ShadowserverSchema, OlderIdentifiersFromIntelmqTestdataResolve) {
  const fs::path dir = fs::path(KLARTEXT_SHARED_DIR) / "corpus/shadowserver/expected-3.2.1";
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string report = entry.path().filename().string();
    report = report.substr(0, report.find(".expected.json"));
    const Amplifier* a = kb().find_amplifier(report);
    if (a == nullptr) continue;
    std::ifstream in(entry.path());
    const auto doc = nlohmann::json::parse(in);
    for (const auto& ev : doc.at("expected_events")) {
      const auto id = ev.value("classification.identifier", "");
      EXPECT_EQ(kb().find_amplifier(id), a) << report << ": " << id;
      ++checked;
    }
  }
  EXPECT_GT(checked, 40);
}

TEST(KnowledgeText, AmplifierTextForAmplifierClassification) {
  const auto* t = kb().find_text(Classification::of(IncidentType::kDdosAmplifier, "ntp-monitor"), "de");
  ASSERT_NE(t, nullptr);
  EXPECT_NE(t->title.find("NTP"), std::string::npos);
  EXPECT_EQ(kb().find_text(Classification::of(IncidentType::kDdosAmplifier, "ntp-monitor"), "fr"), nullptr);
  // Before reclassification the same services arrive as vulnerable-system.
  EXPECT_EQ(kb().find_text(Classification::of(IncidentType::kVulnerableSystem, "open-memcached"), "en"),
            &kb().find_amplifier("open-memcached")->text.at("en"));
}

TEST(KnowledgeText, OpenLdapOverTcpIsNotCalledAnAmplifier) {
  const auto* cldap = kb().find_text(Classification::of(IncidentType::kDdosAmplifier, "open-ldap"), "en");
  const auto* tcp = kb().find_text(Classification::of(IncidentType::kVulnerableSystem, "open-ldap"), "en");
  ASSERT_NE(cldap, nullptr);
  ASSERT_NE(tcp, nullptr);
  EXPECT_NE(cldap->title.find("CLDAP"), std::string::npos);
  EXPECT_EQ(tcp->explanation.find("DDoS"), std::string::npos);
  EXPECT_EQ(kb().find_amplifier("scan_ldap_tcp"), nullptr);
}

TEST(KnowledgeText, TypeLevelEntryNamesTheMalware) {
  const Classification c = Classification::of(IncidentType::kInfectedSystem, "avalanche-andromeda");
  const auto* t = kb().find_text(c, "de");
  ASSERT_NE(t, nullptr);
  const LocalizedText r = render(*t, {"192.0.2.7", "avalanche-andromeda", ""});
  EXPECT_NE(r.title.find("avalanche-andromeda"), std::string::npos);
  EXPECT_NE(r.explanation.find("192.0.2.7"), std::string::npos);
  EXPECT_EQ(all_text(r).find("{{"), std::string::npos);
  // Identifier-level beats type-level: spam-url is about the URL host, not the sender.
  const auto* spam_url = kb().find_text(Classification::of(IncidentType::kSpam, "spam-url"), "en");
  const auto* spam = kb().find_text(Classification::of(IncidentType::kSpam, "arf-complaint"), "en");
  ASSERT_NE(spam_url, nullptr);
  ASSERT_NE(spam, nullptr);
  EXPECT_NE(spam_url, spam);
  EXPECT_NE(spam_url->explanation.find("does not"), std::string::npos);
}

TEST(KnowledgeText, NoCatchAll) {
  EXPECT_EQ(kb().find_text(Classification::undetermined("whatever"), "de"), nullptr);
  EXPECT_EQ(kb().find_text(Classification::of(IncidentType::kVulnerableSystem, "open-foo"), "de"), nullptr);
  EXPECT_EQ(kb().find_text(Classification::of(IncidentType::kOther, "other"), "de"), nullptr);
  EXPECT_EQ(kb().find_text(Classification::of(IncidentType::kDdosAmplifier, "unknown-amp"), "de"), nullptr);
}

TEST(KnowledgeText, RequiredIncidentsHaveTexts) {
  struct Case {
    IncidentType type;
    const char* identifier;
  };
  for (const Case& c : {Case{IncidentType::kInfectedSystem, "necurs"},
                        Case{IncidentType::kSpam, "spam-url"},
                        Case{IncidentType::kSpam, "spam"},
                        Case{IncidentType::kBruteForce, "ssh"},
                        Case{IncidentType::kScanner, "honeypot-http-scan"},
                        Case{IncidentType::kPhishing, "phish-url"},
                        Case{IncidentType::kMalwareDistribution, "malware-url"},
                        Case{IncidentType::kSystemCompromise, "compromised-website"},
                        Case{IncidentType::kVulnerableSystem, "open-http-proxy"},
                        Case{IncidentType::kVulnerableSystem, "accessible-rdp"},
                        Case{IncidentType::kVulnerableSystem, "open-rdp"},
                        Case{IncidentType::kVulnerableSystem, "accessible-smb"},
                        Case{IncidentType::kVulnerableSystem, "open-elasticsearch"},
                        Case{IncidentType::kVulnerableSystem, "open-redis"},
                        Case{IncidentType::kVulnerableSystem, "open-mongodb"},
                        Case{IncidentType::kVulnerableSystem, "open-docker"},
                        Case{IncidentType::kVulnerableSystem, "vulnerable-exchange-server"},
                        Case{IncidentType::kSystemCompromise, "exchange-server-webshell"},
                        Case{IncidentType::kWeakCrypto, "ssl-poodle"},
                        Case{IncidentType::kWeakCrypto, "ssl-freak"},
                        Case{IncidentType::kCopyright, "bittorrent"}}) {
    for (const char* lang : {"de", "en"}) {
      EXPECT_NE(kb().find_text(Classification::of(c.type, c.identifier), lang), nullptr) << c.identifier << " " << lang;
    }
  }
}

TEST(KnowledgeRender, SubstitutesKnownPlaceholdersOnly) {
  EXPECT_EQ(render("a {{ip}} b {{malware}} c {{identifier}}", {"192.0.2.1", "necurs", ""}),
            "a 192.0.2.1 b necurs c necurs");
  EXPECT_EQ(render("{{malware}}", {"", "x", "Emotet"}), "Emotet");
  EXPECT_EQ(render("dig @{{ip}}", {}), "dig @IP");
  EXPECT_EQ(render("{{customer}} {{ip", {"192.0.2.1", "", ""}), "{{customer}} {{ip");
}

// ---- load errors name the file, the line and the entry ----------------------------------------

const std::string kText =
    "    de: {title: T, explanation: E, remediation: R, check: C}\n"
    "    en: {title: T, explanation: E, remediation: R, check: C}\n";
const std::string kIncidents = "incidents:\n  - identifier: x\n" + kText;

std::string load_error(const std::string& amplifiers, const std::string& incidents = kIncidents) {
  try {
    KnowledgeBase::parse(amplifiers, incidents);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

std::string amp(const std::string& fields) {
  return "amplifiers:\n  - identifier: ok\n    service: s\n    port: 1\n    source: src\n" + kText +
         "  - identifier: bad\n    source: src\n" + fields + kText;
}

TEST(KnowledgeLoad, MinimalDocumentsLoad) {
  auto k = KnowledgeBase::parse(amp("    service: s\n    port: 7\n"), kIncidents);
  EXPECT_EQ(k.amplifiers().size(), 2u);
  EXPECT_EQ(k.find_amplifier("bad")->port, 7);
}

TEST(KnowledgeLoad, ErrorsNameFileLineAndEntry) {
  EXPECT_EQ(load_error(amp("    service: s\n    port: 70000\n")),
            "knowledge/amplifiers.yaml:11: amplifier #2 (bad): port must be 1..65535 or 'varies', got '70000'");
  EXPECT_EQ(load_error(amp("    port: 7\n")),
            "knowledge/amplifiers.yaml:8: amplifier #2 (bad): missing field 'service'");
  EXPECT_EQ(load_error(amp("    service: s\n    port: 7\n    colour: red\n")),
            "knowledge/amplifiers.yaml:12: amplifier #2 (bad): unknown field 'colour'");
  EXPECT_EQ(load_error(amp("    service: s\n    port: 7\n    aliases: [OK]\n")),
            "knowledge/amplifiers.yaml:8: amplifier #2 (bad): name 'OK' is already used by entry #1");
  EXPECT_EQ(load_error(amp("    service: s\n    port: 7\n    aliases: [BAD]\n")),
            "knowledge/amplifiers.yaml:8: amplifier #2 (bad): name 'BAD' is listed twice in this entry");
  EXPECT_EQ(load_error(amp("    service: s\n    port: varies\n    transport: sctp\n")),
            "knowledge/amplifiers.yaml:12: amplifier #2 (bad): transport must be udp or tcp");
  EXPECT_EQ(load_error("amplifiers: [\n"),
            "knowledge/amplifiers.yaml:2: YAML syntax error: end of sequence flow not found");
  const std::string no_en =
      "amplifiers:\n  - identifier: a\n    service: s\n    port: 1\n    source: x\n"
      "    de: {title: T, explanation: E, remediation: R, check: C}\n";
  EXPECT_EQ(load_error(no_en), "knowledge/amplifiers.yaml:2: amplifier #1 (a): missing texts for language 'en'");
  const std::string empty_check =
      "amplifiers:\n  - identifier: a\n    service: s\n    port: 1\n    source: x\n"
      "    de: {title: T, explanation: E, remediation: R, check: ''}\n"
      "    en: {title: T, explanation: E, remediation: R, check: C}\n";
  EXPECT_EQ(load_error(empty_check), "knowledge/amplifiers.yaml:6: amplifier #1 (a): field 'check' is empty");
}

TEST(KnowledgeLoad, PlaceholdersAndTypeLevelEntriesAreChecked) {
  const std::string good = amp("    service: s\n    port: 7\n");
  const std::string typo =
      "incidents:\n  - type: infected-system\n"
      "    de: {title: 'T {{malwre}}', explanation: E, remediation: R, check: C}\n"
      "    en: {title: T, explanation: E, remediation: R, check: C}\n";
  EXPECT_EQ(load_error(good, typo),
            "knowledge/incidents.yaml:3: incident #1 (type infected-system): de.title: unknown placeholder {{malwre}} "
            "(known: ip, identifier, malware)");
  EXPECT_EQ(load_error(good, "incidents:\n  - type: undetermined\n" + kText),
            "knowledge/incidents.yaml:2: incident #1 (type undetermined): type 'undetermined' is too broad for a "
            "type-level text (it would be a catch-all)");
  EXPECT_EQ(load_error(good, "incidents:\n  - type: spam\n    identifier: x\n" + kText),
            "knowledge/incidents.yaml:2: incident #1: an entry has exactly one of 'identifier' or 'type'");
  EXPECT_EQ(load_error(good, "incidents:\n  - type: no-such-type\n" + kText),
            "knowledge/incidents.yaml:2: incident #1 (type no-such-type): unknown RSIT type 'no-such-type'");
}

TEST(KnowledgeLoad, OverrideDirectoryReplacesFileByFile) {
  const fs::path dir = fs::temp_directory_path() / ("klartext_knowledge_test_" + std::to_string(::getpid()));
  fs::create_directories(dir / "knowledge");
  {
    std::ofstream out(dir / "knowledge/amplifiers.yaml");
    out << amp("    service: s\n    port: 7\n");
  }
  auto k = KnowledgeBase::load(dir.string());
  EXPECT_EQ(k.amplifiers().size(), 2u);
  EXPECT_GE(k.incidents().size(), 15u);  // the embedded incidents.yaml
  {
    std::ofstream out(dir / "knowledge/amplifiers.yaml");
    out << "amplifiers:\n  - identifier: x\n";
  }
  try {
    KnowledgeBase::load(dir.string());
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("knowledge/amplifiers.yaml:2: amplifier #1 (x): missing field"),
              std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace klartext::knowledge
