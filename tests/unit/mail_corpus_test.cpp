// Runs every mail and report of ../shared/corpus/ through format detection: no crash, no hang,
// and every input is accounted for (events, a not-a-report verdict, or a recorded issue).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "formats/format.hpp"
#include "intake/file_source.hpp"

namespace klartext {
namespace {

namespace fs = std::filesystem;

class CountingSink : public formats::Sink {
 public:
  void on_event(const core::Event&) override { ++events; }
  void on_issue(const formats::ParseIssue& i) override {
    if (i.code == "parser-failure") failures.push_back(i.input + ": " + i.reason);
  }
  std::size_t events = 0;
  std::vector<std::string> failures;
};

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Files of one corpus folder that are inputs (not licences, indexes, upstream assertions or schemas).
std::vector<fs::path> inputs(const std::string& folder, int shard, int shards) {
  std::vector<fs::path> out;
  fs::path root = fs::path(KLARTEXT_SHARED_DIR) / "corpus" / folder;
  if (!fs::is_directory(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::string p = e.path().string();
    std::string name = e.path().filename().string();
    if (ends_with(name, ".md") || name == "LICENSE" || name == "README" || ends_with(name, ".license")) continue;
    if (folder == "mailbox" && ends_with(name, ".json")) continue;  // upstream assertions / metadata
    if (folder == "abuseio" && !ends_with(name, ".eml") && !ends_with(name, ".csv")) continue;
    if (folder == "arf" && !ends_with(name, ".eml")) continue;
    if (folder == "xarf" && (!ends_with(name, ".json") || p.find("/samples/") == std::string::npos)) continue;
    if (folder == "iodef" && !ends_with(name, ".txt")) continue;
    out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  std::vector<fs::path> mine;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (static_cast<int>(i % static_cast<std::size_t>(shards)) == shard) mine.push_back(out[i]);
  }
  return mine;
}

void run_corpus(const std::string& folder, int shard = 0, int shards = 1) {
  auto files = inputs(folder, shard, shards);
  if (files.empty()) GTEST_SKIP() << "../shared/corpus/" << folder << " not present";
  formats::ParseOptions options;
  std::map<std::string, int> kinds;
  std::size_t events = 0;
  for (const auto& path : files) {
    CountingSink sink;
    formats::InputSummary s;
    auto start = std::chrono::steady_clock::now();
    intake::with_file_input(path.string(),
                            [&](const formats::Input& in) { s = formats::parse_input(in, sink, options); });
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // A hang shows up as minutes; 30 s leaves room for sanitizer builds on a loaded machine.
    EXPECT_LT(secs, 30.0) << path;
    EXPECT_TRUE(sink.failures.empty()) << path << ": " << (sink.failures.empty() ? "" : sink.failures.front());
    bool accounted = s.events > 0 || s.kind == formats::InputKind::kNotAReport || s.issues > 0;
    EXPECT_TRUE(accounted) << path << " produced no events, no verdict and no issue";
    EXPECT_EQ(s.events, sink.events) << path;
    ++kinds[s.format + "/" + std::string(formats::to_string(s.kind))];
    events += s.events;
  }
  std::string table;
  for (const auto& [k, v] : kinds) table += "  " + k + ": " + std::to_string(v) + "\n";
  std::printf("corpus %s shard %d/%d: %zu inputs, %zu events\n%s", folder.c_str(), shard + 1, shards, files.size(),
              events, table.c_str());
}

TEST(MailCorpus, MailboxPart1) {
  run_corpus("mailbox", 0, 3);
}
TEST(MailCorpus, MailboxPart2) {
  run_corpus("mailbox", 1, 3);
}
TEST(MailCorpus, MailboxPart3) {
  run_corpus("mailbox", 2, 3);
}
TEST(MailCorpus, AbuseIo) {
  run_corpus("abuseio");
}
TEST(MailCorpus, Arf) {
  run_corpus("arf");
}
TEST(MailCorpus, Xarf) {
  run_corpus("xarf");
}
TEST(MailCorpus, Iodef) {
  run_corpus("iodef");
}

}  // namespace
}  // namespace klartext
