// The named MIME and archive limits record issues instead of failing: depth, parts, sizes, bombs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "archive_maker.hpp"
#include "formats/format.hpp"
#include "formats/mail/archive.hpp"

namespace klartext::formats {
namespace {

class Collect : public Sink {
 public:
  void on_event(const core::Event&) override { ++events; }
  void on_issue(const ParseIssue& i) override { codes.push_back(i.code); }
  bool has(std::string_view code) const {
    for (const auto& c : codes) {
      if (c == code) return true;
    }
    return false;
  }
  std::size_t events = 0;
  std::vector<std::string> codes;
};

InputSummary parse(const std::string& mail, const ParseOptions& options, Collect& sink) {
  Input in;
  in.name = "test.eml";
  in.data = mail;
  return parse_input(in, sink, options);
}

std::string nested(int depth) {
  std::string head =
      "From: a@example.org\nTo: b@example.org\nSubject: nested\nDate: Fri, 27 Nov 2026 10:00:00 +0000\n"
      "MIME-Version: 1.0\n";
  std::string body;
  for (int i = 0; i < depth; ++i) {
    body += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\n\n--b" + std::to_string(i) + "\n";
  }
  body += "Content-Type: text/plain\n\nhello\n";
  for (int i = depth - 1; i >= 0; --i) body += "--b" + std::to_string(i) + "--\n";
  return head + body;
}

TEST(MailLimits, DepthLimitRecordsAnIssue) {
  ParseOptions options;
  options.limits.max_mime_depth = 5;
  Collect sink;
  parse(nested(20), options, sink);
  EXPECT_TRUE(sink.has("mime-depth-limit"));
}

TEST(MailLimits, PartLimitRecordsAnIssue) {
  std::string mail =
      "From: a@example.org\nSubject: parts\nDate: Fri, 27 Nov 2026 10:00:00 +0000\nMIME-Version: 1.0\n"
      "Content-Type: multipart/mixed; boundary=\"p\"\n\n";
  for (int i = 0; i < 50; ++i) mail += "--p\nContent-Type: text/plain\n\npart " + std::to_string(i) + "\n";
  mail += "--p--\n";
  ParseOptions options;
  options.limits.max_mime_parts = 10;
  Collect sink;
  parse(mail, options, sink);
  EXPECT_TRUE(sink.has("mime-parts-limit"));
}

TEST(MailLimits, MailAndHeaderSizeLimits) {
  ParseOptions options;
  options.limits.max_mail_bytes = 100;
  Collect sink;
  auto s = parse(nested(1) + std::string(200, 'x'), options, sink);
  EXPECT_TRUE(sink.has("mail-size-limit"));
  EXPECT_EQ(s.kind, InputKind::kUnreadable);

  ParseOptions options2;
  options2.limits.max_header_bytes = 64;
  Collect sink2;
  std::string big = "From: a@example.org\nSubject: " + std::string(500, 'y') + "\nDate: x\n\nbody\n";
  parse(big, options2, sink2);
  EXPECT_TRUE(sink2.has("header-limit"));
}

std::string zip_of(const std::string& name, const std::string& content) {
  return testing::pack_member(name, content, testing::Packing::kZip);
}

TEST(MailLimits, DecompressionRatioStopsABomb) {
  std::string zip = zip_of("bomb.csv", std::string(4 << 20, 'a'));  // compresses ~1000:1
  ParseOptions options;
  options.limits.max_decompression_ratio = 10;
  Collect sink;
  Input in;
  in.name = "x";
  in.data = zip;
  ParseContext ctx(sink, options, in);
  std::size_t members = 0;
  mail::for_each_member(zip, "bomb.csv.zip", ctx, [&](const std::string&, std::string_view) { ++members; });
  EXPECT_TRUE(sink.has("decompression-limit"));
  EXPECT_EQ(members, 0u);
}

TEST(MailLimits, ArchiveMembersAreHandedOver) {
  std::string zip = zip_of("2026-11-27-scan_ntpmonitor-x.csv", "timestamp,ip\n");
  ParseOptions options;
  Collect sink;
  Input in;
  in.name = "x";
  in.data = zip;
  ParseContext ctx(sink, options, in);
  std::vector<std::string> names;
  mail::for_each_member(zip, "r.zip", ctx, [&](const std::string& n, std::string_view b) {
    names.push_back(n);
    EXPECT_EQ(b, "timestamp,ip\n");
  });
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0], "2026-11-27-scan_ntpmonitor-x.csv");
}

}  // namespace
}  // namespace klartext::formats
