// The MIME walk of incoming mails: which parts are decoded, the cached mail text, HTML to text.
#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <tuple>

#include "formats/format.hpp"
#include "formats/mail/mail.hpp"
#include "formats/mail/mime.hpp"

namespace klartext::formats::mail {
namespace {

class Discard : public Sink {
 public:
  void on_event(const core::Event&) override {}
  void on_issue(const ParseIssue&) override {}
};

// A mail with one text part and one attachment of the given type, name and base64 content.
std::string with_attachment(std::string_view type, std::string_view name, std::string_view base64) {
  std::string m =
      "From: reports@example.org\nTo: abuse@example.org\nSubject: test\nDate: Fri, 27 Nov 2026 10:00:00 +0000\n"
      "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\n"
      "See the attachment.\n--b\nContent-Type: ";
  m += type;
  m += "\nContent-Disposition: attachment; filename=\"";
  m += name;
  m += "\"\nContent-Transfer-Encoding: base64\n\n";
  m += base64;
  m += "\n--b--\n";
  return m;
}

ParsedMail parse(const std::string& data) {
  Discard sink;
  Input in;
  in.name = "test.eml";
  in.data = data;
  ParseOptions options;
  ParseContext ctx(sink, options, in, 0);
  return parse_mime(data, ctx);
}

constexpr std::string_view kPng =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
constexpr std::string_view kPdf = "JVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCg==";
constexpr std::string_view kCsv =
    "aXAsdGltZXN0YW1wCjE5OC41MS4xMDAuNywyMDI2LTExLTI3IDEwOjAwOjAwCg==";  // ip,timestamp...

TEST(MailMime, SignedImagesAndPdfsAreNotDecoded) {
  for (auto [type, name, content] :
       {std::tuple{"image/png", "logo.png", kPng}, {"application/pdf", "notice.pdf", kPdf}}) {
    ParsedMail m = parse(with_attachment(type, name, content));
    ASSERT_EQ(m.parts.size(), 2u) << type;
    EXPECT_TRUE(m.parts[1].content_skipped) << type;
    EXPECT_TRUE(m.parts[1].body.empty()) << type;
    EXPECT_EQ(m.parts[1].filename, name);
    EXPECT_FALSE(m.parts[0].content_skipped);
    EXPECT_EQ(m.parts[0].body, "See the attachment.");
  }
}

// The text of a single-part mail as GMime's g_mime_text_part_get_text gives it (the walk skips the
// charset conversion where it changes nothing, and must give the same bytes).
std::string gmime_text(const std::string& data) {
  struct Unref {
    void operator()(void* p) const { g_object_unref(p); }
  };
  std::unique_ptr<GMimeStream, Unref> stream(g_mime_stream_mem_new_with_buffer(data.data(), data.size()));
  std::unique_ptr<GMimeParser, Unref> parser(g_mime_parser_new_with_stream(stream.get()));
  std::unique_ptr<GMimeMessage, Unref> msg(g_mime_parser_construct_message(parser.get(), nullptr));
  GMimeObject* body = g_mime_message_get_mime_part(msg.get());
  char* text = g_mime_text_part_get_text(GMIME_TEXT_PART(body));
  std::string out = text != nullptr ? text : "";
  g_free(text);
  return out;
}

TEST(MailMime, TextPartsAsGMimeConvertsThem) {
  using namespace std::literals;
  const std::string kHead = "From: reports@example.org\nSubject: t\nMIME-Version: 1.0\nContent-Type: text/plain";
  const std::tuple<std::string_view, std::string_view, std::string_view> kCases[] = {
      {"", "8bit", "plain ASCII\n"},
      {"; charset=utf-8", "8bit", "gr\xC3\xBC\xC3\x9F \xE2\x82\xAC \xF0\x9F\x98\x80\n"},
      {"; charset=UTF-8", "8bit", "broken \xC3 and \xED\xA0\x80 surrogate, \xC0\xAF overlong\n"},
      {"; charset=utf-8", "8bit", "\xEF\xBB\xBFwith a byte order mark\n"},
      {"; charset=utf-8", "8bit", "cut at\0 the NUL\n"sv},
      {"; charset=us-ascii", "8bit", "ascii \xE4 with an 8-bit byte\n"},
      {"; charset=iso-8859-1", "8bit", "latin \xE4\xF6\xFC\n"},
      {"; charset=iso-8859-1", "8bit", "latin, but only ASCII\n"},
      {"; charset=windows-1252", "quoted-printable", "quoted =E4=80 and =\nsoft break\n"},
      {"; charset=utf-8", "base64", "Z3LDvMOfIGF1cyBiYXNlNjQK"},
      {"; charset=koi8-r", "8bit", "\xF0\xD2\xC9\xD7\xC5\xD4\n"},
      {"; charset=x-unknown-charset", "8bit", "unknown \xE4\n"},
  };
  for (const auto& [charset, encoding, content] : kCases) {
    std::string data = kHead + std::string(charset) + "\nContent-Transfer-Encoding: " + std::string(encoding) + "\n\n" +
                       std::string(content);
    ParsedMail m = parse(data);
    ASSERT_EQ(m.parts.size(), 1u) << data;
    EXPECT_EQ(m.parts[0].body, gmime_text(data)) << data;
  }
}

TEST(MailMime, MislabelledOrCsvNamedMediaIsDecoded) {
  // Declared an image, but the bytes are a CSV table: decoded as before.
  ParsedMail a = parse(with_attachment("image/png", "logo.png", kCsv));
  ASSERT_EQ(a.parts.size(), 2u);
  EXPECT_FALSE(a.parts[1].content_skipped);
  EXPECT_EQ(a.parts[1].body.substr(0, 12), "ip,timestamp");
  // A ".csv" name is read as CSV whatever the declared type: decoded.
  ParsedMail b = parse(with_attachment("image/png", "report.csv", kPng));
  ASSERT_EQ(b.parts.size(), 2u);
  EXPECT_FALSE(b.parts[1].content_skipped);
  EXPECT_EQ(b.parts[1].body.substr(1, 3), "PNG");
  // Other types are always decoded.
  ParsedMail c = parse(with_attachment("application/octet-stream", "x.png", kPng));
  ASSERT_EQ(c.parts.size(), 2u);
  EXPECT_FALSE(c.parts[1].content_skipped);
  EXPECT_FALSE(c.parts[1].body.empty());
}

TEST(MailMime, MailTextIsBuiltOnceAndKeepsItsContent) {
  ParsedMail m = parse(with_attachment("image/png", "logo.png", kPng));
  const std::string& first = mail_text(m);
  EXPECT_EQ(first, "See the attachment.");
  EXPECT_EQ(&first, &mail_text(m));  // cached
  EXPECT_EQ(mail_text(m, false), "See the attachment.");
}

TEST(MailMime, HtmlToText) {
  EXPECT_EQ(html_to_text("<p>a &amp; b</p><br>c&nbsp;d &unknown; e"), "\na & b\nc d &unknown; e");
  // Style and script blocks are dropped whatever the case of their closing tag.
  EXPECT_EQ(html_to_text("x<style>p{color:red}</STYLE>y<SCRIPT>var a=1<2;</Script>z"), "xyz");
  EXPECT_EQ(html_to_text("<table><tr><td>1</td><td>2</td></tr></table>"), "\n1 2 ");
  EXPECT_EQ(html_to_text("open <style> never closed"), "open ");
  EXPECT_EQ(html_to_text("a < b"), "a ");  // an unclosed tag runs to the end
}

}  // namespace
}  // namespace klartext::formats::mail
