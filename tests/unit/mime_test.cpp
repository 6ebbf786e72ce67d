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
