// Free-text throughput: a typical complaint with log lines, and a large log file (bytes/s, reports/s).
#include <benchmark/benchmark.h>

#include <string>

#include "formats/freetext/freetext.hpp"

namespace {

using namespace klartext;

class CountSink : public formats::Sink {
 public:
  void on_event(const core::Event&) override { ++events; }
  void on_issue(const formats::ParseIssue&) override {}
  std::size_t events = 0;
};

std::string complaint() {
  std::string body =
      "Sehr geehrte Damen und Herren,\n\nvon Ihrer IP 198.51.100.23 gehen seit heute früh SSH-Angriffe auf "
      "unseren Server\n203.0.113.5 aus. Auszug aus unserem Log (Zeitzone: MEZ):\n\n";
  for (int i = 0; i < 20; ++i) {
    body += "Nov 28 06:12:0" + std::to_string(i % 10) +
            " web1 sshd[4242]: Failed password for root from 198.51.100.23 port 5123" + std::to_string(i % 10) +
            " ssh2\n";
  }
  body += "\nBitte unterbinden Sie das.\n\nMit freundlichen Grüßen\nMax Mustermann\nhttps://www.example.org/\n";
  return body;
}

std::string firewall_log(int lines) {
  std::string body;
  for (int i = 0; i < lines; ++i) {
    body += "Nov 28 01:04:49 fw kernel: [UFW BLOCK] IN=eth0 OUT= SRC=192.0.2." + std::to_string(i % 200 + 1) +
            " DST=203.0.113.5 LEN=40 PROTO=TCP SPT=40000 DPT=" + std::to_string(1000 + i % 50) + " SYN\n";
  }
  return body;
}

void run(benchmark::State& state, const std::string& subject, const std::string& body) {
  formats::ParseOptions options;
  formats::Input input{"bench", "bench.txt", body, {}};
  std::size_t events = 0;
  for (auto _ : state) {
    CountSink sink;
    formats::ParseContext ctx(sink, options, input);
    formats::freetext::TextReport report{subject, body, "admin@example.org",
                                         core::Timestamp::parse("2026-11-28T09:00:00Z"), "example.org"};
    formats::freetext::parse_free_text(ctx, report);
    events += sink.events;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["events"] = static_cast<double>(events) / static_cast<double>(state.iterations());
}

void BM_FreetextComplaint(benchmark::State& state) {
  run(state, "Beschwerde: SSH-Angriffe", complaint());
}
BENCHMARK(BM_FreetextComplaint);

void BM_FreetextFirewallLog(benchmark::State& state) {
  run(state, "Abuse", firewall_log(static_cast<int>(state.range(0))));
}
BENCHMARK(BM_FreetextFirewallLog)->Arg(1000)->Arg(20000);

}  // namespace
