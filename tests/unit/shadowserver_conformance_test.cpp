// Conformance with IntelMQ 3.2.1's Shadowserver test data; deviations read from the docs table.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "formats/format.hpp"
#include "formats/shadowserver/shadowserver.hpp"

namespace klartext::formats::shadowserver {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Collect : Sink {
  std::vector<nlohmann::json> events;
  std::vector<ParseIssue> issues;
  void on_event(const core::Event& e) override { events.push_back(nlohmann::json::parse(e.to_json())); }
  void on_issue(const ParseIssue& i) override { issues.push_back(i); }
};

// Rows of the deviation table: | report | field | expected (3.2.1) | klartext | why |
struct Deviation {
  std::string expected, ours;
};
std::map<std::pair<std::string, std::string>, std::vector<Deviation>> load_deviations() {
  std::map<std::pair<std::string, std::string>, std::vector<Deviation>> out;
  std::ifstream in(std::string(KLARTEXT_SOURCE_DIR) + "/docs/shadowserver-conformance.md");
  std::string line;
  bool in_table = false;
  auto cell = [](std::string s) {
    while (!s.empty() && s.front() == ' ') s.erase(0, 1);
    while (!s.empty() && s.back() == ' ') s.pop_back();
    if (s.size() >= 2 && s.front() == '`' && s.back() == '`') s = s.substr(1, s.size() - 2);
    return s;
  };
  while (std::getline(in, line)) {
    if (line.rfind("<!-- deviations -->", 0) == 0) in_table = true;
    if (line.rfind("<!-- /deviations -->", 0) == 0) in_table = false;
    if (!in_table || line.rfind("| ", 0) != 0 || line.rfind("| report", 0) == 0 || line.rfind("|---", 0) == 0) continue;
    std::vector<std::string> cells;
    std::size_t pos = 1;
    while (pos < line.size()) {
      std::size_t bar = line.find(" |", pos);
      if (bar == std::string::npos) break;
      cells.push_back(cell(line.substr(pos, bar - pos)));
      pos = bar + 2;
    }
    if (cells.size() >= 4) out[{cells[0], cells[1]}].push_back({cells[2], cells[3]});
  }
  return out;
}

std::string text(const nlohmann::json& v) {
  if (v.is_null()) return "(absent)";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

// Numbers and their decimal text are the same value (columns the current schema no longer types
// come out as text).
bool same(const nlohmann::json& a, const nlohmann::json& b) {
  if (a == b) return true;
  if (a.is_number() && b.is_string()) return same(b, a);
  if (a.is_string() && b.is_number()) {
    try {
      return std::stod(a.get<std::string>()) == b.get<double>();
    } catch (const std::exception&) {
      return false;
    }
  }
  return false;
}

bool compared(const std::string& key) {
  static const std::set<std::string> kKeys = {"time.source",
                                              "source.ip",
                                              "source.port",
                                              "source.asn",
                                              "source.reverse_dns",
                                              "classification.identifier",
                                              "classification.type",
                                              "classification.taxonomy",
                                              "feed.name"};
  return kKeys.count(key) > 0 || key.rfind("protocol.", 0) == 0 || key.rfind("extra.", 0) == 0;
}

TEST(ShadowserverConformance, IntelMq321TestData) {
  fs::path shared = std::getenv("KLARTEXT_SHARED_DIR") != nullptr ? fs::path(std::getenv("KLARTEXT_SHARED_DIR"))
                                                                  : fs::path(KLARTEXT_SHARED_DIR);
  fs::path data = shared / "corpus/shadowserver/testdata-3.2.1";
  fs::path expected_dir = shared / "corpus/shadowserver/expected-3.2.1";
  if (!fs::is_directory(data) || !fs::is_directory(expected_dir)) {
    GTEST_SKIP() << "shared corpus not found at " << shared << " (set KLARTEXT_SHARED_DIR); conformance not run";
  }
  auto deviations = load_deviations();
  std::set<std::pair<std::string, std::string>> used;
  std::size_t files = 0, checked_events = 0, checked_fields = 0;
  std::vector<std::string> failures;
  for (const auto& entry : fs::directory_iterator(data)) {
    if (entry.path().extension() != ".csv") continue;
    ++files;
    const std::string report = entry.path().stem().string();
    auto expected = nlohmann::json::parse(read(expected_dir / (report + ".expected.json")));
    std::string bytes = read(entry.path());
    Input in;
    in.name = entry.path().string();
    // The tests fed the report under this file name.
    in.filename_hint = expected["input_report_meta"].value("extra.file_name", entry.path().filename().string());
    Collect sink;
    ParseOptions opt;
    in.data = bytes;
    InputSummary s = parse_input(in, sink, opt);
    EXPECT_EQ(s.format, "shadowserver-csv") << report;
    std::map<std::string, const nlohmann::json*> by_raw;
    for (const auto& e : sink.events) by_raw[e.value("raw", "")] = &e;
    for (const auto& exp : expected["expected_events"]) {
      ++checked_events;
      auto it = by_raw.find(exp["raw"].get<std::string>());
      if (it == by_raw.end()) {
        // A listed deviation may say the row is deliberately not an event.
        auto d = deviations.find({report, "(event)"});
        if (d != deviations.end()) {
          used.insert(d->first);
        } else {
          failures.push_back("| " + report + " | (event) | `" + exp.value("raw_decoded", "") + "` | `(none)` |");
        }
        continue;
      }
      const nlohmann::json& ours = *it->second;
      for (auto f = exp.begin(); f != exp.end(); ++f) {
        if (!compared(f.key())) continue;
        ++checked_fields;
        nlohmann::json mine = ours.contains(f.key()) ? ours[f.key()] : nlohmann::json();
        if (same(mine, f.value())) continue;
        auto d = deviations.find({report, f.key()});
        bool allowed = false;
        if (d != deviations.end()) {
          for (const auto& dev : d->second) {
            if ((dev.expected == "*" || dev.expected == text(f.value())) &&
                (dev.ours == "*" || dev.ours == text(mine))) {
              allowed = true;
            }
          }
          used.insert(d->first);
        }
        if (!allowed) {
          failures.push_back("| " + report + " | " + f.key() + " | `" + text(f.value()) + "` | `" + text(mine) + "` |");
        }
      }
    }
  }
  EXPECT_EQ(files, 93u);
  for (const auto& f : failures) ADD_FAILURE() << f;
  for (const auto& [k, v] : deviations) {
    EXPECT_TRUE(used.count(k) > 0) << "deviation row no longer needed: " << k.first << " " << k.second;
  }
  std::cout << "conformance: files=" << files << " events=" << checked_events << " fields=" << checked_fields
            << " failures=" << failures.size() << "\n";
}

}  // namespace
}  // namespace klartext::formats::shadowserver
