// Prober throughput: 10,000 loopback targets across 127.0.0.0/8, answered by one local responder
// socket (bound to 0.0.0.0, replying from each target address via IP_PKTINFO). Reports probes/s
// (wall and per engine-CPU second), exact byte accounting, and memory per probe in flight.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "probe/catalogue.hpp"
#include "probe/engine.hpp"

namespace {

using namespace klartext;

constexpr std::size_t kTargets = 10'000;
const std::string kReply = std::string(466, 'Q') + "\r\n";  // 468-byte QOTD-style answer

class Responder {
 public:
  Responder() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    int buf = 32 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    timeval tv{0, 20000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    thread_ = std::thread([this] { loop(); });
  }
  ~Responder() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }

 private:
  void loop() {
    constexpr int kBatch = 64;
    char bufs[kBatch][512];
    char ctrl[kBatch][64];
    sockaddr_in from[kBatch];
    iovec iov[kBatch];
    mmsghdr msgs[kBatch];
    while (!stop_) {
      std::memset(msgs, 0, sizeof msgs);
      for (int i = 0; i < kBatch; ++i) {
        iov[i] = {bufs[i], sizeof bufs[i]};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &from[i];
        msgs[i].msg_hdr.msg_namelen = sizeof from[i];
        msgs[i].msg_hdr.msg_control = ctrl[i];
        msgs[i].msg_hdr.msg_controllen = sizeof ctrl[i];
      }
      int n = ::recvmmsg(fd_, msgs, kBatch, MSG_WAITFORONE, nullptr);
      if (n <= 0) continue;
      for (int i = 0; i < n; ++i) {
        // Answer from the address the request was sent to.
        for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
          if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            auto* pi = reinterpret_cast<in_pktinfo*>(CMSG_DATA(c));
            pi->ipi_spec_dst = pi->ipi_addr;
            pi->ipi_ifindex = 0;
          }
        }
        iov[i] = {const_cast<char*>(kReply.data()), kReply.size()};
        msgs[i].msg_hdr.msg_flags = 0;
      }
      ::sendmmsg(fd_, msgs, static_cast<unsigned>(n), 0);
    }
  }
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

long rss_kib(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::strlen(key)));
  }
  return 0;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void BM_Probe10kLoopbackTargets(benchmark::State& state) {
  Responder responder;
  const auto* spec = probe::Catalogue::instance().find("qotd");
  std::vector<probe::ProbeJob> jobs;
  std::set<std::uint32_t> seen;
  for (std::uint32_t i = 0; jobs.size() < kTargets; ++i) {
    std::uint32_t a = 0x7f000000u | ((0x010203u + i * 1657u) & 0xffffffu);
    if ((a & 0xff) == 0 || (a & 0xff) == 255 || !seen.insert(a).second) continue;
    jobs.push_back(
        {core::IpAddress::v4(a), responder.port(), spec, &spec->variants.front(), spec->variants.front().params});
  }
  probe::EngineOptions opt;
  opt.rate_pps = probe::kMaxLoopbackRatePps;
  opt.target_spacing = std::chrono::milliseconds(0);
  opt.timeout = std::chrono::milliseconds(1000);
  opt.quiet = std::chrono::milliseconds(static_cast<int>(state.range(1)));
  opt.retries = 0;
  opt.max_in_flight = static_cast<std::size_t>(state.range(0));

  probe::EngineStats stats;
  std::size_t amplifiers = 0, exact = 0;
  double cpu = 0;
  long rss_before = rss_kib("VmRSS:");
  for (auto _ : state) {
    amplifiers = exact = 0;
    double c0 = thread_cpu_seconds();
    stats = probe::Engine(opt).run(jobs, [&](probe::ProbeResult&& r) {
      amplifiers += r.verdict == probe::Verdict::kAmplifier;
      exact += r.response_bytes == kReply.size() && r.response_packets == 1 && r.requests_sent == 1;
    });
    cpu = thread_cpu_seconds() - c0;
  }
  long rss_peak = rss_kib("VmHWM:");
  const std::size_t req = 1;
  bool bytes_ok = stats.bytes_sent == kTargets * req && stats.bytes_received == kTargets * kReply.size() &&
                  stats.packets_sent == kTargets && stats.packets_received == kTargets && exact == kTargets;
  if (!bytes_ok) state.SkipWithError("byte accounting mismatch");
  state.counters["probes"] = static_cast<double>(stats.probes);
  state.counters["probes_per_s"] = benchmark::Counter(static_cast<double>(stats.probes), benchmark::Counter::kIsRate);
  state.counters["probes_per_engine_cpu_s"] = static_cast<double>(stats.probes) / cpu;
  state.counters["bytes_sent"] = static_cast<double>(stats.bytes_sent);
  state.counters["bytes_received"] = static_cast<double>(stats.bytes_received);
  state.counters["amplifiers"] = static_cast<double>(amplifiers);
  state.counters["peak_in_flight"] = static_cast<double>(stats.peak_in_flight);
  state.counters["rss_growth_per_inflight_B"] =
      stats.peak_in_flight
          ? static_cast<double>(rss_peak - rss_before) * 1024.0 / static_cast<double>(stats.peak_in_flight)
          : 0;
}
// args: probes in flight, quiet period (ms) that ends each measurement
BENCHMARK(BM_Probe10kLoopbackTargets)
    ->Args({1024, 20})
    ->Args({4096, 20})
    ->Args({4096, 100})
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
