// Tests for the Shadowserver CSV format: detection, normalization, classification, bad input.
#include "formats/shadowserver/shadowserver.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/event.hpp"

namespace klartext::formats::shadowserver {
namespace {

struct Collect : Sink {
  std::vector<core::Event> events;
  std::vector<ParseIssue> issues;
  void on_event(const core::Event& e) override { events.push_back(e); }
  void on_issue(const ParseIssue& i) override { issues.push_back(i); }
  std::size_t count(std::string_view code) const {
    std::size_t n = 0;
    for (const auto& i : issues) n += i.code == code ? 1 : 0;
    return n;
  }
};

struct Parsed {
  Collect sink;
  InputSummary summary;
};

Parsed parse(const std::string& data, const std::string& name, ParseOptions opt = {}) {
  Parsed r;
  Input in;
  in.name = name;
  in.filename_hint = name;
  in.data = data;
  r.summary = parse_input(in, r.sink, opt);
  return r;
}

const std::string kNtpHeader =
    "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\"region\","
    "\"city\",\"naics\",\"hostname_source\",\"sector\",\"packets\",\"response_size\",\"amplification\"";
const std::string kNtpRow =
    "\"2026-11-27 02:14:09\",medium,198.51.100.7,udp,123,ntp.example.org,ntp-monitor,64496,DE,"
    "\"Niedersachsen\",\"Hannover\",0,rdns,,100,48000,2666.67";

TEST(ReportType, FromFileNames) {
  EXPECT_EQ(report_type_from_filename("2019-01-01-scan_ntpmonitor-asn.csv"), "scan_ntpmonitor");
  EXPECT_EQ(report_type_from_filename("/in/2024-07-04-scan_ntpmonitor-123-org-asn.csv"), "scan_ntpmonitor");
  EXPECT_EQ(report_type_from_filename("2024-07-04-scan6_ntpmonitor-123-org-asn.csv.zip"), "scan6_ntpmonitor");
  EXPECT_EQ(report_type_from_filename("scan_ntpmonitor.csv"), "scan_ntpmonitor");
  EXPECT_EQ(report_type_from_filename("2026-11-27-event4_sinkhole_http-org-asn.csv"), "event4_sinkhole_http");
  EXPECT_EQ(report_type_from_filename("weird name!.csv"), "");
}

TEST(Shadowserver, NtpMonitorRowIsAnAmplifierWithFiguresAndExactRaw) {
  std::string data = kNtpHeader + "\r\n" + kNtpRow + "\r\n";
  Parsed r = parse(data, "2026-11-27-scan_ntpmonitor-123-org-asn.csv");
  ASSERT_EQ(r.sink.events.size(), 1u);
  EXPECT_TRUE(r.sink.issues.empty()) << r.sink.issues[0].to_json();
  const core::Event& e = r.sink.events[0];
  EXPECT_EQ(e.classification().to_string(), "vulnerable/ddos-amplifier/ntp-monitor");
  EXPECT_EQ(e.get("feed.classification"), "vulnerable/vulnerable-system/ntp-monitor");
  EXPECT_EQ(e.get("extra.amplification"), "2666.67");
  EXPECT_EQ(e.get("extra.packets"), "100");
  EXPECT_EQ(e.get("extra.response_size"), "48000");
  EXPECT_EQ(e.get("extra.amplifier.baf_typical"), "556.9");
  EXPECT_EQ(e.get("extra.amplifier.port"), "123");
  EXPECT_EQ(e.raw, kNtpHeader + "\n" + kNtpRow);
  EXPECT_EQ(e.get("source.ip"), "198.51.100.7");
  EXPECT_EQ(e.get("source.port"), "123");
  EXPECT_EQ(e.get("time.source"), "2026-11-27T02:14:09+00:00");
  EXPECT_EQ(e.severity(), core::Severity::kMedium);
  EXPECT_EQ(e.get("feed.provider"), "Shadowserver");
  EXPECT_EQ(e.get("feed.name"), "NTP-Monitor");
  EXPECT_EQ(e.get("feed.code"), "scan_ntpmonitor");
  EXPECT_FALSE(e.has("extra.naics"));  // invalidate_zero
  EXPECT_EQ(r.summary.detail, "scan_ntpmonitor");
}

TEST(Shadowserver, ChangedColumnOrderGivesTheSameEvent) {
  // Reverse the columns: header and row together.
  auto split = [](const std::string& line) {
    std::vector<std::string> out;
    std::string cur;
    bool q = false;
    for (char c : line) {
      if (c == '"') q = !q;
      if (c == ',' && !q) {
        out.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    out.push_back(cur);
    return out;
  };
  auto join_reversed = [](std::vector<std::string> v) {
    std::string s;
    for (auto it = v.rbegin(); it != v.rend(); ++it) s += (s.empty() ? "" : ",") + *it;
    return s;
  };
  std::string h = join_reversed(split(kNtpHeader)), row = join_reversed(split(kNtpRow));
  Parsed a = parse(kNtpHeader + "\n" + kNtpRow + "\n", "scan_ntpmonitor.csv");
  Parsed b = parse(h + "\n" + row + "\n", "scan_ntpmonitor.csv");
  ASSERT_EQ(b.sink.events.size(), 1u);
  EXPECT_TRUE(b.sink.issues.empty());
  for (const auto& f : a.sink.events[0]) {
    EXPECT_EQ(b.sink.events[0].get(f.key), std::optional<std::string_view>(f.value)) << f.key;
  }
}

TEST(Shadowserver, MissingOptionalColumnIsOneIssuePerFile) {
  std::string data = "\"timestamp\",\"ip\",\"port\"\n";
  for (int i = 1; i <= 5; ++i) data += "\"2026-11-27 01:00:00\",198.51.100." + std::to_string(i) + ",123\n";
  Parsed r = parse(data, "scan_ntpmonitor.csv");
  EXPECT_EQ(r.sink.events.size(), 5u);
  EXPECT_EQ(r.sink.count("shadowserver-missing-column"), 1u);
}

TEST(Shadowserver, MissingRequiredColumnSkipsRowsWithIssues) {
  std::string data =
      "\"timestamp\",\"ip\"\n\"2026-11-27 01:00:00\",198.51.100.1\n\"2026-11-27 01:00:00\",198.51.100.2\n";
  Parsed r = parse(data, "scan_ntpmonitor.csv");
  EXPECT_EQ(r.sink.events.size(), 0u);
  EXPECT_EQ(r.sink.count("shadowserver-missing-required-column"), 3u);  // header + two rows
}

TEST(Shadowserver, BadRowsAreNamedIssuesAndTheRestStillGoesIn) {
  std::string data = kNtpHeader + "\n";
  data += kNtpRow + "\n";                                                               // line 2: good
  data += "\"2026-11-27 02:14:09\",medium,198.51.100.999,udp,123,,,,,,,,,,,,\n";        // line 3: bad ip
  data += "\"yesterday\",medium,198.51.100.8,udp,123,,,,,,,,,,,,\n";                    // line 4: bad time
  data += "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s\n";                                    // line 5: too many fields
  data += "\"2026-11-27 02:14:09\",medium,198.51.100.9,udp,123,\xff\xfe,,,,,,,,,,,\n";  // line 6: bad UTF-8
  static const char kNul[] = "\"2026-11-27 02:14:09\",medium,198.51.100.10,udp,123,a\0b,,,,,,,,,,,\n";
  data += std::string(kNul, sizeof kNul - 1);                              // line 7: NUL byte
  data += kNtpRow + "\n";                                                  // line 8: good
  data += "\"2026-11-27 02:14:09\",medium,198.51.100.11,udp,123,\"trunc";  // line 9: truncated
  Parsed r = parse(data, "scan_ntpmonitor.csv");
  EXPECT_EQ(r.sink.events.size(), 2u);
  EXPECT_EQ(r.sink.count("shadowserver-bad-ip"), 1u);
  EXPECT_EQ(r.sink.count("shadowserver-bad-timestamp"), 1u);
  EXPECT_EQ(r.sink.count("csv-field-count"), 1u);
  EXPECT_EQ(r.sink.count("csv-invalid-utf8"), 1u);
  EXPECT_EQ(r.sink.count("csv-nul-byte"), 1u);
  EXPECT_EQ(r.sink.count("csv-unterminated-quote"), 1u);
  for (const auto& i : r.sink.issues) {
    EXPECT_EQ(i.input, "scan_ntpmonitor.csv");
    EXPECT_GT(i.line, 1u);
    EXPECT_FALSE(i.reason.empty());
    EXPECT_FALSE(i.excerpt.empty());
  }
  EXPECT_EQ(r.sink.issues[0].line, 3u);
  EXPECT_EQ(r.sink.issues[0].byte_offset, kNtpHeader.size() + 1 + kNtpRow.size() + 1);
}

TEST(Shadowserver, TruncatedLastLineWithoutNewline) {
  Parsed r = parse(kNtpHeader + "\n" + kNtpRow + "\n" + kNtpRow.substr(0, 40), "scan_ntpmonitor.csv");
  EXPECT_EQ(r.sink.events.size(), 1u);
  EXPECT_EQ(r.sink.count("csv-field-count"), 1u);
  Parsed complete = parse(kNtpHeader + "\n" + kNtpRow, "scan_ntpmonitor.csv");
  EXPECT_EQ(complete.sink.events.size(), 1u);
  EXPECT_EQ(complete.sink.count("csv-no-final-newline"), 1u);
}

TEST(Shadowserver, TenMegabyteLineIsOneIssue) {
  std::string data = kNtpHeader + "\n" + kNtpRow + "\n" + std::string(10 << 20, 'A') + "\n" + kNtpRow + "\n";
  Parsed r = parse(data, "scan_ntpmonitor.csv");
  EXPECT_EQ(r.sink.events.size(), 2u);
  EXPECT_EQ(r.sink.count("csv-line-too-long"), 1u);
  EXPECT_LE(r.sink.issues[0].excerpt.size(), 210u);
}

TEST(Shadowserver, BinaryJunkIsUnreadableNotACrash) {
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 131 + 7) & 0xff);
  Parsed r = parse(junk, "2026-11-27-scan_ntpmonitor-123-org-asn.csv");
  EXPECT_EQ(r.sink.events.size(), 0u);
  EXPECT_FALSE(r.sink.issues.empty());
}

TEST(Shadowserver, UnknownReportTypeIsUndeterminedWithEvidence) {
  std::string data = "\"timestamp\",\"ip\",\"port\",\"mystery\"\n\"2026-11-27 01:00:00\",198.51.100.1,443,x\n";
  Parsed r = parse(data, "2026-11-27-scan_brandnew-org-asn.csv");
  ASSERT_EQ(r.sink.events.size(), 1u);
  EXPECT_EQ(r.sink.count("shadowserver-unknown-report-type"), 1u);
  const auto& e = r.sink.events[0];
  EXPECT_TRUE(e.classification().is_undetermined());
  EXPECT_EQ(e.get("source.ip"), "198.51.100.1");
  EXPECT_EQ(e.get("extra.mystery"), "x");
  EXPECT_FALSE(e.raw.empty());
}

TEST(Shadowserver, HeaderSniffAndReportTypeOption) {
  std::string data = kNtpHeader + "\n" + kNtpRow + "\n";
  Input in;
  in.name = "attachment.csv";
  in.data = data;
  EXPECT_EQ(format().sniff(in), 60);
  ParseOptions opt;
  opt.report_type = "scan_ntpmonitor";
  Parsed r = parse(data, "attachment.csv", opt);
  ASSERT_EQ(r.sink.events.size(), 1u);
  EXPECT_EQ(r.sink.events[0].classification().to_string(), "vulnerable/ddos-amplifier/ntp-monitor");
  Input mail;
  mail.name = "x.eml";
  mail.data = "From: a@example.org\nSubject: hi\n\nbody";
  EXPECT_EQ(format().sniff(mail), 0);
}

TEST(Shadowserver, NonRsitLabelsAreMappedByTable) {
  std::string data = "\"timestamp\",\"ip\"\n\"2026-11-27 01:00:00\",198.51.100.1\n";
  Parsed r = parse(data, "2026-11-27-blocklist-org-asn.csv");
  ASSERT_EQ(r.sink.events.size(), 1u);
  EXPECT_EQ(r.sink.events[0].classification().to_string(), "other/undetermined/blacklisted-ip");
  EXPECT_EQ(r.sink.events[0].get("feed.classification"), "other/blacklist/blacklisted-ip");
}

TEST(Shadowserver, AmplifiersComeFromTheKnowledgeBaseNotFromCode) {
  // A test-only knowledge base (data_dir override replaces amplifiers.yaml) that knows SSDP with
  // its own figures and nothing else; the schema still comes from the embedded copy.
  auto dir = std::filesystem::temp_directory_path() / "klartext_ss_kb_test";
  std::filesystem::create_directories(dir / "knowledge");
  std::ofstream(dir / "knowledge/amplifiers.yaml") << R"(amplifiers:
  - identifier: open-ssdp
    aliases: [scan_ssdp]
    service: ssdp
    port: 1900
    baf_typical: 12.25
    baf_max: 99.5
    source: "test figures"
    de:
      title: "SSDP Test"
      explanation: "Test."
      remediation: "Test."
      check: "Test."
    en:
      title: "SSDP test"
      explanation: "Test."
      remediation: "Test."
      check: "Test."
)";
  ParseOptions opt;
  opt.data_dir = dir.string();
  std::string ssdp =
      "\"timestamp\",\"ip\",\"protocol\",\"port\",\"amplification\"\n\"2026-11-27 06:00:00\",203.0.113.130,udp,"
      "1900,12.5\n";
  Parsed plain = parse(ssdp, "2026-11-27-scan_ssdp-1900-org-asn.csv");
  ASSERT_EQ(plain.sink.events.size(), 1u);
  EXPECT_EQ(plain.sink.events[0].classification().to_string(), "vulnerable/ddos-amplifier/open-ssdp");
  EXPECT_NE(plain.sink.events[0].get("extra.amplifier.baf_typical"), "12.25");
  Parsed kb = parse(ssdp, "2026-11-27-scan_ssdp-1900-org-asn.csv", opt);
  ASSERT_EQ(kb.sink.events.size(), 1u);
  EXPECT_EQ(kb.sink.events[0].classification().to_string(), "vulnerable/ddos-amplifier/open-ssdp");
  EXPECT_EQ(kb.sink.events[0].get("extra.amplifier.baf_typical"), "12.25");
  EXPECT_EQ(kb.sink.events[0].get("extra.amplifier.baf_max"), "99.5");
  EXPECT_EQ(kb.sink.events[0].get("extra.amplifier.port"), "1900");
  EXPECT_EQ(kb.sink.events[0].get("extra.amplification"), "12.5");
  // NTP monlist is an amplifier in the embedded knowledge base, but not in the test one.
  std::string ntp = "\"timestamp\",\"ip\",\"protocol\",\"port\"\n\"2026-11-27 06:00:00\",203.0.113.131,udp,123\n";
  Parsed ntp_plain = parse(ntp, "2026-11-27-scan_ntpmonitor-123-org-asn.csv");
  ASSERT_EQ(ntp_plain.sink.events.size(), 1u);
  EXPECT_EQ(ntp_plain.sink.events[0].classification().to_string(), "vulnerable/ddos-amplifier/ntp-monitor");
  Parsed ntp_kb = parse(ntp, "2026-11-27-scan_ntpmonitor-123-org-asn.csv", opt);
  ASSERT_EQ(ntp_kb.sink.events.size(), 1u);
  EXPECT_EQ(ntp_kb.sink.events[0].classification().to_string(), "vulnerable/vulnerable-system/ntp-monitor");
}

TEST(Shadowserver, AmplifierByReportTypeFirst) {
  // open-ldap is the identifier of both LDAP reports; only the UDP one (CLDAP) amplifies.
  std::string data = "\"timestamp\",\"ip\",\"protocol\",\"port\"\n\"2026-11-27 06:00:00\",203.0.113.132,udp,389\n";
  Parsed udp = parse(data, "2026-11-27-scan_ldap_udp-389-org-asn.csv");
  ASSERT_EQ(udp.sink.events.size(), 1u);
  EXPECT_EQ(udp.sink.events[0].classification().to_string(), "vulnerable/ddos-amplifier/open-ldap");
  Parsed tcp = parse(data, "2026-11-27-scan_ldap_tcp-389-org-asn.csv");
  ASSERT_EQ(tcp.sink.events.size(), 1u);
  EXPECT_EQ(tcp.sink.events[0].classification().to_string(), "vulnerable/vulnerable-system/open-ldap");
  EXPECT_FALSE(tcp.sink.events[0].get("extra.amplifier.baf_typical").has_value());
  for (const char* name : {"2026-11-27-scan_stun-3478-org-asn.csv", "2026-11-27-scan6_stun-3478-org-asn.csv",
                           "2026-11-27-scan_sip-5060-org-asn.csv"}) {
    Parsed r = parse(data, name);
    ASSERT_EQ(r.sink.events.size(), 1u) << name;
    EXPECT_EQ(r.sink.events[0].classification().type, core::IncidentType::kDdosAmplifier) << name;
  }
}

TEST(Shadowserver, SinkholeIdentifierComesFromTheRow) {
  std::string data =
      "\"timestamp\",\"protocol\",\"src_ip\",\"src_port\",\"dst_ip\",\"dst_port\",\"infection\",\"http_host\","
      "\"http_url\"\n\"2026-11-27 08:00:00\",tcp,203.0.113.200,49152,192.0.2.80,80,andromeda,c2.example.org,"
      "\"GET /gate.php HTTP/1.1\"\n";
  Parsed r = parse(data, "2026-11-27-event4_sinkhole_http-org-asn.csv");
  ASSERT_EQ(r.sink.events.size(), 1u);
  const auto& e = r.sink.events[0];
  EXPECT_EQ(e.classification().to_string(), "malicious-code/infected-system/andromeda");
  EXPECT_EQ(e.get("malware.name"), "andromeda");
  EXPECT_EQ(e.get("destination.url"), "http://c2.example.org/gate.php");
  EXPECT_EQ(e.get("destination.ip"), "192.0.2.80");
}

}  // namespace
}  // namespace klartext::formats::shadowserver

namespace klartext::formats::shadowserver {
namespace {

TEST(Shadowserver, StreamingReleasesParsedBytes) {
  std::string data = kNtpHeader + "\n";
  while (data.size() < (9u << 20)) data += kNtpRow + "\n";
  std::vector<std::size_t> released;
  Input in;
  in.name = "scan_ntpmonitor.csv";
  in.data = data;
  in.release = [&](std::size_t offset) { released.push_back(offset); };
  struct Count : Sink {
    std::size_t events = 0, issues = 0;
    void on_event(const core::Event&) override { ++events; }
    void on_issue(const ParseIssue&) override { ++issues; }
  } sink;
  ParseOptions opt;
  parse_input(in, sink, opt);
  ASSERT_GE(released.size(), 2u);
  for (std::size_t i = 1; i < released.size(); ++i) EXPECT_GT(released[i], released[i - 1]);
  EXPECT_LT(released.back(), data.size());
  EXPECT_EQ(sink.issues, 0u);
  EXPECT_GT(sink.events, 40000u);
}

}  // namespace
}  // namespace klartext::formats::shadowserver

namespace klartext::formats::shadowserver {
namespace {

TEST(Shadowserver, OverlongColumnNameStaysRawOnly) {
  // A header name over the field-name limit is not interned: one file issue, the value stays in raw.
  const std::string hostile(core::kMaxInternedKeyBytes + 10, 'x');
  std::string data = "\"timestamp\",\"ip\",\"protocol\",\"port\",\"" + hostile +
                     "\"\n\"2026-11-27 06:00:00\",203.0.113.133,udp,123,secret\n";
  Parsed r = parse(data, "2026-11-27-scan_ntpmonitor-123-org-asn.csv");
  ASSERT_EQ(r.sink.events.size(), 1u);
  EXPECT_EQ(r.sink.count("shadowserver-column-key-limit"), 1u);
  EXPECT_FALSE(r.sink.events[0].get("extra." + hostile).has_value());
  EXPECT_FALSE(r.sink.events[0].get(core::kKeyLimitExceeded).has_value());
  EXPECT_NE(r.sink.events[0].raw.find("secret"), std::string::npos);
}

TEST(InternKey, NamedLimits) {
  EXPECT_FALSE(core::try_intern_key(std::string(core::kMaxInternedKeyBytes + 1, 'k')).has_value());
  EXPECT_EQ(core::intern_key(std::string(core::kMaxInternedKeyBytes + 1, 'k')), core::kKeyLimitExceeded);
  auto ok = core::try_intern_key(std::string(core::kMaxInternedKeyBytes, 'k'));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->size(), core::kMaxInternedKeyBytes);
}

}  // namespace
}  // namespace klartext::formats::shadowserver
