// Tests for the Shadowserver normalizer's JSON fast path: the same bytes as Event::append_json.
#include "formats/shadowserver/normalizer.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "formats/format.hpp"
#include "intake/file_source.hpp"

namespace klartext::formats::shadowserver {
namespace {

namespace fs = std::filesystem;

// Collects JSON Lines; with `fast` it offers its buffer, so the parser may serialize events itself.
struct JsonCollect : Sink {
  explicit JsonCollect(bool fast) : fast_(fast) {}
  std::string events, issues;
  std::size_t fast_events = 0;
  void on_event(const core::Event& e) override {
    e.append_json(events);
    events += '\n';
  }
  void on_issue(const ParseIssue& i) override { issues += i.to_json() + '\n'; }
  std::string* event_json_buffer() override { return fast_ ? &events : nullptr; }
  void on_event_json(const core::Classification&) override {
    events += '\n';
    ++fast_events;
  }

 private:
  bool fast_;
};

struct Both {
  JsonCollect general{false}, fast{true};
  InputSummary general_summary, fast_summary;
};

Both parse_both(const std::string& data, const std::string& name, const std::string& hint) {
  Both b;
  Input in;
  in.name = name;
  in.filename_hint = hint;
  in.data = data;
  ParseOptions opt;
  b.general_summary = parse_input(in, b.general, opt);
  b.fast_summary = parse_input(in, b.fast, opt);
  return b;
}

void expect_same(const Both& b, const std::string& what) {
  EXPECT_EQ(b.general.events, b.fast.events) << what;
  EXPECT_EQ(b.general.issues, b.fast.issues) << what;
  EXPECT_EQ(b.general_summary.to_json(), b.fast_summary.to_json()) << what;
}

TEST(NormalizerJson, GoldenInputsGiveTheSameBytes) {
  std::size_t files = 0, fast = 0;
  for (const auto& dir : fs::directory_iterator(fs::path(KLARTEXT_SOURCE_DIR) / "tests/golden/shadowserver")) {
    for (const auto& f : fs::directory_iterator(dir.path())) {
      const std::string name = f.path().filename().string();
      if (name == "description.txt" || name.rfind("expected", 0) == 0) continue;
      Both b = parse_both(intake::read_file(f.path().string()), name, name);
      expect_same(b, f.path().string());
      ++files;
      fast += b.fast.fast_events;
    }
  }
  EXPECT_GE(files, 8u);
  EXPECT_GT(fast, 0u) << "the fast path was never taken";
}

TEST(NormalizerJson, ConformanceCorpusGivesTheSameBytes) {
  fs::path shared = std::getenv("KLARTEXT_SHARED_DIR") != nullptr ? fs::path(std::getenv("KLARTEXT_SHARED_DIR"))
                                                                  : fs::path(KLARTEXT_SHARED_DIR);
  fs::path data = shared / "corpus/shadowserver/testdata-3.2.1";
  fs::path expected_dir = shared / "corpus/shadowserver/expected-3.2.1";
  if (!fs::is_directory(data) || !fs::is_directory(expected_dir)) GTEST_SKIP() << "shared corpus not found";
  std::size_t files = 0, fast = 0;
  for (const auto& entry : fs::directory_iterator(data)) {
    if (entry.path().extension() != ".csv") continue;
    const std::string report = entry.path().stem().string();
    std::string hint = entry.path().filename().string();
    fs::path meta = expected_dir / (report + ".expected.json");
    if (fs::exists(meta)) {
      hint =
          nlohmann::json::parse(intake::read_file(meta.string()))["input_report_meta"].value("extra.file_name", hint);
    }
    Both b = parse_both(intake::read_file(entry.path().string()), entry.path().string(), hint);
    expect_same(b, report);
    ++files;
    fast += b.fast.fast_events;
  }
  EXPECT_GT(files, 50u);
  EXPECT_GT(fast, 100u) << "the fast path was never taken";
}

// Column values at the edges of the shortcuts (canonical numbers, floats that to_chars writes in
// scientific notation, padded or signed text, invalid values that make the row take the general path).
TEST(NormalizerJson, EdgeValuesGiveTheSameBytes) {
  const std::vector<std::string> numbers = {"0",
                                            "00",
                                            "-0",
                                            "7",
                                            "+7",
                                            " 7",
                                            "007",
                                            "65535",
                                            "65536",
                                            "-1",
                                            "1.5",
                                            "117.00",
                                            "0.0001",
                                            "0.001",
                                            "0.10",
                                            "100",
                                            "100000",
                                            "1000000",
                                            "1e5",
                                            "1E5",
                                            "1.",
                                            ".5",
                                            "0.0",
                                            "0.00000123",
                                            "123456789012345",
                                            "1234567890123456",
                                            "100000000000000",
                                            "12345678901234567890",
                                            "999999999999999999",
                                            "-1.5",
                                            "abc",
                                            "",
                                            "nan",
                                            "inf",
                                            "1.0e-7",
                                            "120.5000",
                                            "99999.99999"};
  std::string csv =
      "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\"region\","
      "\"city\",\"naics\",\"hostname_source\",\"sector\",\"packets\",\"response_size\",\"amplification\"\n";
  for (const std::string& n : numbers) {
    for (int col = 0; col < 5; ++col) {  // port, asn, naics, response_size, amplification
      csv += "\"2026-11-27 00:00:01\",MEDIUM,192.0.2.7,UDP," + (col == 0 ? n : std::string("123")) +
             ",host.example.org,ntp-monitor," + (col == 1 ? n : std::string("64496")) +
             ",DE,\"Niedersachsen\",\"Hannover\"," + (col == 2 ? n : std::string("517311")) +
             ",rdns,\"S, \"\"x\"\"\",1," + (col == 3 ? n : std::string("936")) + "," +
             (col == 4 ? n : std::string("117.00")) + "\n";
    }
  }
  csv += "\"2026-11-27 00:00:02\",,192.0.2.8,,,,,,,,,,,,,,\n";                          // mostly empty
  csv += "\"2026-11-27 00:00:03\",bogus,192.0.2.9,udp,123,h,t,1,DE,r,c,1,s,x,1,2,3\n";  // bad severity
  csv += "\"2026-11-27T00:00:04Z\",low,2001:db8::1,udp,123,\"h\\u00e9\",t,1,DE,r,c,1,s,\"\xc3\xa9\t\",1,2,3\n";
  csv += "not a time,low,192.0.2.10,udp,123,h,t,1,DE,r,c,1,s,x,1,2,3\n";
  csv += "\"2026-11-27 00:00:05\",low,not-an-ip,udp,123,h,t,1,DE,r,c,1,s,x,1,2,3\n";
  csv += "\"2026-11-27 00:00:06\",low,192.0.2.11,udp,123,h,t,1,DE,r,c,1,s,x,1,2\n";  // short row
  const std::string escapes(5000, '\\');  // a long value that escaping doubles
  csv += "\"2026-11-27 00:00:08\",low,192.0.2.13,udp,123,h," + escapes + ",1,DE,r,c,1,s," + escapes + ",1,2,3\n";
  csv += "\"2026-11-27 00:00:07\",low,192.0.2.12,udp,123,h,t,1,DE,r,c,1,s,x,1,2,3";  // no final newline
  const std::string name = "2026-11-27-scan_ntpmonitor-123-org-asn.csv";
  Both b = parse_both(csv, name, name);
  expect_same(b, "edge values");
  EXPECT_GT(b.fast.fast_events, 50u);
}

}  // namespace
}  // namespace klartext::formats::shadowserver
