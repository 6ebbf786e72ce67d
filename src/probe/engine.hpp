// The probe engine: non-blocking UDP over epoll, many targets in flight, global rate limit,
// per-target spacing, retries, quiet-period measurement (IPv4 and IPv6).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "core/ip.hpp"
#include "probe/catalogue.hpp"
#include "probe/result.hpp"

namespace klartext::probe {

// Hard ceilings that no configuration can raise. Loopback-only runs (tests, benchmarks) may go
// faster because no packet leaves the host.
inline constexpr double kMaxRatePps = 10'000;
inline constexpr double kMaxLoopbackRatePps = 1'000'000;
inline constexpr std::size_t kMaxInFlight = 16'384;

struct ProbeJob {
  core::IpAddress target;
  std::uint16_t port = 0;
  const ProbeSpec* spec = nullptr;
  const Variant* variant = nullptr;
  Params params;  // the variant's params with command-line overrides applied
};

struct EngineOptions {
  std::optional<core::IpAddress> source;          // bind address of every probe socket
  double rate_pps = 1000;                         // global packet rate (requests incl. retries)
  std::chrono::milliseconds target_spacing{100};  // between two requests to the same address
  std::chrono::milliseconds timeout{2000};        // wait for a first answer before retry / giving up
  std::chrono::milliseconds quiet{500};           // silence after the last datagram that ends a measurement
  std::chrono::milliseconds max_duration{15000};  // hard cap per probe (a flood never keeps us forever)
  int retries = 1;
  std::size_t max_in_flight = 512;
  int rcvbuf_bytes = 8 << 20;  // a 360-datagram memcached reply overflows the default buffer
  std::size_t evidence_packets = 3;
  std::size_t evidence_bytes = 1500;
  std::size_t keep_datagrams = 1024;  // kept for decoding; counting goes on beyond
  std::size_t keep_bytes = 2 << 20;
};

// Counters over a run (exact byte accounting for the benchmark).
struct EngineStats {
  std::uint64_t probes = 0;
  std::uint64_t packets_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t packets_received = 0;
  std::uint64_t bytes_received = 0;
  std::size_t peak_in_flight = 0;
};

class Engine {
 public:
  explicit Engine(EngineOptions options);
  // Runs every job and calls `on_result` as each finishes (in completion order). All targets must
  // have passed the safety policy before (see policy.hpp); the engine itself enforces the rate
  // ceilings and refuses multicast/broadcast/unspecified addresses.
  EngineStats run(const std::vector<ProbeJob>& jobs, const std::function<void(ProbeResult&&)>& on_result);

 private:
  EngineOptions opt_;
};

}  // namespace klartext::probe
