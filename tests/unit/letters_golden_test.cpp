// Golden letters: tests/golden/letters/<case>/ (reports + customer.json) -> expected.eml, Date and
// Message-ID masked. KLARTEXT_UPDATE_GOLDEN=1 rewrites the expected files (review with git diff).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "delivery/mime.hpp"
#include "formats/format.hpp"
#include "knowledge/knowledge.hpp"
#include "letters/from_events.hpp"
#include "letters/renderer.hpp"

namespace fs = std::filesystem;
using namespace klartext;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Collect : public formats::Sink {
 public:
  void on_event(const core::Event& e) override { events.push_back(e); }
  void on_issue(const formats::ParseIssue&) override {}
  std::vector<core::Event> events;
};

std::string mask(std::string mail) {
  mail = std::regex_replace(mail, std::regex("^Date: .*$", std::regex::multiline), "Date: <masked>");
  mail = std::regex_replace(mail, std::regex("^Message-Id: .*$", std::regex::multiline | std::regex::icase),
                            "Message-Id: <masked>");
  return mail;
}

// Renders the letter of one golden case directory.
std::string render_case(const fs::path& dir) {
  const auto cj = nlohmann::json::parse(read_file(dir / "customer.json"));
  letters::LetterInput input;
  input.customer.id = cj.at("id");
  input.customer.name = cj.at("name");
  input.customer.emails = cj.at("emails").get<std::vector<std::string>>();
  input.customer.language = cj.value("language", "");
  input.customer.time_zone = cj.value("time_zone", "");

  std::vector<fs::path> files;
  for (const auto& f : fs::directory_iterator(dir)) files.push_back(f.path());
  std::sort(files.begin(), files.end());
  Collect sink;
  for (const auto& f : files) {
    const std::string name = f.filename().string();
    if (f.extension() == ".csv") {
      const std::string bytes = read_file(f);
      formats::Input in{name, name, bytes, {}};
      formats::parse_input(in, sink, formats::ParseOptions{});
    } else if (name == "events.jsonl") {
      std::istringstream lines(read_file(f));
      for (std::string line; std::getline(lines, line);) {
        if (!line.empty()) sink.events.push_back(core::Event::from_json(line));
      }
    }
  }
  // One case per (classification, source address), in order of first appearance.
  std::vector<std::pair<std::string, std::vector<core::Event>>> groups;
  for (const auto& e : sink.events) {
    const std::string key = e.classification().to_string() + " " + (e.source_ip() ? e.source_ip()->to_string() : "");
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == key; });
    if (it == groups.end()) it = groups.insert(groups.end(), {key, {}});
    it->second.push_back(e);
  }
  int n = 0;
  for (auto& [key, events] : groups) {
    input.cases.push_back(letters::case_from_events(input.customer.id + "-" + std::to_string(++n), events));
  }

  letters::RendererOptions opt;
  opt.organisation = "Example ISP";
  opt.sender_address = "abuse@example.org";
  letters::Renderer renderer(opt, knowledge::KnowledgeBase::instance());
  const letters::Letter letter = renderer.render(input);
  delivery::Sender sender;
  return delivery::build_mime(letter, sender, core::Timestamp::from_seconds(1'795'500'000), "golden@example.org");
}

}  // namespace

TEST(LettersGolden, AllCases) {
  const fs::path root = fs::path(KLARTEXT_GOLDEN_DIR) / "letters";
  const bool update = std::getenv("KLARTEXT_UPDATE_GOLDEN") != nullptr;
  int cases = 0;
  for (const auto& d : fs::directory_iterator(root)) {
    if (!d.is_directory()) continue;
    ++cases;
    SCOPED_TRACE(d.path().filename().string());
    const std::string got = mask(render_case(d.path()));
    const fs::path expected = d.path() / "expected.eml";
    if (update) {
      std::ofstream(expected, std::ios::binary) << got;
      continue;
    }
    ASSERT_TRUE(fs::exists(expected)) << "no expected.eml; run with KLARTEXT_UPDATE_GOLDEN=1";
    EXPECT_EQ(read_file(expected), got);
  }
  EXPECT_GE(cases, 1);
}
