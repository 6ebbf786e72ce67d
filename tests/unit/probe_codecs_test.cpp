// Probe codecs: requests byte-equal to the project's spec-built probes, decoders on captured and
// synthetic answers, and no crash on garbage or truncation.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "knowledge/knowledge.hpp"
#include "probe/catalogue.hpp"
#include "probe/codec.hpp"
#include "probe/wire.hpp"

namespace klartext::probe {
namespace {

const std::string kProbes = std::string(KLARTEXT_SHARED_DIR) + "/corpus/probes";

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The upstream probe files and captures live in ../shared (CI has it): without it the tests that
// compare against them are skipped, not failed.
bool have_probe_corpus() {
  return std::filesystem::is_directory(kProbes);
}

const Catalogue& cat() {
  return Catalogue::instance();
}

std::string build(std::string_view probe, std::string_view variant, std::uint32_t txid) {
  const auto* p = cat().find(probe);
  EXPECT_NE(p, nullptr) << probe;
  const auto* v = variant.empty() ? &p->variants.front() : p->find_variant(variant);
  EXPECT_NE(v, nullptr) << variant;
  return p->codec->build(v->params, txid);
}

Decoded decode(std::string_view probe, const std::string& req, const std::vector<std::string>& dgrams) {
  const auto* p = cat().find(probe);
  return p->codec->decode(p->variants.front().params, req, dgrams);
}

std::string detail(const Decoded& d, std::string_view key) {
  const auto* x = d.find(key);
  return x ? x->value : "<none>";
}

// UDP payloads of a classic pcap (link type 1 Ethernet or 228 raw IPv4), with ports.
struct Udp {
  std::uint16_t sport, dport;
  std::string payload;
};
std::vector<Udp> read_pcap(const std::string& path) {
  std::string b = read_file(path);
  std::vector<Udp> out;
  if (b.size() < 24) return out;
  auto le32 = [&](std::size_t o) {
    return static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[o]) | (static_cast<std::uint8_t>(b[o + 1]) << 8) |
                                      (static_cast<std::uint8_t>(b[o + 2]) << 16) |
                                      (static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[o + 3])) << 24));
  };
  std::uint32_t link = le32(20);
  std::size_t pos = 24;
  while (pos + 16 <= b.size()) {
    std::uint32_t caplen = le32(pos + 8);
    std::string_view pkt(b.data() + pos + 16, std::min<std::size_t>(caplen, b.size() - pos - 16));
    pos += 16 + caplen;
    if (link == 1) {
      if (pkt.size() < 14 || pkt[12] != 0x08 || pkt[13] != 0x00) continue;
      pkt.remove_prefix(14);
    }
    if (pkt.size() < 28 || (pkt[0] >> 4) != 4 || pkt[9] != 17) continue;
    std::size_t ihl = (static_cast<std::uint8_t>(pkt[0]) & 0xf) * 4;
    wire::Reader r(pkt.substr(ihl));
    Udp u;
    u.sport = r.u16();
    u.dport = r.u16();
    std::size_t len = r.u16();
    r.u16();
    if (!r.ok() || len < 8) continue;
    u.payload = std::string(r.bytes(len - 8));
    if (r.ok()) out.push_back(std::move(u));
  }
  return out;
}

TEST(ProbeCatalogue, EveryKnowledgeProbeNameExists) {
  for (const char* n : {"ntp-monitor", "ntp-version", "dns", "ssdp", "memcached", "chargen", "qotd", "snmp",
                        "portmapper", "mdns", "netbios", "cldap", "ws-discovery", "coap", "ard", "tftp"}) {
    EXPECT_NE(cat().find(n), nullptr) << n;
  }
  EXPECT_EQ(cat().select("ntp").size(), 3u);
  EXPECT_TRUE(cat().select("nonsense").empty());
}

// The knowledge base's `probe` field must name a catalogue entry (or be empty).
TEST(ProbeCatalogue, KnowledgeBaseProbesExist) {
  for (const auto& a : knowledge::KnowledgeBase::instance().amplifiers()) {
    if (!a.probe.empty()) {
      const auto* p = cat().find(a.probe);
      ASSERT_NE(p, nullptr) << a.identifier << " names probe " << a.probe;
      EXPECT_EQ(p->port, a.port) << a.identifier;
    }
  }
}

TEST(ProbeCatalogue, BadDataIsRejectedWithTheEntryName) {
  EXPECT_THROW(Catalogue::parse("probes:\n  - {name: x, port: 1, codec: nope, variants: [{name: a}]}\n"),
               std::runtime_error);
  EXPECT_THROW(Catalogue::parse("probes:\n  - {name: x, port: 70000, codec: dns, variants: [{name: a}]}\n"),
               std::runtime_error);
  EXPECT_THROW(Catalogue::parse("probes:\n  - {name: x, port: 53, codec: dns, variants: []}\n"), std::runtime_error);
  EXPECT_THROW(Catalogue::parse("nothing: here\n"), std::runtime_error);
}

// Requests equal the spec-built probe files of shared/corpus/probes/own (same ids).
TEST(ProbeCodecs, RequestsMatchTheOwnCorpus) {
  if (!have_probe_corpus()) GTEST_SKIP() << "shared probe corpus not found at " << kProbes;
  struct Case {
    const char* probe;
    const char* variant;
    std::uint32_t txid;
    const char* file;
  } cases[] = {
      {"ntp-monitor", "impl3-req42-8b", 0, "ntp_mode7_monlist_impl3_8B.bin"},
      {"ntp-monitor", "impl3-req42", 0, "ntp_mode7_monlist_impl3_48B.bin"},
      {"ntp-version", "", 1, "ntp_mode6_readvar_12B.bin"},
      {"dns", "", 0x1234, "dns_any_root_rd_edns4096.bin"},
      {"memcached", "", 1, "memcached_stats_15B.bin"},
      {"ssdp", "", 0, "ssdp_msearch_ssdp_all.bin"},
      {"chargen", "", 0, "chargen_1B.bin"},
      {"qotd", "", 0, "qotd_1B.bin"},
      {"snmp", "", 0x1234, "snmp_v2c_getbulk_public.bin"},
      {"portmapper", "", 0x12345678, "portmap_v2_dump.bin"},
      {"mdns", "", 0, "mdns_services_ptr_qu.bin"},
      {"netbios", "", 0x1234, "netbios_nbstat.bin"},
      {"cldap", "", 0, "cldap_rootdse_search.bin"},
      {"ws-discovery", "", 1, "wsd_probe.bin"},
      {"coap", "", 0x1234, "coap_get_well_known_core.bin"},
      {"ard", "", 0, "ard_3283.bin"},
      {"tftp", "", 0, "tftp_rrq.bin"},
  };
  for (const auto& c : cases) {
    std::string want = read_file(kProbes + "/own/" + c.file);
    ASSERT_FALSE(want.empty()) << c.file;
    EXPECT_EQ(build(c.probe, c.variant, c.txid), want) << c.probe << " vs " << c.file;
  }
  // Implementation 2 / REQ_MON_GETLIST, 8 bytes.
  Params p{{"impl", "2"}, {"request_code", "20"}, {"size", "8"}};
  EXPECT_EQ(cat().find("ntp-monitor")->codec->build(p, 0),
            read_file(kProbes + "/own/ntp_mode7_monlist_impl2_req20_8B.bin"));
  // The zmap monlist probe is our 192-byte variant.
  EXPECT_EQ(build("ntp-monitor", "impl3-req42-192b", 0), read_file(kProbes + "/zmap/ntp_123_monlist.pkt"));
}

TEST(ProbeCodecs, MonlistFromTheSyntheticCapture) {
  if (!have_probe_corpus()) GTEST_SKIP() << "shared probe corpus not found at " << kProbes;
  auto pkts = read_pcap(kProbes + "/captures/synthetic_mode7_monlist.pcap");
  ASSERT_GE(pkts.size(), 4u);
  std::string req;
  std::vector<std::string> replies;
  for (const auto& u : pkts) {
    if (u.dport == 123 && req.empty()) req = u.payload;
    if (u.sport == 123) replies.push_back(u.payload);
  }
  ASSERT_EQ(req.size(), 8u);
  // The two data datagrams: 6 items (440 B) and the 152-byte last one (2 items).
  std::vector<std::string> data(replies.begin(), replies.begin() + 2);
  auto d = decode("ntp-monitor", req, data);
  EXPECT_TRUE(d.valid);
  EXPECT_TRUE(d.open);
  EXPECT_EQ(detail(d, "entries"), "8");
  EXPECT_EQ(detail(d, "item_size"), "72");
  EXPECT_EQ(detail(d, "complete"), "yes");
  // The err 4 reply: mode 7 is on, monlist gives no data (not an amplifier).
  auto e = decode("ntp-monitor", req, {replies.back()});
  EXPECT_TRUE(e.valid);
  EXPECT_FALSE(e.open);
  EXPECT_EQ(detail(e, "error"), "no-data");
}

TEST(ProbeCodecs, ReadvarFromTheNtpsecCapture) {
  if (!have_probe_corpus()) GTEST_SKIP() << "shared probe corpus not found at " << kProbes;
  auto pkts = read_pcap(kProbes + "/captures/ntpsec122_debian_default_loopback.pcap");
  // The first mode 6 READVAR request and its reply.
  std::string req, reply;
  for (const auto& u : pkts) {
    if (u.payload.size() < 12 || (u.payload[0] & 7) != 6) continue;
    bool response = static_cast<std::uint8_t>(u.payload[1]) & 0x80;
    if (!response && (u.payload[1] & 0x1f) == 2 && u.payload.size() == 12 && req.empty()) req = u.payload;
    if (response && !req.empty() && u.payload.substr(2, 2) == req.substr(2, 2) && reply.empty()) reply = u.payload;
  }
  ASSERT_FALSE(req.empty());
  ASSERT_EQ(reply.size(), 360u);
  auto d = decode("ntp-version", req, {reply});
  EXPECT_TRUE(d.valid);
  EXPECT_TRUE(d.open);
  EXPECT_EQ(detail(d, "version").rfind("ntpd ntpsec-1.2.2", 0), 0u) << detail(d, "version");
  EXPECT_EQ(detail(d, "stratum"), "16");
  // Another sequence number is not our answer.
  std::string other = req;
  other[3] ^= 0x55;
  EXPECT_FALSE(decode("ntp-version", other, {reply}).valid);
}

std::string tlv(std::uint8_t tag, std::string_view v) {
  std::string o;
  wire::ber_put(o, tag, v);
  return o;
}

TEST(ProbeCodecs, SnmpResponseSysDescr) {
  std::string req = build("snmp", "", 0x1234);
  std::string vb1 = tlv(0x30, tlv(0x06, wire::ber_oid("1.3.6.1.2.1.1.1.0")) + tlv(0x04, "Linux router 5.10"));
  std::string vb2 = tlv(0x30, tlv(0x06, wire::ber_oid("1.3.6.1.2.1.1.5.0")) + tlv(0x04, "gw1"));
  std::string pdu = tlv(0xa2, tlv(0x02, wire::ber_int(0x1234)) + tlv(0x02, wire::ber_int(0)) +
                                  tlv(0x02, wire::ber_int(0)) + tlv(0x30, vb1 + vb2));
  std::string msg = tlv(0x30, tlv(0x02, wire::ber_int(1)) + tlv(0x04, "public") + pdu);
  auto d = decode("snmp", req, {msg});
  EXPECT_TRUE(d.open);
  EXPECT_EQ(detail(d, "sysDescr"), "Linux router 5.10");
  EXPECT_EQ(detail(d, "sysName"), "gw1");
  EXPECT_EQ(detail(d, "varbinds"), "2");
  // A response to another request id is not ours.
  EXPECT_FALSE(decode("snmp", build("snmp", "", 0x4321), {msg}).valid);
  EXPECT_EQ(wire::ber_oid_text(wire::ber_oid("1.3.6.1.4.1.8072.3.2.10")), "1.3.6.1.4.1.8072.3.2.10");
}

TEST(ProbeCodecs, DnsRecursionAvailableAndRefused) {
  std::string req = build("dns", "", 0xbeef);
  std::string open = req;
  open[2] = static_cast<char>(0x81);  // QR, RD
  open[3] = static_cast<char>(0x80);  // RA, NOERROR
  auto d = decode("dns", req, {open});
  EXPECT_TRUE(d.valid);
  EXPECT_TRUE(d.open);
  EXPECT_EQ(detail(d, "recursion_available"), "yes");
  std::string refused = req.substr(0, 12);
  refused[2] = static_cast<char>(0x81);
  refused[3] = 0x05;  // REFUSED, no RA
  refused[5] = 0;     // no question echoed
  refused[11] = 0;
  auto r = decode("dns", req, {refused});
  EXPECT_TRUE(r.valid);
  EXPECT_FALSE(r.open);
  EXPECT_EQ(detail(r, "rcode"), "REFUSED");
  // Our own query reflected back (QR 0) is not an answer.
  EXPECT_FALSE(decode("dns", req, {req}).valid);
}

TEST(ProbeCodecs, MemcachedReassemblesOutOfOrderAndCountsMissing) {
  std::string req = build("memcached", "", 0x0102);
  auto frame = [](std::uint16_t seq, std::uint16_t total, std::string body) {
    std::string o;
    wire::put_u16(o, 0x0102);
    wire::put_u16(o, seq);
    wire::put_u16(o, total);
    wire::put_u16(o, 0);
    return o + body;
  };
  auto d = decode("memcached", req,
                  {frame(1, 3, "STAT version 1.6.18\r\n"), frame(0, 3, "STAT pid 1\r\nSTAT uptime 5\r\n"),
                   frame(1, 3, "STAT version 1.6.18\r\n")});
  EXPECT_TRUE(d.open);
  EXPECT_EQ(detail(d, "version"), "1.6.18");
  EXPECT_EQ(detail(d, "datagrams_announced"), "3");
  EXPECT_EQ(detail(d, "datagrams_received"), "2");
  EXPECT_FALSE(decode("memcached", req, {frame(0, 1, "<html>not memcached")}).valid);
}

TEST(ProbeCodecs, SsdpServerHeader) {
  auto d =
      decode("ssdp", build("ssdp", "", 0),
             {"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: upnp:rootdevice\r\nSERVER: Linux/3.14 UPnP/1.0 "
              "MiniUPnPd/2.3\r\nLOCATION: http://192.0.2.1:5000/rootDesc.xml\r\n\r\n",
              "HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n"});
  EXPECT_TRUE(d.open);
  EXPECT_EQ(detail(d, "server"), "Linux/3.14 UPnP/1.0 MiniUPnPd/2.3");
  EXPECT_EQ(detail(d, "responses"), "2");
  EXPECT_EQ(detail(d, "search_targets"), "2");
}

TEST(ProbeCodecs, PortmapDumpCountsPrograms) {
  std::string req = build("portmapper", "", 7);
  std::string r;
  wire::put_u32(r, 7);
  wire::put_u32(r, 1);  // REPLY
  wire::put_u32(r, 0);  // accepted
  wire::put_u32(r, 0);  // verf AUTH_NULL
  wire::put_u32(r, 0);
  wire::put_u32(r, 0);  // SUCCESS
  for (std::uint32_t prog : {100000u, 100000u, 100003u, 100005u}) {
    wire::put_u32(r, 1);
    wire::put_u32(r, prog);
    wire::put_u32(r, 2);
    wire::put_u32(r, 17);
    wire::put_u32(r, 111);
  }
  wire::put_u32(r, 0);
  auto d = decode("portmapper", req, {r});
  EXPECT_TRUE(d.open);
  EXPECT_EQ(detail(d, "mappings"), "4");
  EXPECT_EQ(detail(d, "programs"), "3");
  EXPECT_EQ(detail(d, "program_list"), "portmapper, nfs, mountd");
}

TEST(ProbeCodecs, NetbiosNodeStatus) {
  std::string req = build("netbios", "", 0x4242);
  std::string r = req.substr(0, 2);
  wire::put_u16(r, 0x8400);
  wire::put_u16(r, 0);
  wire::put_u16(r, 1);
  wire::put_u16(r, 0);
  wire::put_u16(r, 0);
  r += req.substr(12, 34);  // the encoded name
  wire::put_u16(r, 0x21);
  wire::put_u16(r, 1);
  wire::put_u32(r, 0);
  std::string rdata(1, '\x02');
  rdata += std::string("FILESERVER     ") + '\x00' + std::string("\x04\x00", 2);
  rdata += std::string("WORKGROUP      ") + '\x00' + std::string("\x84\x00", 2);
  rdata += std::string("\x00\x11\x22\x33\x44\x55", 6);
  wire::put_u16(r, static_cast<std::uint32_t>(rdata.size()));
  r += rdata;
  auto d = decode("netbios", req, {r});
  EXPECT_TRUE(d.open);
  EXPECT_EQ(detail(d, "computer_name"), "FILESERVER");
  EXPECT_EQ(detail(d, "workgroup"), "WORKGROUP");
  EXPECT_EQ(detail(d, "mac"), "00:11:22:33:44:55");
}

TEST(ProbeCodecs, CldapRootDse) {
  std::string req = build("cldap", "", 0);  // message id 1
  std::string attr = tlv(0x30, tlv(0x04, "dnsHostName") + tlv(0x31, tlv(0x04, "dc1.example.org")));
  std::string entry = tlv(0x30, tlv(0x02, wire::ber_int(1)) + tlv(0x64, tlv(0x04, "") + tlv(0x30, attr)));
  std::string done =
      tlv(0x30, tlv(0x02, wire::ber_int(1)) + tlv(0x65, tlv(0x0a, wire::ber_int(0)) + tlv(0x04, "") + tlv(0x04, "")));
  auto d = decode("cldap", req, {entry + done});
  EXPECT_TRUE(d.open);
  EXPECT_EQ(detail(d, "dnsHostName"), "dc1.example.org");
  EXPECT_EQ(detail(d, "result_code"), "0");
}

TEST(ProbeCodecs, CoapTftpWsdArdChargenQotd) {
  std::string creq = build("coap", "", 0x0a0b);
  std::string cresp = "\x60\x45\x0a\x0b\xc1\x28\xff</sensors>;rt=\"temp\",</.well-known/core>";
  auto c = decode("coap", creq, {cresp});
  EXPECT_TRUE(c.open);
  EXPECT_EQ(detail(c, "code"), "2.05");
  EXPECT_EQ(detail(c, "resources"), "2");

  auto t = decode("tftp", build("tftp", "", 0),
                  {std::string("\x00\x05\x00\x01"
                               "File not found\0",
                               19)});
  EXPECT_TRUE(t.valid);
  EXPECT_FALSE(t.open);
  EXPECT_EQ(detail(t, "message"), "File not found");

  auto w = decode("ws-discovery", build("ws-discovery", "", 1),
                  {"<soap:Envelope><soap:Body><wsd:ProbeMatches><wsd:ProbeMatch><wsd:Types>dn:NetworkVideoTransmitter"
                   "</wsd:Types><wsd:XAddrs>http://192.0.2.5/onvif</wsd:XAddrs></wsd:ProbeMatch></wsd:ProbeMatches>"
                   "</soap:Body></soap:Envelope>"});
  EXPECT_TRUE(w.open);
  EXPECT_EQ(detail(w, "types"), "dn:NetworkVideoTransmitter");
  EXPECT_EQ(detail(w, "xaddrs"), "http://192.0.2.5/onvif");

  auto a = decode("ard", build("ard", "", 0), {std::string("\x00\x01\x00\x00\x00", 5) + "Marketing-iMac"});
  EXPECT_TRUE(a.valid);
  EXPECT_EQ(detail(a, "validation"), "weak");
  EXPECT_EQ(detail(a, "text"), "Marketing-iMac");
  EXPECT_FALSE(decode("ard", build("ard", "", 0), {build("ard", "", 0)}).valid);  // an echo

  std::string req = build("chargen", "", 0);
  EXPECT_TRUE(decode("chargen", req, {" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFG\r\n"}).open);
  EXPECT_FALSE(decode("chargen", req, {req}).valid);  // an echo service is not chargen
  EXPECT_TRUE(decode("qotd", req, {"A quote.\r\n"}).open);
  EXPECT_FALSE(decode("qotd", req, {"\r\n"}).valid);
}

// Hostile answers: random bytes and every truncation of plausible answers never crash or hang.
TEST(ProbeCodecs, GarbageAndTruncationAreHarmless) {
  std::mt19937 rng(42);
  std::vector<std::string> seeds = {
      read_file(kProbes + "/own/snmp_v2c_getbulk_public.bin"), read_file(kProbes + "/own/cldap_rootdse_search.bin"),
      read_file(kProbes + "/own/netbios_nbstat.bin"), read_file(kProbes + "/own/mdns_services_ptr_qu.bin"),
      read_file(kProbes + "/own/coap_get_well_known_core.bin")};
  for (const auto& u : read_pcap(kProbes + "/captures/synthetic_mode7_monlist.pcap")) seeds.push_back(u.payload);
  for (int i = 0; i < 60; ++i) {
    std::string g(rng() % 600, '\0');
    for (auto& c : g) c = static_cast<char>(rng());
    seeds.push_back(g);
  }
  for (const auto& p : cat().probes()) {
    for (const auto& v : p.variants) {
      std::string req = p.codec->build(v.params, 0x1234);
      for (const auto& s : seeds) {
        for (std::size_t cut = 0; cut <= s.size(); cut += (s.size() > 64 ? 7 : 1)) {
          std::string t = s.substr(0, cut);
          if (t.size() >= 2) {
            t[0] = req[0];  // make ids match more often so deeper parsing is reached
            t[1] = req.size() > 1 ? req[1] | static_cast<char>(0x80) : t[1];
          }
          (void)p.codec->decode(v.params, req, {t});
        }
      }
    }
  }
  std::size_t pos = 0;
  EXPECT_FALSE(wire::dns_get_name(std::string("\xc0\x00", 2), pos).has_value());  // pointer loop
}

}  // namespace
}  // namespace klartext::probe
