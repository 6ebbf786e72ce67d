// MIME construction: headers (RFC 2047 subject, one X-Klartext-Case per case), parts, determinism.
#include "delivery/mime.hpp"

#include <gtest/gtest.h>

#include <iterator>
#include <random>

using namespace klartext;

namespace {
letters::Letter sample() {
  letters::Letter l;
  l.customer_id = "K-1001";
  l.to = {"a@example.org", "b@example.org"};
  l.subject = "Sicherheitshinweis: Ihr NTP-Server kann für DDoS-Angriffe missbraucht werden";
  l.body = "Grüße\n";
  l.case_ids = {"1", "2"};
  l.attachments.push_back({"case-1.csv", "text/csv", "h\nr\xff\n"});
  l.attachments.push_back({"case-2-report-1.eml", "message/rfc822", "From: x@example.org\nSubject: t\n\nbody\n"});
  l.attachments.push_back({"case-2-report-2.eml", "message/rfc822", ""});  // unparsable: kept as bytes
  return l;
}
}  // namespace

TEST(Mime, HeadersAndParts) {
  const auto date = core::Timestamp::from_seconds(1'795'500'000);
  delivery::Sender s{"Abuse-Desk Müller", "abuse@example.org", "support@example.org"};
  const std::string m = delivery::build_mime(sample(), s, date, "id1@example.org");
  EXPECT_NE(m.find("Message-Id: <id1@example.org>"), std::string::npos);
  const auto subject = m.find("Subject: ");
  ASSERT_NE(subject, std::string::npos);
  const std::string encoded_word = m.substr(subject, m.find("\nTo:", subject) - subject);
  EXPECT_NE(encoded_word.find("=?UTF-8?"), std::string::npos) << encoded_word;  // RFC 2047 for the umlaut
  EXPECT_NE(m.find("X-Klartext-Case: 1\n"), std::string::npos);
  EXPECT_NE(m.find("X-Klartext-Case: 2\n"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: multipart/mixed"), std::string::npos);
  EXPECT_NE(m.find("charset=utf-8"), std::string::npos);
  EXPECT_NE(m.find("Content-Transfer-Encoding: quoted-printable"), std::string::npos);
  EXPECT_NE(m.find("Gr=C3=BC=C3=9Fe"), std::string::npos);
  EXPECT_NE(m.find("filename=case-1.csv"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: message/rfc822"), std::string::npos);
  EXPECT_NE(m.find("Reply-To: support@example.org"), std::string::npos);
  EXPECT_NE(m.find("Date: "), std::string::npos);
  // The same letter with the same Message-ID is the same bytes (deterministic boundary).
  EXPECT_EQ(m, delivery::build_mime(sample(), s, date, "id1@example.org"));
}

TEST(Mime, MessageIdsAreUnique) {
  const auto now = core::Timestamp::now();
  const std::string a = delivery::make_message_id("abuse@example.org", now);
  const std::string b = delivery::make_message_id("abuse@example.org", now);
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.ends_with("@example.org"));
}

// The encoder as RFC 2045 6.7 says it, one byte at a time: the oracle for the fast one.
std::string reference_quoted_printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  std::size_t col = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += '\n';
      col = 0;
      continue;
    }
    const bool at_line_end = i + 1 == text.size() || text[i + 1] == '\n';
    const bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_line_end);
    const std::size_t width = literal ? 1 : 3;
    if (col + width > 75) {
      out += "=\n";
      col = 0;
    }
    if (literal) {
      out += static_cast<char>(c);
    } else {
      out += '=';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
    col += width;
  }
  return out;
}

// Long plain runs (the eight-byte path), spaces before line ends and at the end, every byte class.
TEST(Mime, QuotedPrintableIsTheReferenceEncoding) {
  std::mt19937 rng(21);
  const std::string pool[] = {" ",
                              "\t",
                              "\n",
                              "=",
                              "a",
                              "Zz09",
                              "\xC3\xBC",
                              "~",
                              "\x7f",
                              "!",
                              " \n",
                              "\xE2\x82\xAC",
                              std::string(30, 'x'),
                              std::string(9, ' ')};
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    const std::size_t parts = rng() % 60;
    for (std::size_t p = 0; p < parts; ++p) text += pool[rng() % std::size(pool)];
    ASSERT_EQ(delivery::detail::quoted_printable(text), reference_quoted_printable(text)) << "text " << i;
  }
  for (std::size_t n = 0; n < 200; ++n) {
    const std::string spaces(n, ' ');
    ASSERT_EQ(delivery::detail::quoted_printable(spaces), reference_quoted_printable(spaces));
    ASSERT_EQ(delivery::detail::quoted_printable(spaces + "\n" + spaces + "x"),
              reference_quoted_printable(spaces + "\n" + spaces + "x"));
  }
}

// build_mime writes plain parts itself; they must be exactly the bytes GMime writes for them: random
// bodies (umlauts, '=', whitespace at line ends, long lines) and attachments of every base64 tail length
// and of file names up to the folding limit.
TEST(Mime, SplicedPartsAreGMimesBytes) {
  std::mt19937 rng(7);
  const std::string pool[] = {" ", "\t", "\n", "=", "a", "Z", "\xC3\xBC", "\xE2\x82\xAC", ".", "-", "\xFF", "\x01"};
  const auto random_text = [&](std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += pool[rng() % std::size(pool)];
    return s;
  };
  const auto date = core::Timestamp::from_seconds(1'795'500'000);
  const delivery::Sender sender{"Abuse Desk", "abuse@example.org", ""};
  for (int i = 0; i < 300; ++i) {
    letters::Letter l;
    l.customer_id = "K-" + std::to_string(i);
    l.to = {"noc@example.org"};
    l.subject = i % 2 ? "Sicherheitshinweis zu Ihrem Anschluss" : "Security notice";
    l.body = random_text(rng() % 400) + "\n";
    l.case_ids = {std::to_string(i)};
    const std::size_t files = rng() % 4;
    for (std::size_t f = 0; f < files; ++f) {
      const std::string name = "case-" + std::to_string(i) + "-" + std::string(rng() % 40, 'x') + ".csv";
      l.attachments.push_back({name, f == 2 ? "text/plain" : "text/csv", random_text(1 + rng() % 200)});
    }
    const std::string id = "id" + std::to_string(i) + "@example.org";
    ASSERT_EQ(delivery::build_mime(l, sender, date, id), delivery::detail::build_mime_gmime(l, sender, date, id))
        << "letter " << i;
  }
}

// build_mime writes the headers itself; they must be GMime's bytes too: random subjects (umlauts, long
// words, runs of spaces, "=?"), customer and case ids, several recipients (folded past 78 columns),
// senders whose display name GMime quotes or encodes, with and without Reply-To. Most letters take the
// direct path (counted), the others GMime's.
TEST(Mime, HeadersAreGMimesBytes) {
  std::mt19937 rng(11);
  const std::string words[] = {"Sicherheitshinweis",
                               "f\xC3\xBCr",
                               "Ger\xC3\xA4t",
                               "198.51.100.7:",
                               "NTP-Server",
                               "(NTP",
                               "monlist)",
                               "l\xC3\xB6st",
                               "Namen",
                               "[Example",
                               "ISP]",
                               "=?x?=",
                               "\xE2\x82\xAC",
                               "a",
                               "Stra\xC3\x9F"
                               "e",
                               std::string(40, 'w'),
                               std::string(90, 'v'),
                               "UPnP/SSDP",
                               "\"quoted\"",
                               "x;y,z"};
  const auto random_words = [&](std::size_t n, std::string_view sep) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) s += rng() % 5 == 0 ? std::string(sep) + std::string(sep) : std::string(sep);
      s += words[rng() % std::size(words)];
    }
    return s;
  };
  const delivery::Sender senders[] = {{"Abuse Desk", "abuse@example.org", ""},
                                      {"Abuse-Desk M\xC3\xBCller", "abuse@example.org", "support@example.org"},
                                      {"Example ISP, Abuse Team", "abuse@isp.example.org", ""},
                                      {"", "abuse@example.org", "reply@example.org"}};
  const auto date = core::Timestamp::from_seconds(1'795'500'000);
  int direct = 0;
  for (int i = 0; i < 400; ++i) {
    letters::Letter l;
    l.customer_id = i % 7 == 0 ? random_words(1 + rng() % 3, " ") : "K-" + std::to_string(rng() % 100000);
    for (std::size_t n = 1 + rng() % (i % 5 == 0 ? 4 : 2); n > 0; --n) {
      l.to.push_back(std::string(1 + rng() % (i % 5 == 0 ? 30 : 12), 'n') + "." + std::to_string(n) + "@Example-" +
                     std::to_string(rng() % 100) + ".org");
    }
    l.subject = random_words(1 + rng() % 16, " ");
    l.body = "Text\n";
    l.case_ids = {std::to_string(i), i % 3 == 0 ? random_words(2, " ") : std::to_string(i + 1)};
    l.attachments.push_back({"case-" + std::to_string(i) + ".csv", "text/csv", "h\nr\n"});
    const auto& sender = senders[rng() % std::size(senders)];
    const std::string id = "klartext." + std::to_string(rng()) + ".x@example.org";
    std::string headers;
    direct += delivery::detail::write_frame_headers(headers, l, sender, date, id, "b") ? 1 : 0;
    ASSERT_EQ(delivery::build_mime(l, sender, date, id), delivery::detail::build_mime_gmime(l, sender, date, id))
        << "letter " << i << " subject " << l.subject;
  }
  EXPECT_GT(direct, 250);
}

TEST(Mime, UnusualValuesTakeGMimesPath) {
  const auto date = core::Timestamp::from_seconds(1'795'500'000);
  const delivery::Sender sender;
  letters::Letter l;
  l.customer_id = "K-1";
  l.subject = "Subject";
  l.body = "Text\n";
  l.case_ids = {"1"};
  std::string headers;
  for (const std::string to : {"\"quoted local\"@example.org", "m\xC3\xBCller@example.org", "a@b\xC3\xA4r.example",
                               "no-at-sign", "a..b@example.org"}) {
    l.to = {to};
    EXPECT_FALSE(delivery::detail::write_frame_headers(headers, l, sender, date, "id@example.org", "b")) << to;
    EXPECT_EQ(delivery::build_mime(l, sender, date, "id@example.org"),
              delivery::detail::build_mime_gmime(l, sender, date, "id@example.org"));
  }
  l.to = {"noc@example.org"};
  l.subject = "line\nbreak";
  EXPECT_FALSE(delivery::detail::write_frame_headers(headers, l, sender, date, "id@example.org", "b"));
  l.subject = "Subject";
  EXPECT_FALSE(delivery::detail::write_frame_headers(headers, l, sender, date, "<odd>@example.org", "b"));
  EXPECT_TRUE(delivery::detail::write_frame_headers(headers, l, sender, date, "id@example.org", "b"));
}
