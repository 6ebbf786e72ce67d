// Tests of the free-text scanners: addresses (also defanged), ports, times with zones, roles of addresses.
#include <gtest/gtest.h>

#include "formats/freetext/extract.hpp"

namespace klartext::formats::freetext {
namespace {

std::vector<std::string> ips(std::string_view text) {
  std::vector<std::string> out;
  for (const IpHit& h : find_ips(text)) out.push_back(h.ip.to_string());
  return out;
}

std::string iso(std::string_view line, std::optional<core::Timestamp> sent = std::nullopt,
                std::optional<int> zone = std::nullopt) {
  auto t = find_time(line, sent, zone);
  return t ? t->time.to_iso() : "none";
}

core::Timestamp at(std::string_view s) {
  return *core::Timestamp::parse(s);
}

TEST(FreetextExtract, FindsIpv4AndIpv6) {
  EXPECT_EQ(ips("from 192.0.2.1 and [2001:db8::25]"), (std::vector<std::string>{"192.0.2.1", "2001:db8::25"}));
  EXPECT_EQ(ips("SRC=198.51.100.23 DST=203.0.113.5"), (std::vector<std::string>{"198.51.100.23", "203.0.113.5"}));
  EXPECT_EQ(ips("ip=::ffff:192.0.2.7;"), (std::vector<std::string>{"192.0.2.7"}));  // v4-mapped is IPv4
}

TEST(FreetextExtract, RejectsVersionsMacsAndClockTimes) {
  EXPECT_TRUE(ips("Chrome/96.0.4664.110 Safari").empty());
  EXPECT_TRUE(ips("version 1.2.3.4.5 released").empty());
  EXPECT_TRUE(ips("MAC=f8:a2:d6:6b:fd:9d:80:78:71:96:22:0e:08:00").empty());
  EXPECT_TRUE(ips("at 10:02:01 and 12:00").empty());
  EXPECT_TRUE(ips("OID 1.3.6.1.4.1.311").empty());
  EXPECT_TRUE(ips("192.0.2.256 and 01.2.3.4").empty());
}

TEST(FreetextExtract, Ports) {
  auto h = find_ips("192.0.2.1:8080 and [2001:db8::1]:22 and 198.51.100.2.51234 > 203.0.113.9.53: UDP");
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h[0].port, 8080);
  EXPECT_EQ(h[1].port, 22);
  EXPECT_EQ(h[2].port, 51234);
  EXPECT_EQ(h[3].port, 53);
}

TEST(FreetextExtract, Refang) {
  EXPECT_EQ(refang("192.0.2[.]1"), "192.0.2.1");
  EXPECT_EQ(refang("192[.]0[.]2[.]1"), "192.0.2.1");
  EXPECT_EQ(refang("hxxp://example[.]org/login"), "http://example.org/login");
  EXPECT_EQ(refang("hXXps[://]example(.)org"), "https://example.org");
  EXPECT_EQ(refang("2001:db8[:]:1"), "2001:db8::1");
  EXPECT_EQ(refang("example[dot]org"), "example.org");
  EXPECT_TRUE(looks_defanged("203.0.113[.]9"));
  EXPECT_FALSE(looks_defanged("203.0.113.9 [a] (b)"));
}

TEST(FreetextExtract, TimeFormats) {
  EXPECT_EQ(iso("2026-11-28T10:02:01Z"), "2026-11-28T10:02:01+00:00");
  EXPECT_EQ(iso("2026-11-28 10:02:01 +0100"), "2026-11-28T09:02:01+00:00");
  EXPECT_EQ(iso("at 2026-11-28 10:02:01,123 CET"), "2026-11-28T09:02:01.123000+00:00");
  EXPECT_EQ(iso("28.11.2026 10:02"), "2026-11-28T10:02:00+00:00");
  EXPECT_EQ(iso("28.11.2026, 10:02 Uhr MEZ"), "2026-11-28T09:02:00+00:00");
  EXPECT_EQ(iso("Sat, 28 Nov 2026 10:02:00 +0100"), "2026-11-28T09:02:00+00:00");
  EXPECT_EQ(iso("[28/Nov/2026:10:02:01 -0500] \"GET /"), "2026-11-28T15:02:01+00:00");
  EXPECT_EQ(iso("2026/11/28 10:02:01 PDT"), "2026-11-28T17:02:01+00:00");
  EXPECT_EQ(iso("Nov 28, 2026 10:02:01 PM UTC"), "2026-11-28T22:02:01+00:00");
  EXPECT_EQ(iso("Sat Nov 28 10:02:01 2026"), "2026-11-28T10:02:01+00:00");
  EXPECT_EQ(iso("2026-11-28 10:02 GMT+8"), "2026-11-28T02:02:00+00:00");
  EXPECT_EQ(iso("11/28/2026 10:02:01"), "2026-11-28T10:02:01+00:00");  // unambiguous month first
  EXPECT_EQ(iso("03/04/2026 10:02:01"), "none");                       // ambiguous day/month: no guess
  EXPECT_EQ(iso("no time here 2026"), "none");
}

TEST(FreetextExtract, SyslogYearFromMailDate) {
  EXPECT_EQ(iso("Nov 28 06:12:01 web1 sshd[1]: x", at("2026-11-28T09:00:00Z")), "2026-11-28T06:12:01+00:00");
  // A December line in a January mail is from the year before.
  EXPECT_EQ(iso("Dec 31 23:59:00 fw kernel: x", at("2027-01-01T08:00:00Z")), "2026-12-31T23:59:00+00:00");
  // Times without zone take the zone the text states.
  EXPECT_EQ(iso("Nov 28 06:12:01 x", at("2026-11-28T09:00:00Z"), 60), "2026-11-28T05:12:01+00:00");
}

TEST(FreetextExtract, ZoneStatements) {
  EXPECT_EQ(find_zone_statement("Timezone: GMT +8\n"), 480);
  EXPECT_EQ(find_zone_statement("Zeitzone: MEZ"), 60);
  EXPECT_EQ(find_zone_statement("All times are in UTC."), 0);
  EXPECT_EQ(find_zone_statement("Timezone Brussels Europe. UTC+1"), 60);
  EXPECT_EQ(find_zone_statement("nothing said"), std::nullopt);
}

std::map<std::string, Role> roles(std::string_view body, std::string_view subject = {}) {
  Extraction ex = extract(subject, body, {at("2026-11-28T12:00:00Z")});
  std::map<std::string, Role> out;
  for (const Mention& m : ex.mentions) {
    auto [it, inserted] = out.try_emplace(m.ip.to_string(), m.role);
    if (!inserted && m.role == Role::kSource) it->second = Role::kSource;
  }
  return out;
}

TEST(FreetextExtract, RolesFromFirewallAndSshLines) {
  auto r = roles(
      "Nov 28 01:04:49 fw kernel: SRC=198.51.100.23 DST=203.0.113.5 PROTO=TCP SPT=61953 DPT=22\n"
      "Nov 28 01:05:00 web sshd[9]: Failed password for root from 192.0.2.44 port 5022 ssh2\n");
  EXPECT_EQ(r["198.51.100.23"], Role::kSource);
  EXPECT_EQ(r["203.0.113.5"], Role::kDestination);
  EXPECT_EQ(r["192.0.2.44"], Role::kSource);
}

TEST(FreetextExtract, RolesFromHeadingsTablesAndProse) {
  auto r = roles(
      "Your IP 198.51.100.23 attacked us.\n"
      "It was targeting our ips:\n"
      "ip: 203.0.113.1\n"
      "ip: 203.0.113.2\n"
      "\n"
      "asn, ip, timestamp, dst_ip, dst_port\n"
      "64496, 192.0.2.10, 2026-11-28 10:00:00, 203.0.113.80, 80\n"
      "\n"
      "Von Ihrer IP 192.0.2.99 gehen Angriffe auf unseren Server\n"
      "203.0.113.7 aus.\n");
  EXPECT_EQ(r["198.51.100.23"], Role::kSource);
  EXPECT_EQ(r["203.0.113.1"], Role::kDestination);
  EXPECT_EQ(r["203.0.113.2"], Role::kDestination);
  EXPECT_EQ(r["192.0.2.10"], Role::kSource);
  EXPECT_EQ(r["203.0.113.80"], Role::kDestination);
  EXPECT_EQ(r["192.0.2.99"], Role::kSource);
  EXPECT_EQ(r["203.0.113.7"], Role::kDestination);
}

TEST(FreetextExtract, ReceivedChainRelaysAndReceivers) {
  Extraction ex = extract({},
                          "Received: from mx.example.org (mx.example.org [203.0.113.25])\n"
                          "\tby mail.example.net (Postfix) with ESMTP; Sat, 28 Nov 2026 10:00:00 +0000\n"
                          "Received: from client.example.org (unknown [198.51.100.77])\n"
                          "\tby mx.example.org with ESMTPSA\n"
                          "X-Forefront-Antispam-Report: CIP:192.0.2.200;CTRY:\n",
                          {at("2026-11-28T12:00:00Z")});
  std::map<std::string, Role> r;
  for (const Mention& m : ex.mentions) r[m.ip.to_string()] = m.role;
  EXPECT_EQ(r["203.0.113.25"], Role::kRelay);
  EXPECT_EQ(r["198.51.100.77"], Role::kRelay);
  EXPECT_EQ(r["192.0.2.200"], Role::kDestination);  // another header: no evidence about the address
}

TEST(FreetextExtract, SkipsWhoisAndRanges) {
  auto r = roles(
      "inetnum:        198.51.100.0 - 198.51.100.255\n"
      "% Abuse contact for '198.51.100.0 - 198.51.100.255'\n"
      "Blocked range 192.0.2.0/24 today\n");
  EXPECT_TRUE(r.empty());
}

TEST(FreetextExtract, DefangedAddressesAndUrls) {
  Extraction ex = extract({}, "phishing at hxxp://198.51.100[.]77/login and 203[.]0[.]113[.]8\n", {});
  ASSERT_EQ(ex.mentions.size(), 2u);
  EXPECT_EQ(ex.mentions[0].ip.to_string(), "198.51.100.77");
  EXPECT_EQ(ex.mentions[1].ip.to_string(), "203.0.113.8");
  ASSERT_EQ(ex.urls.size(), 1u);
  EXPECT_EQ(ex.urls[0].url, "http://198.51.100.77/login");
  EXPECT_TRUE(ex.urls[0].defanged);
}

TEST(FreetextExtract, HostileInputStaysBounded) {
  std::string junk(1 << 18, '1');
  for (std::size_t i = 0; i < junk.size(); i += 3) junk[i] = '.';
  Extraction ex = extract(junk, junk, {});
  EXPECT_TRUE(ex.mentions.empty());
  std::string colons(1 << 16, ':');
  EXPECT_TRUE(find_ips(colons).empty());
}

}  // namespace
}  // namespace klartext::formats::freetext
