// Probe engine: one non-blocking UDP socket per probe (connected, so the kernel filters foreign
// senders and reports ICMP port unreachable), all multiplexed on one epoll instance.
#include "probe/engine.hpp"

#include "core/unique_fd.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <queue>
#include <random>
#include <unordered_map>
#include <utility>

namespace klartext::probe {
namespace {

using Nanos = std::int64_t;

Nanos now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
Nanos to_ns(std::chrono::milliseconds ms) {
  return static_cast<Nanos>(ms.count()) * 1'000'000;
}

using core::UniqueFd;

socklen_t make_sockaddr(const core::IpAddress& a, std::uint16_t port, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (a.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = htonl(a.v4_value());
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  std::memcpy(&sin6->sin6_addr, a.bytes().data(), 16);
  return sizeof(sockaddr_in6);
}

bool same_host(const sockaddr_storage& a, const sockaddr_storage& b, bool check_port) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto* x = reinterpret_cast<const sockaddr_in*>(&a);
    const auto* y = reinterpret_cast<const sockaddr_in*>(&b);
    return x->sin_addr.s_addr == y->sin_addr.s_addr && (!check_port || x->sin_port == y->sin_port);
  }
  const auto* x = reinterpret_cast<const sockaddr_in6*>(&a);
  const auto* y = reinterpret_cast<const sockaddr_in6*>(&b);
  return std::memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0 && (!check_port || x->sin6_port == y->sin6_port);
}

std::string sockaddr_text(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
    std::string out(buf);
    out += ':';
    out += std::to_string(ntohs(sin->sin_port));
    return out;
  }
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
  inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
  std::string out = "[";
  out += buf;
  out += "]:";
  out += std::to_string(ntohs(sin6->sin6_port));
  return out;
}

std::string errno_text(std::string_view what, int err) {
  return std::string(what) + ": " + std::strerror(err);
}

// A token bucket for the global packet rate.
class RateLimiter {
 public:
  RateLimiter(double rate, Nanos now) : rate_(rate), burst_(std::max(1.0, rate / 100.0)), tokens_(1.0), last_(now) {}
  bool take(Nanos now) {
    refill(now);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }
  Nanos next_token_at(Nanos now) {
    refill(now);
    if (tokens_ >= 1.0) return now;
    return now + static_cast<Nanos>((1.0 - tokens_) / rate_ * 1e9) + 1;
  }

 private:
  void refill(Nanos now) {
    if (now > last_) {
      tokens_ = std::min(burst_, tokens_ + static_cast<double>(now - last_) * rate_ / 1e9);
      last_ = now;
    }
  }
  double rate_, burst_, tokens_;
  Nanos last_;
};

struct Slot {
  bool active = false;
  std::size_t target = 0;  // index into the per-target queues (spacing)
  std::uint32_t generation = 0;
  std::size_t job = 0;
  UniqueFd fd;
  sockaddr_storage peer{};
  socklen_t peer_len = 0;
  bool connected = false;
  ProbeResult result;
  std::vector<std::string> datagrams;
  std::size_t kept_bytes = 0;
  Nanos first_send = 0;
  Nanos deadline = 0;
  bool answered = false;
};

struct Deadline {
  Nanos at;
  std::uint32_t slot;
  std::uint32_t generation;
  bool operator>(const Deadline& o) const { return at > o.at; }
};

struct TargetQueue {
  std::vector<std::size_t> jobs;
  std::size_t next = 0;
  Nanos last_send = std::numeric_limits<Nanos>::min() / 2;  // any request, retries included
};

class Run {
 public:
  Run(const EngineOptions& opt, const std::vector<ProbeJob>& jobs, const std::function<void(ProbeResult&&)>& cb)
      : opt_(opt), jobs_(jobs), cb_(cb), limiter_(opt.rate_pps, now_ns()), rng_(std::random_device{}()) {}

  EngineStats execute() {
    epoll_ = UniqueFd(epoll_create1(EPOLL_CLOEXEC));
    if (epoll_.get() < 0) throw std::runtime_error(errno_text("epoll_create1", errno));
    group_targets();
    slots_.resize(opt_.max_in_flight);
    for (std::size_t i = slots_.size(); i-- > 0;) free_.push_back(static_cast<std::uint32_t>(i));
    std::vector<epoll_event> events(256);
    buf_.resize(65536);
    while (true) {
      Nanos now = now_ns();
      launch_ready(now);
      if (active_ == 0 && ready_.empty()) break;
      expire(now_ns());
      if (active_ == 0 && ready_.empty()) break;
      int wait_ms = compute_wait(now_ns());
      int n = epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), wait_ms);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(errno_text("epoll_wait", errno));
      }
      Nanos t = now_ns();
      for (int i = 0; i < n; ++i) {
        auto idx = static_cast<std::uint32_t>(events[i].data.u64 & 0xffffffffu);
        auto gen = static_cast<std::uint32_t>(events[i].data.u64 >> 32);
        if (idx < slots_.size() && slots_[idx].active && slots_[idx].generation == gen) receive(idx, t);
      }
    }
    return stats_;
  }

 private:
  void group_targets() {
    std::unordered_map<core::IpAddress, std::size_t> index;
    for (std::size_t i = 0; i < jobs_.size(); ++i) {
      auto [it, inserted] = index.try_emplace(jobs_[i].target, targets_.size());
      if (inserted) targets_.emplace_back();
      targets_[it->second].jobs.push_back(i);
    }
    for (std::size_t t = 0; t < targets_.size(); ++t) ready_.push({0, t});
  }

  void launch_ready(Nanos now) {
    while (active_ < slots_.size() && !ready_.empty() && ready_.top().first <= now) {
      auto [at, t] = ready_.top();
      auto& q = targets_[t];
      if (Nanos earliest = q.last_send + to_ns(opt_.target_spacing); earliest > now) {
        ready_.pop();  // a retry went to this address meanwhile: keep the spacing
        ready_.push({earliest, t});
        continue;
      }
      if (!limiter_.take(now)) break;
      ready_.pop();
      launch(q.jobs[q.next++], t, now);
      if (q.next < q.jobs.size()) ready_.push({now + to_ns(opt_.target_spacing), t});
    }
  }

  void launch(std::size_t job_index, std::size_t target, Nanos now) {
    const ProbeJob& job = jobs_[job_index];
    std::uint32_t idx = free_.back();
    free_.pop_back();
    Slot& s = slots_[idx];
    s.active = true;
    ++s.generation;
    ++active_;
    stats_.peak_in_flight = std::max(stats_.peak_in_flight, active_);
    ++stats_.probes;
    s.job = job_index;
    s.target = target;
    s.datagrams.clear();
    s.kept_bytes = 0;
    s.answered = false;
    s.first_send = now;
    s.result = ProbeResult{};
    ProbeResult& r = s.result;
    r.target = job.target;
    r.port = job.port;
    r.probe = job.spec->name;
    r.variant = job.variant->name;
    r.service = job.spec->service;
    r.time = core::Timestamp::now();
    r.request = job.spec->codec->build(job.params, static_cast<std::uint32_t>(rng_()));
    s.connected = !job.spec->reply_from_any_port;

    if (job.target.is_multicast() || job.target.is_broadcast() || job.target.is_unspecified()) {
      return fail(idx, "refused: multicast, broadcast and unspecified addresses are never probed");
    }
    s.peer_len = make_sockaddr(job.target, job.port, s.peer);
    s.fd = UniqueFd(::socket(s.peer.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (s.fd.get() < 0) return fail(idx, errno_text("socket", errno));
    int rcv = opt_.rcvbuf_bytes;
    if (setsockopt(s.fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) != 0) {
      setsockopt(s.fd.get(), SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);  // capped by rmem_max without root
    }
    if (opt_.source) {
      if (opt_.source->is_v4() != job.target.is_v4()) {
        return fail(idx, "source address " + opt_.source->to_string() + " is not of the target's address family");
      }
      sockaddr_storage src;
      socklen_t len = make_sockaddr(*opt_.source, 0, src);
      if (::bind(s.fd.get(), reinterpret_cast<sockaddr*>(&src), len) != 0) {
        return fail(idx, errno_text("bind " + opt_.source->to_string(), errno));
      }
    }
    if (s.connected && ::connect(s.fd.get(), reinterpret_cast<sockaddr*>(&s.peer), s.peer_len) != 0) {
      return fail(idx, errno_text("connect", errno));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = (static_cast<std::uint64_t>(s.generation) << 32) | idx;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, s.fd.get(), &ev) != 0) return fail(idx, errno_text("epoll_ctl", errno));
    if (!send(idx)) return;
    sockaddr_storage local{};
    socklen_t llen = sizeof local;
    if (getsockname(s.fd.get(), reinterpret_cast<sockaddr*>(&local), &llen) == 0) r.source = sockaddr_text(local);
    set_deadline(idx, now + to_ns(opt_.timeout));
  }

  // Sends the request once; on failure finishes the slot and returns false.
  bool send(std::uint32_t idx) {
    Slot& s = slots_[idx];
    const std::string& req = s.result.request;
    ssize_t n = s.connected
                    ? ::send(s.fd.get(), req.data(), req.size(), 0)
                    : ::sendto(s.fd.get(), req.data(), req.size(), 0, reinterpret_cast<sockaddr*>(&s.peer), s.peer_len);
    if (n < 0) {
      if (errno == ECONNREFUSED) {
        s.result.unreachable = true;
        finish(idx);
        return false;
      }
      fail(idx, errno_text("send", errno));
      return false;
    }
    ++s.result.requests_sent;
    targets_[s.target].last_send = now_ns();
    ++stats_.packets_sent;
    stats_.bytes_sent += static_cast<std::uint64_t>(n);
    return true;
  }

  void receive(std::uint32_t idx, Nanos now) {
    Slot& s = slots_[idx];
    for (int i = 0; i < 256; ++i) {
      ssize_t n;
      if (s.connected) {
        n = ::recv(s.fd.get(), buf_.data(), buf_.size(), 0);
      } else {
        sockaddr_storage from{};
        socklen_t flen = sizeof from;
        n = ::recvfrom(s.fd.get(), buf_.data(), buf_.size(), 0, reinterpret_cast<sockaddr*>(&from), &flen);
        if (n >= 0 && !same_host(from, s.peer, false)) continue;  // not from the target: ignore
      }
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        if (errno == ECONNREFUSED) {
          // ICMP port unreachable: closed port. Data already received still counts.
          s.result.unreachable = s.result.response_packets == 0;
          if (!s.answered) return finish(idx);
          continue;
        }
        return fail(idx, errno_text("recv", errno));
      }
      auto len = static_cast<std::size_t>(n);
      ProbeResult& r = s.result;
      if (r.response_packets == 0) r.first_answer_ms = static_cast<double>(now - s.first_send) / 1e6;
      ++r.response_packets;
      r.response_bytes += len;
      ++stats_.packets_received;
      stats_.bytes_received += len;
      if (s.datagrams.size() < opt_.keep_datagrams && s.kept_bytes + len <= opt_.keep_bytes) {
        s.datagrams.emplace_back(buf_.data(), len);
        s.kept_bytes += len;
      }
      s.answered = true;
    }
    if (s.active && s.answered) {
      set_deadline(idx, std::min(now + to_ns(opt_.quiet), s.first_send + to_ns(opt_.max_duration)));
    }
  }

  void set_deadline(std::uint32_t idx, Nanos at) {
    Slot& s = slots_[idx];
    s.deadline = at;
    deadlines_.push({at, idx, s.generation});
  }

  void expire(Nanos now) {
    while (!deadlines_.empty() && deadlines_.top().at <= now) {
      Deadline d = deadlines_.top();
      deadlines_.pop();
      Slot& s = slots_[d.slot];
      if (!s.active || s.generation != d.generation || s.deadline != d.at) continue;  // stale entry
      bool over = now - s.first_send >= to_ns(opt_.max_duration);
      if (!s.answered && !over && s.result.requests_sent <= static_cast<std::uint32_t>(opt_.retries)) {
        if (Nanos earliest = targets_[s.target].last_send + to_ns(opt_.target_spacing); earliest > now) {
          set_deadline(d.slot, earliest);
          continue;
        }
        if (!limiter_.take(now)) {
          set_deadline(d.slot, limiter_.next_token_at(now));
          continue;
        }
        if (send(d.slot)) set_deadline(d.slot, now + to_ns(opt_.timeout));
        continue;
      }
      finish(d.slot);
    }
  }

  int compute_wait(Nanos now) {
    Nanos next = now + 1'000'000'000;
    if (!deadlines_.empty()) next = std::min(next, deadlines_.top().at);
    if (!ready_.empty() && active_ < slots_.size()) {
      next = std::min(next, std::max(ready_.top().first, limiter_.next_token_at(now)));
    }
    if (next <= now) return 0;
    return static_cast<int>((next - now + 999'999) / 1'000'000);
  }

  void fail(std::uint32_t idx, std::string why) {
    slots_[idx].result.error = std::move(why);
    finish(idx);
  }

  void finish(std::uint32_t idx) {
    Slot& s = slots_[idx];
    const ProbeJob& job = jobs_[s.job];
    ProbeResult& r = s.result;
    r.duration_ms = static_cast<double>(now_ns() - s.first_send) / 1e6;
    if (r.response_packets > 0) r.decoded = job.spec->codec->decode(job.params, r.request, s.datagrams);
    for (std::size_t i = 0; i < s.datagrams.size() && i < opt_.evidence_packets; ++i) {
      r.evidence.push_back(s.datagrams[i].substr(0, opt_.evidence_bytes));
    }
    r.evidence_omitted = r.response_packets - r.evidence.size();
    judge(r, job.spec->abusable, job.spec->min_baf);
    s.fd.reset();  // also removes it from the epoll set
    s.active = false;
    s.datagrams.clear();
    --active_;
    free_.push_back(idx);
    cb_(std::move(r));
  }

  const EngineOptions& opt_;
  const std::vector<ProbeJob>& jobs_;
  const std::function<void(ProbeResult&&)>& cb_;
  RateLimiter limiter_;
  std::mt19937 rng_;
  UniqueFd epoll_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  std::size_t active_ = 0;
  std::vector<TargetQueue> targets_;
  std::priority_queue<std::pair<Nanos, std::size_t>, std::vector<std::pair<Nanos, std::size_t>>, std::greater<>> ready_;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
  std::vector<char> buf_;
  EngineStats stats_;
};

}  // namespace

Engine::Engine(EngineOptions options) : opt_(std::move(options)) {}

EngineStats Engine::run(const std::vector<ProbeJob>& jobs, const std::function<void(ProbeResult&&)>& on_result) {
  EngineOptions opt = opt_;
  bool loopback_only = std::all_of(jobs.begin(), jobs.end(), [](const ProbeJob& j) { return j.target.is_loopback(); });
  double ceiling = loopback_only ? kMaxLoopbackRatePps : kMaxRatePps;
  opt.rate_pps = std::clamp(opt.rate_pps, 1.0, ceiling);
  opt.max_in_flight = std::clamp<std::size_t>(opt.max_in_flight, 1, kMaxInFlight);
  opt.retries = std::clamp(opt.retries, 0, 10);
  // One descriptor per probe in flight: make sure the process may hold that many.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rlim_t want = opt.max_in_flight + 64;
    if (rl.rlim_cur < want) {
      rl.rlim_cur = std::min(want, rl.rlim_max);
      setrlimit(RLIMIT_NOFILE, &rl);
      getrlimit(RLIMIT_NOFILE, &rl);
      if (rl.rlim_cur < want) opt.max_in_flight = rl.rlim_cur > 128 ? rl.rlim_cur - 64 : 64;
    }
  }
  Run run(opt, jobs, on_result);
  return run.execute();
}

}  // namespace klartext::probe
