// Letters for 10,000 customers: rendering + MIME (and into a Maildir, and the whole notify run over a
// SQLite store). Target: at least 5,000 letters/s. Peak RSS is reported as a counter.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>

#include <filesystem>

#include "cases/case_book.hpp"
#include "delivery/maildir.hpp"
#include "delivery/mime.hpp"
#include "knowledge/knowledge.hpp"
#include "letters/renderer.hpp"
#include "notify/notify.hpp"
#include "store/store.hpp"

using namespace klartext;

namespace {

constexpr int kCustomers = 10'000;
constexpr std::string_view kHeader =
    R"("timestamp","ip","protocol","port","hostname","packets","size","asn","geo","region","city","naics","sic","sector","amplification")";

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is KiB on Linux
}

std::string address(int i) {
  return fmt::format("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
}

// 10,000 customers, half German, half English; every third one has a second case (ntp-version), every
// fifth an infected system; each case has 1-3 original rows.
std::vector<letters::LetterInput> inputs() {
  std::vector<letters::LetterInput> out;
  out.reserve(kCustomers);
  const auto t0 = *core::Timestamp::parse("2026-11-27 02:14:09");
  for (int i = 0; i < kCustomers; ++i) {
    letters::LetterInput in;
    in.customer = {fmt::format("K-{}", 100000 + i),
                   fmt::format("Kunde {} GmbH", i),
                   {fmt::format("noc{}@example.org", i)},
                   i % 2 ? "en" : "de",
                   i % 2 ? "Europe/London" : "Europe/Berlin"};
    auto add = [&](core::Classification cls, std::string feed, int rows) {
      letters::Case c;
      c.id = std::to_string(i * 3 + static_cast<int>(in.cases.size()));
      c.classification = std::move(cls);
      c.reported_as = feed;
      c.source_ip = *core::IpAddress::parse(address(i));
      c.port = 123;
      c.transport = "udp";
      c.first_seen = t0;
      c.last_seen = core::Timestamp::from_seconds(t0.seconds() + 3600 * (rows - 1));
      c.event_count = static_cast<std::uint64_t>(rows);
      c.severity = core::Severity::kHigh;
      c.feed_provider = "Shadowserver";
      c.feed_name = feed;
      c.feed_documentation_url = "https://www.shadowserver.org/what-we-do/network-reporting/ntp-monitor-report/";
      for (int r = 0; r < rows; ++r) {
        c.evidence.push_back(letters::evidence_from_raw(
            fmt::format("{}\n\"2026-11-27 0{}:14:09\",{},udp,123,,100,48200,64500,DE,,,0,0,,548.4", kHeader, r + 2,
                        address(i)),
            true));
      }
      in.cases.push_back(std::move(c));
    };
    add(core::Classification::of(core::IncidentType::kDdosAmplifier, "ntp-monitor"), "NTP-Monitor", 1 + i % 3);
    if (i % 3 == 0) add(core::Classification::of(core::IncidentType::kDdosAmplifier, "ntp-version"), "NTP-Version", 1);
    if (i % 5 == 0) add(core::Classification::of(core::IncidentType::kInfectedSystem, "andromeda"), "Sinkhole", 2);
    out.push_back(std::move(in));
  }
  return out;
}

const std::vector<letters::LetterInput>& shared_inputs() {
  static const std::vector<letters::LetterInput> in = inputs();
  return in;
}

// Each thread has its own Renderer (not thread-safe) and writes every customer's letter; the rate counts
// all threads' letters over wall time.
void BM_RenderAndMime(benchmark::State& state) {
  const auto& in = shared_inputs();
  letters::Renderer renderer({}, knowledge::KnowledgeBase::instance());
  const auto now = core::Timestamp::now();
  std::size_t bytes = 0;
  for (auto _ : state) {
    for (const auto& input : in) {
      const letters::Letter l = renderer.render(input);
      const std::string mime = delivery::build_mime(l, {}, now, delivery::make_message_id("abuse@example.org", now));
      bytes += mime.size();
      benchmark::DoNotOptimize(mime.data());
    }
  }
  // Counters are summed over threads and so is the time a rate divides by: scaling by the thread count
  // gives all threads' letters per second of wall time.
  state.counters["letters_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kCustomers * state.threads(), benchmark::Counter::kIsRate);
  state.counters["avg_mail_bytes"] =
      benchmark::Counter(static_cast<double>(bytes) / (static_cast<double>(state.iterations()) * kCustomers),
                         benchmark::Counter::kAvgThreads);
  state.counters["peak_rss_MiB"] = peak_rss_mib();
}
BENCHMARK(BM_RenderAndMime)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime()->Threads(1)->Threads(2);

// The two halves apart: Mustache rendering, and GMime building of already rendered letters.
void BM_RenderOnly(benchmark::State& state) {
  const auto in = inputs();
  letters::Renderer renderer({}, knowledge::KnowledgeBase::instance());
  for (auto _ : state) {
    for (const auto& input : in) benchmark::DoNotOptimize(renderer.render(input).body.size());
  }
  state.counters["letters_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kCustomers, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RenderOnly)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_MimeOnly(benchmark::State& state) {
  const auto in = inputs();
  letters::Renderer renderer({}, knowledge::KnowledgeBase::instance());
  std::vector<letters::Letter> rendered;
  for (const auto& input : in) rendered.push_back(renderer.render(input));
  const auto now = core::Timestamp::now();
  for (auto _ : state) {
    for (const auto& l : rendered) benchmark::DoNotOptimize(delivery::build_mime(l, {}, now, "x@example.org").size());
  }
  state.counters["letters_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kCustomers, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MimeOnly)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_RenderMimeMaildir(benchmark::State& state) {
  const auto in = inputs();
  letters::Renderer renderer({}, knowledge::KnowledgeBase::instance());
  const auto dir = std::filesystem::temp_directory_path() / ("klartext-letters-bench-" + std::to_string(::getpid()));
  const auto now = core::Timestamp::now();
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    delivery::Maildir md(dir, /*sync=*/false);
    state.ResumeTiming();
    for (const auto& input : in) {
      const letters::Letter l = renderer.render(input);
      md.deliver(delivery::build_mime(l, {}, now, delivery::make_message_id("abuse@example.org", now)));
    }
  }
  std::filesystem::remove_all(dir);
  state.counters["letters_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kCustomers, benchmark::Counter::kIsRate);
  state.counters["peak_rss_MiB"] = peak_rss_mib();
}
BENCHMARK(BM_RenderMimeMaildir)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();

// The whole `notify` over a SQLite store: 10,000 customers with one ntp-monitor case each; reads the
// cases and their evidence, renders, writes the outbox (no fsync) and records every letter.
void BM_NotifyFromStore(benchmark::State& state) {
  const auto dir = std::filesystem::temp_directory_path() / ("klartext-notify-bench-" + std::to_string(::getpid()));
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    config::Config cfg;
    cfg.store_path = (dir / "k.db").string();
    cfg.outbox_dir = (dir / "outbox").string();
    auto st = store::Store::open(cfg);
    const auto now = *core::Timestamp::parse("2026-11-28 06:00:00");
    {
      auto tx = st->transaction();
      cases::CaseBook book(*st, cfg);
      const auto rep = st->add_report("bench", "bench.csv", now);
      for (int i = 0; i < kCustomers; ++i) {
        const std::string id = fmt::format("K-{}", 100000 + i);
        st->upsert_customer({id,
                             fmt::format("Kunde {}", i),
                             {fmt::format("noc{}@example.org", i)},
                             i % 2 ? "en" : "de",
                             "Europe/Berlin",
                             {}});
        core::Event e;
        e.set_classification(core::Classification::of(core::IncidentType::kDdosAmplifier, "ntp-monitor"));
        e.set_source_ip(*core::IpAddress::parse(address(i)));
        e.set_source_port(123);
        e.set_time_source(*core::Timestamp::parse("2026-11-27 02:14:09"));
        e.set_severity(core::Severity::kHigh);
        e.set("feed.provider", "Shadowserver");
        e.set("feed.name", "NTP-Monitor");
        e.set("feed.code", "scan_ntpmonitor");
        e.raw =
            fmt::format("{}\n\"2026-11-27 02:14:09\",{},udp,123,,100,48200,64500,DE,,,0,0,,548.4", kHeader, address(i));
        const auto case_id = book.case_for(id, e, now);
        const auto t = *e.time_source();
        if (st->add_event(rep.id, e, e.id(), e.to_json(), t, id, case_id)) book.add_event(case_id, e, t, now);
      }
      book.flush();
      tx.commit();
    }
    notify::Options opt;
    opt.now = now;
    opt.sync = false;
    state.ResumeTiming();
    const notify::Result r = notify::run(*st, cfg, opt);
    if (r.letters.size() != kCustomers) state.SkipWithError("not every customer got a letter");
  }
  std::filesystem::remove_all(dir);
  state.counters["letters_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kCustomers, benchmark::Counter::kIsRate);
  state.counters["peak_rss_MiB"] = peak_rss_mib();
}
BENCHMARK(BM_NotifyFromStore)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();

}  // namespace
