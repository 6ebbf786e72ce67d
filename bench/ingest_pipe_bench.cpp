// Google Benchmark: the parse thread of a pipelined ingest (parse, event JSON, id, time, hand-over) against the same
// work inline.
#include <benchmark/benchmark.h>

#include <string>

#include "cases/case_book.hpp"
#include "formats/format.hpp"
#include "ingest/event_pipe.hpp"

namespace {

using namespace klartext;

const core::Timestamp kNow = core::Timestamp::from_seconds(1795780800);

std::string make_report(int rows) {
  std::string s =
      "\"timestamp\",\"ip\",\"protocol\",\"port\",\"hostname\",\"packets\",\"size\",\"asn\",\"geo\",\"region\","
      "\"city\",\"naics\",\"sic\",\"sector\",\"amplification\"\n";
  for (int i = 0; i < rows; ++i) {
    s += "\"2026-11-27 02:" + std::to_string(10 + i % 50) + ":09\",198.51." + std::to_string(i / 254 % 256) + "." +
         std::to_string(i % 254 + 1) + ",udp,123,," + std::to_string(i % 200) + "," + std::to_string(i % 200 * 440) +
         ",64500,DE,Hessen,Frankfurt,0,0,," + std::to_string(i % 5000) + ".25\n";
  }
  return s;
}

formats::Input make_input(const std::string& data) {
  formats::Input in;
  in.name = "2026-11-27-scan_ntpmonitor-64500-org-asn.csv";
  in.filename_hint = in.name;
  in.data = data;
  return in;
}

// What the one-thread ingest does per event before it reaches the store.
struct InlineSink : formats::Sink {
  std::string json, id;
  std::int64_t t = 0;
  void on_event(const core::Event& e) override {
    json.clear();
    e.append_json(json);
    id = e.id();
    t += cases::event_time(e, kNow).micros();
  }
  void on_issue(const formats::ParseIssue&) override {}
};

struct NullConsumer : ingest::detail::PipeConsumer {
  std::size_t bytes = 0;
  void on_event(const ingest::detail::PreparedEvent& p) override {
    for (std::size_t i = 0; i < p.stored.json.size(); i += 64) bytes += static_cast<unsigned char>(p.stored.json[i]);
  }
  void on_issue(const formats::ParseIssue&) override {}
};

constexpr int kRows = 50000;

void BM_ParseInline(benchmark::State& state) {
  const std::string data = make_report(kRows);
  const auto in = make_input(data);
  InlineSink sink;
  for (auto _ : state) benchmark::DoNotOptimize(formats::parse_input(in, sink, formats::ParseOptions{}).events);
  state.SetItemsProcessed(state.iterations() * kRows);
}
BENCHMARK(BM_ParseInline)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMillisecond);

// The parse thread alone: the consumer on the calling thread only looks at each event's JSON (its
// CPU is counted too). The batches' size decides whether what the parse thread writes still sits
// in a cache when the store thread reads it.
void BM_ParseThread(benchmark::State& state) {
  const std::string data = make_report(kRows);
  const auto in = make_input(data);
  for (auto _ : state) {
    ingest::detail::EventPipe pipe(
        [&](formats::Sink& sink) { return formats::parse_input(in, sink, formats::ParseOptions{}); }, kNow,
        static_cast<std::size_t>(state.range(0)), static_cast<std::size_t>(state.range(1)));
    NullConsumer consumer;
    benchmark::DoNotOptimize(pipe.run(consumer).events);
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}
// Args: events per batch, batches.
BENCHMARK(BM_ParseThread)
    ->Args({16, 4})
    ->Args({32, 4})
    ->Args({64, 4})
    ->Args({128, 4})
    ->Args({64, 8})
    ->Args({32, 16})
    ->Args({256, 4})
    ->Args({1024, 4})
    ->Args({2048, 4})
    ->Args({256, 8})
    ->MeasureProcessCPUTime()
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
