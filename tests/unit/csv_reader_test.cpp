// Tests for the RFC 4180 CSV tokenizer and the row text check.
#include "formats/shadowserver/csv_reader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

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

// The rest of an input in reads of at most `step` bytes; aborts (as a limit would) after `cut` bytes.
class StringSource final : public ByteSource {
 public:
  StringSource(std::string_view rest, std::size_t step, std::size_t cut = std::string::npos)
      : rest_(rest), step_(step), cut_(cut) {}
  std::size_t read(char* buf, std::size_t size) override {
    std::size_t n = std::min({size, step_, rest_.size() - pos_, cut_ - std::min(cut_, pos_)});
    std::memcpy(buf, rest_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  bool aborted() const override { return pos_ >= cut_ && pos_ < rest_.size(); }

 private:
  std::string_view rest_;
  std::size_t step_;
  std::size_t cut_;
  std::size_t pos_ = 0;
};

// Everything a record tells, as one comparable string.
std::string describe(const CsvRecord& rec, std::string_view bytes) {
  std::ostringstream o;
  o << rec.line << ' ' << rec.begin << '-' << rec.end << '>' << rec.next << ' ' << rec.terminated << ' '
    << to_string(rec.error) << " [" << bytes << ']';
  for (std::string_view f : rec.fields) o << " {" << f << '}';
  return o.str();
}

std::vector<std::string> whole(std::string_view data, std::size_t max) {
  CsvReader r(data, max);
  CsvRecord rec;
  std::vector<std::string> out;
  while (r.next(rec)) {
    EXPECT_EQ(r.bytes(rec), rec.bytes(data));
    out.push_back(describe(rec, rec.bytes(data)));
  }
  return out;
}

std::vector<std::string> streamed(std::string_view data, std::size_t head, std::size_t chunk, std::size_t step,
                                  std::size_t max, std::size_t cut = std::string::npos) {
  head = std::min(head, data.size());
  StringSource src(data.substr(head), step, cut);
  CsvReader r(data.substr(0, head), &src, max, chunk);
  CsvRecord rec;
  std::vector<std::string> out;
  while (r.next(rec)) out.push_back(describe(rec, r.bytes(rec)));
  return out;
}

// Inputs whose records end, or change meaning, right at a chunk boundary somewhere.
const std::vector<std::string>& tricky_inputs() {
  static const std::vector<std::string> kInputs = {
      "timestamp,ip,port\r\n2026-11-27 00:00:01,192.0.2.1,123\r\n2026-11-27 00:00:02,192.0.2.2,123\r\n",
      "\xEF\xBB\xBFh1,h2\r\n1,2\r\n\r\n3,4\n\n5,6",
      "a,\"b,c\",\"say \"\"hi\"\"\"\n\"multi\nline\",x,\n\"\"\"\",\"\"\n",
      "h\n\"a\r\nb\",\"c\n\nd\"\r\ne,f\r",
      "a,b\n1,\"x\n2,3\n4,5\n",
      "a,b\n1,\"open",
      "\"\\\"x\\\"\",y\n\"q\"tail,z\r\n",
      "a,b,\n,,\n\r\n\n,",
      "lone\rcr,x\r\ry\n",
      "a\n" + std::string(40, 'x') + "," + std::string(40, 'y') + "\nc,d\n\"" + std::string(50, 'q') + "\"\nlast",
  };
  return kInputs;
}

TEST(CsvReaderStreaming, EveryChunkBoundaryGivesTheWholeInputsRecords) {
  for (const std::string& data : tricky_inputs()) {
    const auto expect = whole(data, 64);
    for (std::size_t chunk : {1u, 2u, 3u, 5u, 16u}) {
      for (std::size_t head = 0; head <= data.size(); ++head) {
        for (std::size_t step : {1u, 4u, 1000u}) {
          ASSERT_EQ(streamed(data, head, chunk, step, 64), expect)
              << "input " << testing::PrintToString(data) << " head " << head << " chunk " << chunk << " step " << step;
        }
      }
    }
  }
}

TEST(CsvReaderStreaming, CrLfSplitAcrossChunks) {
  std::string data = "h1,h2\r\nv1,v2\r\nw1,\"w\r\n2\"\r\n";
  for (std::size_t head = 0; head <= data.size(); ++head) {
    auto rows = streamed(data, head, 1, 1, 1000);
    ASSERT_EQ(rows, whole(data, 1000)) << head;
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[1], "2 7-12>14 1 none [v1,v2] {v1} {v2}");
    EXPECT_EQ(rows[2], "3 14-23>25 1 none [w1,\"w\r\n2\"] {w1} {w\r\n2}");
  }
}

TEST(CsvReaderStreaming, QuotedNewlinesAcrossChunksKeepLineNumbers) {
  std::string data = "h\n\"a\nb\nc\",x\n\"\"\"q\"\"\n\"\nz\n";
  const auto expect = whole(data, 1000);
  ASSERT_EQ(expect.size(), 4u);
  EXPECT_EQ(expect[3], "7 21-22>23 1 none [z] {z}");
  for (std::size_t head = 0; head <= data.size(); ++head) EXPECT_EQ(streamed(data, head, 2, 3, 1000), expect);
}

TEST(CsvReaderStreaming, OverlongRecordsLongerThanTheWindow) {
  std::string big(5000, 'x');
  std::string data = "a,b\n" + big + "," + big + "\nc,d\n\"" + big + "\nstill quoted\"\ne,f\n";
  const auto expect = whole(data, 1000);
  for (std::size_t head : {0u, 3u, 100u, 5003u}) EXPECT_EQ(streamed(data, head, 64, 64, 1000), expect);
}

TEST(CsvReaderStreaming, AbortedSourceDropsOnlyTheCutRecord) {
  std::string data = "h,v\n1,a\n2,b\n3,c\n";
  // Cut inside "2,b": the records before it are read, the cut one is not reported at all.
  auto rows = streamed(data, 4, 2, 1, 1000, 6);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1], "2 4-7>8 1 none [1,a] {1} {a}");
  // A clean end of input in the same place reads the partial record as the last one.
  auto truncated = whole(data.substr(0, 10), 1000);
  ASSERT_EQ(truncated.size(), 3u);
  EXPECT_EQ(truncated[2], "3 8-10>10 0 none [2,] {2} {}");
}

TEST(CsvReaderStreaming, GoldenFixturesReadTheSameStreamed) {
  std::size_t files = 0;
  for (const auto& dir : std::filesystem::directory_iterator(std::filesystem::path(KLARTEXT_SOURCE_DIR) / "tests" /
                                                             "golden" / "shadowserver")) {
    for (const auto& f : std::filesystem::directory_iterator(dir.path())) {
      if (f.path().extension() != ".csv") continue;
      std::ifstream in(f.path(), std::ios::binary);
      std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const auto expect = whole(data, 1 << 20);
      for (std::size_t chunk : {1u, 7u, 64u, 4096u}) {
        for (std::size_t head : {std::size_t{0}, std::size_t{1}, data.size() / 2, data.size()}) {
          ASSERT_EQ(streamed(data, head, chunk, 13, 1 << 20), expect) << f.path() << " chunk " << chunk;
        }
      }
      ++files;
    }
  }
  EXPECT_GT(files, 5u);
}

}  // namespace
}  // namespace klartext::formats::shadowserver
