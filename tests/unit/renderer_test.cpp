// Letter rendering: the ntp-monitor acceptance letter, honest unknown cases, time zones, overrides.
#include "letters/renderer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "delivery/mime.hpp"
#include "knowledge/knowledge.hpp"

using namespace klartext;

namespace {

constexpr std::string_view kNtpHeader =
    R"("timestamp","ip","protocol","port","hostname","packets","size","asn","geo","region","city","naics","sic","sector","amplification")";
constexpr std::string_view kNtpRow =
    R"("2026-11-27 02:14:09",198.51.100.7,udp,123,mail.example.org,100,48200,64500,DE,Bayern,Muenchen,0,0,,548.4)";

letters::Case ntp_case() {
  letters::Case c;
  c.id = "17";
  c.classification = core::Classification::of(core::IncidentType::kDdosAmplifier, "ntp-monitor");
  c.reported_as = "NTP-Monitor";
  c.source_ip = *core::IpAddress::parse("198.51.100.7");
  c.port = 123;
  c.transport = "udp";
  c.first_seen = c.last_seen = *core::Timestamp::parse("2026-11-27 02:14:09");
  c.event_count = 1;
  c.severity = core::Severity::kHigh;
  c.feed_provider = "Shadowserver";
  c.feed_name = "NTP-Monitor";
  c.feed_documentation_url = "https://www.shadowserver.org/what-we-do/network-reporting/ntp-monitor-report/";
  c.evidence.push_back(letters::evidence_from_raw(std::string(kNtpHeader) + "\n" + std::string(kNtpRow), true));
  return c;
}

letters::LetterInput german_customer() {
  letters::LetterInput in;
  in.customer = {"K-1001", "Müller Zahntechnik GmbH", {"technik@example.org"}, "de", "Europe/Berlin"};
  return in;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

letters::Letter render(const letters::LetterInput& in, letters::RendererOptions opt = {}) {
  letters::Renderer r(std::move(opt), knowledge::KnowledgeBase::instance());
  return r.render(in);
}

}  // namespace

TEST(Renderer, NtpMonitorLetterForGermanCustomer) {
  auto in = german_customer();
  in.cases.push_back(ntp_case());
  const letters::Letter l = render(in);
  EXPECT_EQ(l.language, "de");
  EXPECT_TRUE(l.cases_without_text.empty());
  // Names NTP amplification (DDoS amplifier), in German.
  EXPECT_NE(l.body.find("NTP"), std::string::npos);
  EXPECT_NE(l.body.find("monlist"), std::string::npos);
  EXPECT_NE(l.body.find("Verstärker"), std::string::npos);
  // Quotes the original row verbatim, with its header, and attaches both.
  EXPECT_NE(l.body.find(std::string(kNtpHeader) + "\n" + std::string(kNtpRow) + "\n"), std::string::npos);
  ASSERT_EQ(l.attachments.size(), 1u);
  EXPECT_EQ(l.attachments[0].content_type, "text/csv");
  EXPECT_EQ(l.attachments[0].bytes, std::string(kNtpHeader) + "\n" + std::string(kNtpRow) + "\n");
  // The ntpd fix and how to check it from outside.
  EXPECT_NE(l.body.find("4.2.8"), std::string::npos);
  EXPECT_NE(l.body.find("disable monitor"), std::string::npos);
  EXPECT_NE(l.body.find("restrict default kod nomodify notrap nopeer noquery"), std::string::npos);
  EXPECT_NE(l.body.find("restrict -6 default kod nomodify notrap nopeer noquery"), std::string::npos);
  EXPECT_NE(l.body.find("ntpdc -n -c monlist 198.51.100.7"), std::string::npos);
  // When, in the customer's zone; who reported it, with the documentation link.
  EXPECT_NE(l.body.find("27.11.2026 03:14:09 CET"), std::string::npos);
  EXPECT_NE(l.body.find("Shadowserver"), std::string::npos);
  EXPECT_NE(l.body.find("ntp-monitor-report"), std::string::npos);
  EXPECT_NE(l.body.find("Port 123/udp"), std::string::npos);

  const std::string mail = delivery::build_mime(l, {}, core::Timestamp::from_seconds(1'795'500'000), "x@example.org");
  // Never "spam": the letter our story got wrong. Not in the subject, the body, the knowledge base
  // text or any header of the mail.
  EXPECT_EQ(lower(l.body).find("spam"), std::string::npos) << l.body;
  EXPECT_EQ(lower(l.subject).find("spam"), std::string::npos);
  EXPECT_EQ(lower(mail).find("spam"), std::string::npos);
}

TEST(Renderer, UnknownIdentifierSaysWhatTheReporterCalledIt) {
  letters::LetterInput in;
  in.customer = {"K-1006", "Green Leaf Media", {"admin@example.org"}, "en", "Europe/Dublin"};
  letters::Case c = ntp_case();
  c.classification = core::Classification::of(core::IncidentType::kVulnerableSystem, "exotic-panel-2026");
  c.reported_as = "Exotic Panel Scan";
  c.feed_provider = "Example Research";
  in.cases.push_back(c);
  const letters::Letter l = render(in);
  ASSERT_EQ(l.cases_without_text, std::vector<std::string>{"17"});
  EXPECT_NE(l.body.find(R"(calls this incident "Exotic Panel Scan")"), std::string::npos);
  EXPECT_NE(l.body.find(std::string(kNtpRow)), std::string::npos);
  EXPECT_NE(l.subject.find("Exotic Panel Scan"), std::string::npos);
  // No generic label stands in for the missing text.
  const auto what = l.body.find("What was reported?");
  const std::string block = l.body.substr(what, l.body.find("Address:", what) - what);
  EXPECT_EQ(lower(block).find("abuse"), std::string::npos) << block;
}

TEST(Renderer, LanguageAndZoneFallbacks) {
  auto in = german_customer();
  in.customer.language = "fr";
  in.customer.time_zone = "Nowhere/Atlantis";
  in.cases.push_back(ntp_case());
  letters::RendererOptions opt;
  opt.default_language = "en";
  opt.default_time_zone = "UTC";
  const letters::Letter l = render(in, opt);
  EXPECT_EQ(l.language, "en");
  EXPECT_NE(l.body.find("27 Nov 2026 02:14:09 UTC"), std::string::npos);
}

TEST(Renderer, SummerTimeInCustomerZone) {
  letters::LocalTime lt("UTC");
  const auto t = *core::Timestamp::parse("2026-07-01 12:00:00");
  EXPECT_EQ(lt.format(t, "Europe/Berlin", "de"), "01.07.2026 14:00:00 CEST");
  EXPECT_EQ(lt.format(t, "America/New_York", "en"), "01 Jul 2026 08:00:00 EDT");
  EXPECT_TRUE(letters::LocalTime::known_zone("Europe/Berlin"));
  EXPECT_FALSE(letters::LocalTime::known_zone("Nowhere/Atlantis"));
}

TEST(Renderer, OperatorTemplateOverride) {
  const auto dir = std::filesystem::temp_directory_path() / "klartext-renderer-test";
  std::filesystem::create_directories(dir / "de");
  std::ofstream(dir / "de" / "subject.mustache") << "Hinweis von {{organisation}} an {{customer_id}}\n";
  auto in = german_customer();
  in.cases.push_back(ntp_case());
  letters::RendererOptions opt;
  opt.template_dir = dir.string();
  opt.organisation = "Beispiel-Netz";
  const letters::Letter l = render(in, opt);
  EXPECT_EQ(l.subject, "Hinweis von Beispiel-Netz an K-1001");
  std::filesystem::remove_all(dir);
}

TEST(Renderer, EvidenceInlineLimitAndInvalidBytes) {
  auto in = german_customer();
  letters::Case c = ntp_case();
  c.evidence.clear();
  for (int i = 0; i < 4; ++i) {
    c.evidence.push_back(
        letters::evidence_from_raw(std::string(kNtpHeader) + "\r\nrow" + std::to_string(i) + ",\xff\r\n", true));
  }
  c.event_count = 9;
  in.cases.push_back(c);
  letters::RendererOptions opt;
  opt.evidence_rows_inline = 2;
  const letters::Letter l = render(in, opt);
  EXPECT_NE(l.body.find("row1,\xEF\xBF\xBD\n"), std::string::npos);  // shown as U+FFFD
  EXPECT_EQ(l.body.find("row2,"), std::string::npos);                // beyond the inline limit
  EXPECT_NE(l.body.find("die ersten 2 von 4"), std::string::npos);
  EXPECT_NE(l.body.find("4 der 9 Meldungen"), std::string::npos);
  ASSERT_EQ(l.attachments.size(), 1u);
  EXPECT_NE(l.attachments[0].bytes.find("row3,\xff\n"), std::string::npos);  // attachment keeps the bytes
}

TEST(Renderer, NoCasesStillRendersAFrame) {
  auto in = german_customer();
  const letters::Letter l = render(in);
  EXPECT_FALSE(l.body.empty());
}
