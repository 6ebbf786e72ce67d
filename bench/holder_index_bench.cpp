// Holder lookups/s, single and batched, with 1,000,000 sessions and 100,000 static prefixes; reports index memory.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>
#include <ctime>
#include <random>
#include <span>
#include <vector>

#include "customers/holder_index.hpp"

namespace {

using klartext::core::IpAddress;
using klartext::core::IpPrefix;
using klartext::core::Timestamp;
using klartext::customers::HolderIndex;

std::string id(char prefix, std::uint64_t n) {
  std::string s(1, prefix);
  s += std::to_string(n);
  return s;
}

using Query = klartext::customers::HolderQuery;

struct Fixture {
  HolderIndex index;
  std::vector<Query> queries;
  double build_seconds = 0;
  double build_cpu_seconds = 0;  // the machine is shared: CPU time is the fair figure
};

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture fx;
    std::mt19937_64 rng(42);
    const std::int64_t day0 = Timestamp::parse("2026-11-01")->seconds();
    HolderIndex::Builder b;
    std::vector<IpAddress> static_hosts, session_hosts;
    std::vector<std::pair<std::int64_t, std::int64_t>> session_times;
    // 100,000 static prefixes: IPv4 /24../30 inside 10.0.0.0/9-ish space and IPv6 /48.
    for (int i = 0; i < 100'000; ++i) {
      if (i % 5 == 4) {
        IpAddress::Bytes bytes{0x20, 0x01, 0x0d, 0xb8};
        bytes[4] = static_cast<std::uint8_t>(i >> 8);
        bytes[5] = static_cast<std::uint8_t>(i);
        auto net = IpAddress::v6(bytes);
        b.add_static({id('S', static_cast<std::uint64_t>(i)), IpPrefix(net, 48), std::nullopt, std::nullopt});
        bytes[15] = 7;
        static_hosts.push_back(IpAddress::v6(bytes));
      } else {
        int len = 24 + static_cast<int>(rng() % 7);
        auto net = IpAddress::v4(0x0A000000u | (static_cast<std::uint32_t>(rng()) & 0x007FFFFFu)).masked(len);
        b.add_static({id('S', static_cast<std::uint64_t>(i)), IpPrefix(net, len), std::nullopt, std::nullopt});
        static_hosts.push_back(IpAddress::v4(net.v4_value() + 1));
      }
    }
    // 1,000,000 sessions: 900,000 IPv4 addresses (a pool reused over the month: ~3 sessions per
    // address), 100,000 delegated IPv6 /56.
    for (int i = 0; i < 1'000'000; ++i) {
      klartext::customers::Session s;
      s.customer_id = id('C', rng() % 100'000);
      std::int64_t start = day0 + static_cast<std::int64_t>(rng() % (30 * 86400));
      std::int64_t len = 3600 + static_cast<std::int64_t>(rng() % (2 * 86400));
      s.start = Timestamp::from_seconds(start);
      if (rng() % 10 != 0) s.stop = Timestamp::from_seconds(start + len);
      if (i % 10 == 9) {
        IpAddress::Bytes bytes{0x20, 0x01, 0x0d, 0xb9};
        bytes[4] = static_cast<std::uint8_t>(i >> 16);
        bytes[5] = static_cast<std::uint8_t>(i >> 8);
        bytes[6] = static_cast<std::uint8_t>(i);
        s.prefix = IpPrefix(IpAddress::v6(bytes), 56);
        bytes[15] = 1;
        session_hosts.push_back(IpAddress::v6(bytes));
      } else {
        auto a = IpAddress::v4(0x0A800000u | static_cast<std::uint32_t>(rng() % 300'000));
        s.prefix = IpPrefix(a, 32);
        session_hosts.push_back(a);
      }
      session_times.emplace_back(start, len);
      b.add_session(s);
    }
    auto t0 = std::chrono::steady_clock::now();
    double c0 = cpu_seconds();
    fx.index = b.build();
    fx.build_cpu_seconds = cpu_seconds() - c0;
    fx.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // Queries: 50% session addresses at a time inside their session, 35% static hosts, 15% random.
    for (int i = 0; i < 1 << 20; ++i) {
      int kind = static_cast<int>(rng() % 100);
      Query q;
      if (kind < 50) {
        auto k = rng() % session_hosts.size();
        q.ip = session_hosts[k];
        q.t = Timestamp::from_seconds(session_times[k].first + session_times[k].second / 2);
      } else if (kind < 85) {
        q.ip = static_hosts[rng() % static_hosts.size()];
        q.t = Timestamp::from_seconds(day0 + static_cast<std::int64_t>(rng() % (30 * 86400)));
      } else {
        q.ip = IpAddress::v4(static_cast<std::uint32_t>(rng()));
        q.t = Timestamp::from_seconds(day0 + static_cast<std::int64_t>(rng() % (30 * 86400)));
      }
      if (rng() % 2 != 0) q.port = static_cast<std::uint16_t>(rng());
      fx.queries.push_back(q);
    }
    return fx;
  }();
  return f;
}

// The counters both benchmarks report: rates per CPU second (the machine is shared), memory, build time.
void report(benchmark::State& state, std::size_t lookups, std::size_t found, std::size_t sessions) {
  const auto& fx = fixture();
  const auto n = static_cast<double>(lookups);
  state.SetItemsProcessed(static_cast<std::int64_t>(lookups));
  state.counters["lookups/s"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
  state.counters["per_lookup"] = benchmark::Counter(n, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["hit%"] = 100.0 * static_cast<double>(found) / n;
  state.counters["session_hit%"] = 100.0 * static_cast<double>(sessions) / n;
  state.counters["index_MB"] = static_cast<double>(fx.index.memory_bytes()) / 1e6;
  state.counters["build_s"] = fx.build_seconds;
  state.counters["build_cpu_s"] = fx.build_cpu_seconds;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  state.counters["peak_rss_MB"] = static_cast<double>(ru.ru_maxrss) / 1024.0;
}

void BM_HolderLookup(benchmark::State& state) {
  const auto& fx = fixture();
  std::size_t i = 0, found = 0, sessions = 0;
  const std::size_t mask = fx.queries.size() - 1;
  for (auto _ : state) {
    const auto& q = fx.queries[i++ & mask];
    auto h = fx.index.lookup(q.ip, q.t, q.port);
    found += h.has_value();
    sessions += h.has_value() && h->kind == klartext::customers::HolderKind::kSession;
    benchmark::DoNotOptimize(h);
  }
  report(state, state.iterations(), found, sessions);
}
BENCHMARK(BM_HolderLookup)->MinTime(2.0);

// lookup_batch over batches of state.range(0) queries (ingest resolves a parsed chunk's events at once).
void BM_HolderLookupBatch(benchmark::State& state) {
  const auto& fx = fixture();
  const auto batch = static_cast<std::size_t>(state.range(0));
  std::vector<std::optional<klartext::customers::Holder>> out(batch);
  std::size_t i = 0, found = 0, sessions = 0;
  for (auto _ : state) {
    if (i + batch > fx.queries.size()) i = 0;
    fx.index.lookup_batch(std::span(fx.queries).subspan(i, batch), out);
    i += batch;
    for (const auto& h : out) {
      found += h.has_value();
      sessions += h.has_value() && h->kind == klartext::customers::HolderKind::kSession;
    }
    benchmark::DoNotOptimize(out.data());
  }
  report(state, state.iterations() * batch, found, sessions);
}
BENCHMARK(BM_HolderLookupBatch)->Arg(64)->Arg(1024)->MinTime(2.0);

}  // namespace
