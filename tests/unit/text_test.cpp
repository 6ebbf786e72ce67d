// Text helpers of the letters: UTF-8 repair, whitespace tidying, evidence splitting.
#include "letters/text.hpp"

#include <gtest/gtest.h>

#include "letters/letter.hpp"

using namespace klartext::letters;

TEST(Text, PrintableLine) {
  EXPECT_EQ(printable_line("a,b"), "a,b");
  EXPECT_EQ(printable_line("Grüße"), "Grüße");
  EXPECT_EQ(printable_line("a\xff"), "a\xEF\xBF\xBD");
  EXPECT_EQ(printable_line("a\nb"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(printable_line("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong
  EXPECT_EQ(printable_line("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(printable_text("a\r\nb\rc"), "a\nb\nc");
}

TEST(Text, Tidy) {
  EXPECT_EQ(trim_block("\n  x\ny \n\n"), "x\ny");
  EXPECT_EQ(single_line(" a \n b\t c "), "a b c");
  EXPECT_EQ(normalize_body("\n\na  \n\n\n\nb\n\n"), "a\n\nb\n");
}

TEST(Text, MailSummary) {
  EXPECT_EQ(mail_summary("Received: x\r\nFrom: a@b\r\nSubject: s\r\n\r\nFrom: body\r\n"), "From: a@b\nSubject: s\n");
}

TEST(Text, EvidenceFromRaw) {
  Evidence e = evidence_from_raw("h1,h2\r\nv1,v2\r\n", true);
  EXPECT_EQ(e.kind, EvidenceKind::kCsvRow);
  EXPECT_EQ(e.header, "h1,h2");
  EXPECT_EQ(e.bytes, "v1,v2");
  e = evidence_from_raw("just one line", true);
  EXPECT_EQ(e.kind, EvidenceKind::kText);
  EXPECT_EQ(e.bytes, "just one line");
}
