// Archive members parsed while they decompress give what the whole member gives; damage and limits mid-stream.
#include "formats/mail/archive.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "archive_maker.hpp"
#include "core/event.hpp"
#include "formats/format.hpp"

// zlib's checksum as this program computes it (src/formats/mail/archive.cpp).
extern "C" unsigned long crc32(unsigned long crc, const unsigned char* buf, unsigned int len);

namespace klartext::formats {
namespace {

constexpr std::size_t kHead = 1 << 20;  // what the mail format reads before it streams a member

// Events (as JSON, from the fast path or Event objects) and issues with everything they tell.
class Record : public Sink {
 public:
  explicit Record(bool json) : json_(json) {}
  void on_event(const core::Event& e) override { events.push_back(e.to_json()); }
  void on_issue(const ParseIssue& i) override { issues.push_back(i.to_json()); }
  std::string* event_json_buffer() override { return json_ ? &buffer_ : nullptr; }
  void on_event_json(const core::Classification&) override {
    events.push_back(buffer_);
    buffer_.clear();
  }
  bool has(std::string_view code) const {
    for (const auto& i : issues) {
      if (i.find("\"code\":\"" + std::string(code) + "\"") != std::string::npos) return true;
    }
    return false;
  }
  std::vector<std::string> events;
  std::vector<std::string> issues;

 private:
  bool json_;
  std::string buffer_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A Shadowserver report of more than `bytes`: the bad-rows fixture's rows (bad addresses and times,
// field counts, invalid UTF-8, quoted line feeds, a stray quote) repeated, CRLF in every other copy.
std::string big_report(std::size_t bytes) {
  std::string fixture = read_file(std::string(KLARTEXT_SOURCE_DIR) +
                                  "/tests/golden/shadowserver/bad-rows/2026-11-27-scan_ntpmonitor-123-org-asn.csv");
  std::size_t nl = fixture.find('\n');
  std::string out = fixture.substr(0, nl + 1);
  std::string body = fixture.substr(nl + 1);
  if (!body.ends_with('\n')) body += '\n';
  std::string crlf;
  for (char c : body) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  for (std::size_t copy = 0; out.size() <= bytes; ++copy) out += copy % 2 == 0 ? body : crlf;
  return out;
}

std::string pack(const std::string& name, const std::string& content, bool gzip, bool store = false) {
  using testing::Packing;
  return testing::pack_member(name, content, gzip ? Packing::kGzip : store ? Packing::kZipStored : Packing::kZip);
}

// Parses every member of `packed`: streamed (from its head on) or read whole first.
struct Parsed {
  std::unique_ptr<Record> sink;
  std::size_t streamed = 0;
};
Parsed parse_members(const std::string& packed, const std::string& name, bool stream, bool json,
                     const ParseOptions& options = {}) {
  Parsed run;
  run.sink = std::make_unique<Record>(json);
  Input outer;
  outer.name = "mail.eml";
  outer.data = packed;
  ParseContext ctx(*run.sink, options, outer);
  mail::for_each_member(
      packed, name, ctx,
      [&](mail::ArchiveMember& m) {
        Input child;
        child.name = "mail.eml#" + m.name();
        child.filename_hint = m.name();
        if (stream && !m.complete()) {
          child.more = &m;
          ++run.streamed;
        } else if (!m.read_all()) {
          return;
        }
        child.data = m.bytes();
        ctx.parse_child(child);
      },
      kHead);
  return run;
}

TEST(ArchiveStreaming, StreamedMemberGivesTheWholeMembersEventsAndIssues) {
  const std::string csv = big_report(5 << 18);
  for (bool gzip : {true, false}) {
    const std::string packed = pack("2026-11-27-scan_ntpmonitor-123-org-asn.csv", csv, gzip);
    const std::string name = gzip ? "2026-11-27-scan_ntpmonitor-123-org-asn.csv.gz" : "report.zip";
    for (bool json : {true, false}) {
      Parsed whole = parse_members(packed, name, false, json);
      Parsed streamed = parse_members(packed, name, true, json);
      EXPECT_EQ(streamed.streamed, 1u);
      EXPECT_GT(whole.sink->events.size(), 1500u);
      EXPECT_GT(whole.sink->issues.size(), 10000u);
      EXPECT_EQ(streamed.sink->events, whole.sink->events) << "gzip " << gzip << " json " << json;
      EXPECT_EQ(streamed.sink->issues, whole.sink->issues) << "gzip " << gzip << " json " << json;
    }
  }
}

TEST(ArchiveStreaming, TruncatedArchiveKeepsTheRowsBeforeTheDamage) {
  const std::string csv = big_report(3 << 19);
  for (bool gzip : {true, false}) {
    std::string packed = pack("2026-11-27-scan_ntpmonitor-123-org-asn.csv", csv, gzip);
    // Cut the compressed bytes in the middle (a zip keeps its directory: corrupt the data instead).
    if (gzip) {
      // Without its end, and with a made-up trailer stating the full size (else the size is unknown
      // and the member is read whole).
      std::uint32_t size = static_cast<std::uint32_t>(csv.size());
      packed.resize(packed.size() * 4 / 5);
      packed += std::string(4, '\0');
      for (int i = 0; i < 4; ++i) packed += static_cast<char>((size >> (8 * i)) & 0xff);
    } else {
      for (std::size_t i = packed.size() * 3 / 5; i < packed.size() * 3 / 5 + 64; ++i) packed[i] = 'X';
    }
    const std::string name = gzip ? "2026-11-27-scan_ntpmonitor-123-org-asn.csv.gz" : "report.zip";
    Parsed whole = parse_members(packed, name, false, true);
    Parsed streamed = parse_members(packed, name, true, true);
    EXPECT_EQ(streamed.streamed, 1u) << "gzip " << gzip;
    EXPECT_TRUE(streamed.sink->has("archive-unreadable"));
    EXPECT_GT(streamed.sink->events.size(), 1000u);
    // The same rows; the damage is recorded when the stream reaches it, after the rows before it.
    EXPECT_EQ(streamed.sink->events, whole.sink->events);
    auto sorted = [](std::vector<std::string> v) {
      std::sort(v.begin(), v.end());
      return v;
    };
    EXPECT_EQ(sorted(streamed.sink->issues), sorted(whole.sink->issues));
  }
}

TEST(ArchiveStreaming, LimitHitMidStreamStopsWithTheLimitIssue) {
  const std::string csv = big_report(3 << 19);
  std::string packed = pack("x.csv", csv, true);
  // The gzip trailer understates the size, so the member is streamed until the limit catches it.
  const std::uint32_t claimed = 9 << 17;  // more than the head, less than the limit
  for (int i = 0; i < 4; ++i) packed[packed.size() - 4 + i] = static_cast<char>((claimed >> (8 * i)) & 0xff);
  ParseOptions options;
  options.limits.max_attachment_bytes = 5 << 18;
  Parsed streamed = parse_members(packed, "2026-11-27-scan_ntpmonitor-123-org-asn.csv.gz", true, true, options);
  EXPECT_EQ(streamed.streamed, 1u);
  EXPECT_TRUE(streamed.sink->has("decompression-limit"));
  EXPECT_GT(streamed.sink->events.size(), 1000u);
  // The rows before the cut (1.25 MiB) are read; the cut record is dropped, not reported as truncated.
  Parsed whole = parse_members(pack("x.csv", csv.substr(0, 5 << 18), true),
                               "2026-11-27-scan_ntpmonitor-123-org-asn.csv.gz", false, true);
  auto& events = streamed.sink->events;
  ASSERT_LE(events.size(), whole.sink->events.size());
  EXPECT_GE(events.size() + 1, whole.sink->events.size());
  EXPECT_TRUE(std::equal(events.begin(), events.end(), whole.sink->events.begin()));
  std::vector<std::string> issues;
  for (const auto& i : streamed.sink->issues) {
    if (i.find("\"code\":\"decompression-limit\"") == std::string::npos) issues.push_back(i);
  }
  ASSERT_LE(issues.size(), whole.sink->issues.size());
  EXPECT_GE(issues.size() + 1, whole.sink->issues.size());
  EXPECT_TRUE(std::equal(issues.begin(), issues.end(), whole.sink->issues.begin()));
}

TEST(ArchiveStreaming, SmallMembersAndLimitsAsBefore) {
  const std::string csv = big_report(100 << 10);
  const std::string packed = pack("2026-11-27-scan_ntpmonitor-123-org-asn.csv", csv, false);
  Parsed streamed = parse_members(packed, "r.zip", true, true);
  EXPECT_EQ(streamed.streamed, 0u);  // read whole in its head
  ParseOptions options;
  options.limits.max_decompression_ratio = 2;
  Parsed limited = parse_members(packed, "r.zip", true, true, options);
  EXPECT_TRUE(limited.sink->has("decompression-limit"));
  EXPECT_TRUE(limited.sink->events.empty());
}

// The mail path: a large zipped report parses to the plain report's events and issues.
TEST(ArchiveStreaming, MailWithLargeZippedReportMatchesThePlainReport) {
  const std::string csv = big_report(5 << 18);
  const std::string name = "2026-11-27-scan_ntpmonitor-123-org-asn.csv";
  const std::string zip = pack(name, csv, false);
  std::string b64;
  core::append_base64(b64, zip);
  std::string wrapped;
  for (std::size_t i = 0; i < b64.size(); i += 76) wrapped += b64.substr(i, 76) + "\n";
  const std::string mail =
      "From: Shadowserver <autoreports@example.org>\nTo: abuse@example.org\n"
      "Subject: [example.org] Shadowserver DE NTP Monitor Report: 2026-11-27\n"
      "Date: Fri, 27 Nov 2026 10:00:00 +0000\nMessage-ID: <t@example.org>\nMIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nAttached.\n--b\n"
      "Content-Type: application/zip; name=\"" +
      name + ".zip\"\nContent-Disposition: attachment; filename=\"" + name +
      ".zip\"\nContent-Transfer-Encoding: base64\n\n" + wrapped + "--b--\n";
  Record from_mail(true), plain(true);
  Input in;
  in.name = "mail.eml";
  in.data = mail;
  parse_input(in, from_mail, {});
  Input direct;
  direct.name = name;
  direct.data = csv;
  parse_input(direct, plain, {});
  ASSERT_EQ(from_mail.events.size(), plain.events.size());
  ASSERT_EQ(from_mail.issues.size(), plain.issues.size());
  for (std::size_t i = 0; i < plain.issues.size(); ++i) {
    // The same issue, named after the member inside the mail.
    auto drop_input = [](std::string s) {
      std::size_t at = s.find("\"input\":\"");
      std::size_t end = s.find('"', at + 9);
      s.erase(at, end - at);
      std::size_t in = s.find(" [in ");
      if (in != std::string::npos) s.erase(in, s.find(']', in) - in + 1);
      return s;
    };
    ASSERT_EQ(drop_input(from_mail.issues[i]), drop_input(plain.issues[i])) << i;
  }
}

TEST(ArchiveCrc32, MatchesZlibsChecksum) {
  auto bitwise = [](std::string_view data) {  // the definition, one bit at a time
    std::uint32_t c = 0xffffffffu;
    for (unsigned char b : data) {
      c ^= b;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
  };
  auto bytes = [](std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); };
  EXPECT_EQ(crc32(0, nullptr, 0), 0u);
  EXPECT_EQ(crc32(0, bytes("123456789"), 9), 0xCBF43926u);
  std::string data;
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 100000; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    data += static_cast<char>(x & 0xff);
  }
  for (std::size_t len : {0u, 1u, 15u, 16u, 63u, 64u, 255u, 4097u, 100000u}) {
    std::string_view part(data.data(), len);
    EXPECT_EQ(crc32(0, bytes(part), static_cast<unsigned>(len)), bitwise(part)) << len;
    // Running: in two pieces.
    unsigned long c = crc32(0, bytes(part), static_cast<unsigned>(len / 3));
    c = crc32(c, bytes(part) + len / 3, static_cast<unsigned>(len - len / 3));
    EXPECT_EQ(c, bitwise(part)) << len;
  }
}

TEST(ArchiveCrc32, ABadChecksumIsStillReported) {
  const std::string content = "timestamp,ip\n2026-11-27 00:00:00,192.0.2.1\n";
  std::string zip = pack("2026-11-27-scan_ntpmonitor-x.csv", content, false, true);
  std::size_t at = zip.find("192.0.2.1");
  ASSERT_NE(at, std::string::npos);
  zip[at] = '3';  // stored, so only the checksum notices
  Parsed run = parse_members(zip, "r.zip", false, true);
  ASSERT_FALSE(run.sink->issues.empty());
  EXPECT_NE(run.sink->issues[0].find("archive member damaged: ZIP bad CRC"), std::string::npos) << run.sink->issues[0];
}

}  // namespace
}  // namespace klartext::formats
