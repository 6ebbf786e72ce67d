// Google Benchmark: Shadowserver CSV tokenizer, row normalizer and JSON serialization, in rows/s.
#include <benchmark/benchmark.h>

#include <string>

#include "core/event.hpp"
#include "formats/shadowserver/csv_reader.hpp"
#include "formats/shadowserver/normalizer.hpp"
#include "formats/shadowserver/schema.hpp"
#include "knowledge/knowledge.hpp"

namespace {

using namespace klartext::formats::shadowserver;

const std::string kHeader =
    "\"timestamp\",\"severity\",\"ip\",\"protocol\",\"port\",\"hostname\",\"tag\",\"asn\",\"geo\",\"region\","
    "\"city\",\"naics\",\"hostname_source\",\"sector\",\"packets\",\"response_size\",\"amplification\"";

std::string make_rows(int n) {
  std::string s = kHeader + "\n";
  for (int i = 0; i < n; ++i) {
    s += "\"2026-11-27 02:" + std::to_string(10 + i % 50) + ":09\",medium,198.51.100." + std::to_string(i % 254 + 1) +
         ",udp,123,host-" + std::to_string(i) +
         ".example.org,ntp-monitor,64496,DE,\"Niedersachsen\",\"Hannover\",517311,rdns,\"Communications, Service "
         "Provider, and Hosting Service\",100,48000,2666.67\n";
  }
  return s;
}

// A scan_ntpmonitor normalizer bound to the header of `data`.
Normalizer make_normalizer(const std::string& data) {
  std::vector<std::string> header;
  CsvReader r(data, 1 << 20);
  CsvRecord rec;
  r.next(rec);
  header.assign(rec.fields.begin(), rec.fields.end());
  static const auto schema = Schema::get();  // kept alive: the normalizer refers to them
  static const auto classes = ClassificationMap::get();
  return Normalizer(schema->find("scan_ntpmonitor"), "scan_ntpmonitor", header, kHeader,
                    klartext::knowledge::KnowledgeBase::instance(), *classes);
}

void BM_Tokenizer(benchmark::State& state) {
  const std::string data = make_rows(10000);
  std::size_t rows = 0;
  for (auto _ : state) {
    CsvReader r(data, 1 << 20);
    CsvRecord rec;
    while (r.next(rec)) ++rows;
    benchmark::DoNotOptimize(rec.fields.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(rows));
  state.SetBytesProcessed(static_cast<std::int64_t>(data.size()) * state.iterations());
}
BENCHMARK(BM_Tokenizer);

// Tokenize + normalize into a reused Event (no serialization).
void BM_Normalizer(benchmark::State& state) {
  const std::string data = make_rows(10000);
  Normalizer norm = make_normalizer(data);
  klartext::core::Event event;
  std::size_t rows = 0;
  for (auto _ : state) {
    CsvReader r(data, 1 << 20);
    CsvRecord rec;
    r.next(rec);
    while (r.next(rec)) {
      norm.normalize(rec.fields, rec.bytes(data), event);
      ++rows;
    }
    benchmark::DoNotOptimize(event.size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(rows));
}
BENCHMARK(BM_Normalizer);

// The whole per-row path: tokenize, normalize, serialize as JSON Lines; with `fast`, through the
// JSON fast path that `klartext parse` takes (the Event path for the rows it declines).
void normalize_and_json(benchmark::State& state, bool fast) {
  const std::string data = make_rows(10000);
  Normalizer norm = make_normalizer(data);
  klartext::core::Event event;
  std::string out;
  std::size_t rows = 0;
  for (auto _ : state) {
    CsvReader r(data, 1 << 20);
    CsvRecord rec;
    r.next(rec);
    while (r.next(rec)) {
      if (!fast || !norm.normalize_json(rec.fields, rec.bytes(data), out)) {
        norm.normalize(rec.fields, rec.bytes(data), event);
        event.append_json(out);
      }
      out.push_back('\n');
      if (out.size() > (1 << 20)) out.clear();
      ++rows;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(rows));
}

void BM_NormalizeAndJson(benchmark::State& state) {
  normalize_and_json(state, false);
}
BENCHMARK(BM_NormalizeAndJson);

void BM_NormalizeJsonFastPath(benchmark::State& state) {
  normalize_and_json(state, true);
}
BENCHMARK(BM_NormalizeJsonFastPath);

}  // namespace
