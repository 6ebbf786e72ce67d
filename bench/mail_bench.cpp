// Mails per second over the mailbox corpus (mails under 1 MB), and a zipped large Shadowserver attachment.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "formats/format.hpp"

namespace {

namespace fs = std::filesystem;
using klartext::formats::Input;
using klartext::formats::ParseOptions;

class CountingSink : public klartext::formats::Sink {
 public:
  void on_event(const klartext::core::Event&) override { ++events; }
  void on_issue(const klartext::formats::ParseIssue&) override {}
  std::size_t events = 0;
};

const std::vector<std::string>& corpus() {
  static std::vector<std::string> mails = [] {
    std::vector<std::string> out;
    fs::path root = fs::path(KLARTEXT_SOURCE_DIR) / ".." / "shared" / "corpus" / "mailbox";
    if (!fs::is_directory(root)) return out;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(root)) {
      std::string n = e.path().filename().string();
      if (!e.is_regular_file() || n.ends_with(".json") || n.ends_with(".md")) continue;
      if (e.file_size() >= (1u << 20)) continue;
      files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return out;
  }();
  return mails;
}

// The mails a structured parser (not the free-text reader) takes, and the not-a-report verdicts.
const std::vector<std::string>& structured() {
  static std::vector<std::string> mails = [] {
    std::vector<std::string> out;
    for (const auto& m : corpus()) {
      CountingSink sink;
      Input in;
      in.name = "bench.eml";
      in.data = m;
      auto s = klartext::formats::parse_input(in, sink, ParseOptions{});
      if (s.format != "free-text") out.push_back(m);
    }
    return out;
  }();
  return mails;
}

// One pass over the mails, in its own function so that callgrind can count a steady-state pass alone:
//   valgrind --tool=callgrind --toggle-collect='*parse_all*' bench/mail_bench
//     --benchmark_filter=BM_MailboxCorpus --benchmark_min_time=0
// (instructions / 768 = instructions per mail; run() warms up first, outside parse_all).
void parse_each(const std::vector<std::string>& mails, const ParseOptions& options, std::size_t& bytes,
                std::size_t& events) {
  for (const auto& m : mails) {
    CountingSink sink;
    Input in;
    in.name = "bench.eml";
    in.data = m;
    klartext::formats::parse_input(in, sink, options);
    bytes += m.size();
    events += sink.events;
  }
}
__attribute__((noinline)) void parse_all(const std::vector<std::string>& mails, const ParseOptions& options,
                                         std::size_t& bytes, std::size_t& events) {
  parse_each(mails, options, bytes, events);
}

void run(benchmark::State& state, const std::vector<std::string>& mails) {
  if (mails.empty()) {
    state.SkipWithError("../shared/corpus/mailbox not present");
    return;
  }
  ParseOptions options;
  // Warm-up once (rules, knowledge and schemas load on first use): not timed and not in parse_all.
  static const bool warm = [&options] {
    std::size_t bytes = 0, events = 0;
    parse_each(corpus(), options, bytes, events);
    return bytes + events > 0;
  }();
  benchmark::DoNotOptimize(warm);
  std::size_t bytes = 0, events = 0;
  for (auto _ : state) parse_all(mails, options, bytes, events);
  state.counters["mails/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * mails.size()), benchmark::Counter::kIsRate);
  state.counters["events"] = static_cast<double>(events) / static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
void BM_MailboxCorpus(benchmark::State& state) {
  run(state, corpus());
}
void BM_MailboxStructuredOnly(benchmark::State& state) {
  run(state, structured());
}
BENCHMARK(BM_MailboxCorpus)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MailboxStructuredOnly)->Unit(benchmark::kMillisecond);

}  // namespace
