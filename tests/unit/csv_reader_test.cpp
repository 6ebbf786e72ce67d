// Tests for the RFC 4180 CSV tokenizer and the row text check.
#include "formats/shadowserver/csv_reader.hpp"

#include <gtest/gtest.h>

namespace klartext::formats::shadowserver {
namespace {

std::vector<std::vector<std::string>> read_all(std::string_view data, std::size_t max = 1 << 20,
                                               std::vector<CsvError>* errors = nullptr) {
  CsvReader r(data, max);
  CsvRecord rec;
  std::vector<std::vector<std::string>> out;
  while (r.next(rec)) {
    out.emplace_back(rec.fields.begin(), rec.fields.end());
    if (errors != nullptr) errors->push_back(rec.error);
  }
  return out;
}

TEST(CsvReader, QuotesDoubledQuotesAndQuotedNewlines) {
  auto rows = read_all("a,\"b,c\",\"say \"\"hi\"\"\"\n\"multi\nline\",x,\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", "b,c", "say \"hi\""}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"multi\nline", "x", ""}));
}

TEST(CsvReader, CrLfLfBomAndBlankLines) {
  auto rows = read_all("\xEF\xBB\xBFh1,h2\r\n1,2\r\n\r\n3,4\n\n5,6");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0][0], "h1");
  EXPECT_EQ(rows[1], (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(rows[3], (std::vector<std::string>{"5", "6"}));
}

TEST(CsvReader, RecordPositionsAndLines) {
  std::string data = "h\n\"a\nb\"\nc\n";
  CsvReader r(data, 1000);
  CsvRecord rec;
  ASSERT_TRUE(r.next(rec));
  EXPECT_EQ(rec.line, 1u);
  ASSERT_TRUE(r.next(rec));
  EXPECT_EQ(rec.line, 2u);
  EXPECT_EQ(rec.bytes(data), "\"a\nb\"");
  EXPECT_TRUE(rec.terminated);
  ASSERT_TRUE(r.next(rec));
  EXPECT_EQ(rec.line, 4u);
  EXPECT_EQ(rec.begin, 8u);
  EXPECT_FALSE(r.next(rec));
}

TEST(CsvReader, UnterminatedQuoteAtEndIsReported) {
  std::vector<CsvError> errors;
  auto rows = read_all("a,b\n1,\"open", 1000, &errors);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[1], CsvError::kUnterminatedQuote);
}

TEST(CsvReader, StrayQuoteCostsOneRowOnly) {
  std::vector<CsvError> errors;
  auto rows = read_all("a,b\n1,\"x\n2,3\n4,5\n", 1000, &errors);
  // "x\n2,3\n4,5\n" has no closing quote: the record ends at its first line feed.
  ASSERT_GE(rows.size(), 3u);
  EXPECT_EQ(errors[1], CsvError::kUnterminatedQuote);
  EXPECT_EQ(rows[2], (std::vector<std::string>{"2", "3"}));
}

TEST(CsvReader, TextAfterClosingQuoteJoinsTheField) {
  auto rows = read_all("\"\\\"x\\\"\",y\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "\\x\\\"\"");
  EXPECT_EQ(rows[0][1], "y");
}

TEST(CsvReader, OverlongRecordIsSkippedToNextLine) {
  std::string big(5000, 'x');
  std::vector<CsvError> errors;
  auto rows = read_all("a,b\n" + big + "," + big + "\nc,d\n", 1000, &errors);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(errors[1], CsvError::kTooLong);
  EXPECT_EQ(rows[2], (std::vector<std::string>{"c", "d"}));
}

TEST(CsvReader, OverlongQuotedRecordIsSkipped) {
  std::string big(5000, 'x');
  std::vector<CsvError> errors;
  auto rows = read_all("a\n\"" + big + "\"\nc\n", 1000, &errors);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(errors[1], CsvError::kTooLong);
  EXPECT_EQ(rows[2][0], "c");
}

TEST(CsvReader, EmptyInput) {
  EXPECT_TRUE(read_all("").empty());
  EXPECT_TRUE(read_all("\xEF\xBB\xBF").empty());
}

TEST(CheckText, FindsNulControlAndBadUtf8) {
  std::size_t where = 0;
  EXPECT_EQ(check_text("plain, ascii\tand \xC3\xA4 umlaut", where), TextProblem::kNone);
  EXPECT_EQ(check_text(std::string_view("abc\0def", 7), where), TextProblem::kNulByte);
  EXPECT_EQ(where, 3u);
  EXPECT_EQ(check_text("abcdefghij\x01", where), TextProblem::kControlByte);
  EXPECT_EQ(where, 10u);
  EXPECT_EQ(check_text("caf\xE9 au lait", where), TextProblem::kInvalidUtf8);
  EXPECT_EQ(where, 3u);
  EXPECT_EQ(check_text("\xED\xA0\x80", where), TextProblem::kInvalidUtf8);  // surrogate
}

}  // namespace
}  // namespace klartext::formats::shadowserver
