// Probe engine against in-process UDP responders on loopback: counting, retries, closed ports, limits.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "probe/catalogue.hpp"
#include "probe/engine.hpp"
#include "probe_responder.hpp"

namespace klartext::probe {
namespace {

using testing::Responder;

ProbeJob job(std::string_view probe, std::string_view addr, std::uint16_t port) {
  const auto* s = Catalogue::instance().find(probe);
  return ProbeJob{*core::IpAddress::parse(addr), port, s, &s->variants.front(), s->variants.front().params};
}

EngineOptions fast() {
  EngineOptions o;
  o.timeout = std::chrono::milliseconds(300);
  o.quiet = std::chrono::milliseconds(100);
  o.target_spacing = std::chrono::milliseconds(0);
  o.retries = 0;
  return o;
}

std::vector<ProbeResult> run(const EngineOptions& o, const std::vector<ProbeJob>& jobs) {
  std::vector<ProbeResult> out;
  Engine(o).run(jobs, [&](ProbeResult&& r) { out.push_back(std::move(r)); });
  return out;
}

TEST(ProbeEngine, CountsEveryDatagramAndComputesFactors) {
  const std::string line(72, 'x');
  Responder resp([&](const std::string&, int) { return std::vector<std::string>(5, line + "\r\n"); });
  auto r = run(fast(), {job("chargen", "127.0.0.1", resp.port())});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].verdict, Verdict::kAmplifier);
  EXPECT_EQ(r[0].response_packets, 5u);
  EXPECT_EQ(r[0].response_bytes, 5u * 74);
  EXPECT_EQ(r[0].requests_sent, 1u);
  EXPECT_DOUBLE_EQ(r[0].baf, 370.0);
  EXPECT_DOUBLE_EQ(r[0].paf, 5.0);
  EXPECT_TRUE(r[0].first_answer_ms.has_value());
  EXPECT_EQ(r[0].evidence.size(), 3u);
  EXPECT_EQ(r[0].evidence_omitted, 2u);
  EXPECT_NE(r[0].to_json().find("\"verdict\":\"amplifier\""), std::string::npos);
}

TEST(ProbeEngine, RetriesAndCountsEveryRequestInTheFactors) {
  Responder resp([](const std::string&, int n) {
    return n == 1 ? std::vector<std::string>{} : std::vector<std::string>{"A quote, at last.\r\n"};
  });
  auto o = fast();
  o.retries = 2;
  auto r = run(o, {job("qotd", "127.0.0.1", resp.port())});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].requests_sent, 2u);
  EXPECT_EQ(r[0].response_bytes, 19u);
  EXPECT_DOUBLE_EQ(r[0].baf, 19.0 / 2);
  EXPECT_EQ(r[0].verdict, Verdict::kAmplifier);
}

TEST(ProbeEngine, SmallOrInvalidAnswersAreNotAmplifiers) {
  Responder resp([](const std::string& req, int) { return std::vector<std::string>{req}; });  // an echo
  auto r = run(fast(), {job("chargen", "127.0.0.1", resp.port()), job("memcached", "127.0.0.1", resp.port())});
  ASSERT_EQ(r.size(), 2u);
  for (const auto& x : r) {
    EXPECT_EQ(x.verdict, Verdict::kResponds) << x.probe;
    EXPECT_FALSE(x.decoded.valid) << x.probe;
  }
}

TEST(ProbeEngine, ClosedPortAndFamilyMismatch) {
  std::uint16_t closed;
  {
    Responder tmp([](const std::string&, int) { return std::vector<std::string>{}; });
    closed = tmp.port();
  }
  auto o = fast();
  auto r = run(o, {job("ntp-version", "127.0.0.1", closed)});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].verdict, Verdict::kNoAnswer);
  EXPECT_TRUE(r[0].unreachable);

  o.source = *core::IpAddress::parse("::1");
  r = run(o, {job("ntp-version", "127.0.0.1", 123)});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].verdict, Verdict::kError);
  EXPECT_EQ(r[0].requests_sent, 0u);
}

TEST(ProbeEngine, NeverSendsToMulticastOrBroadcast) {
  auto r = run(fast(), {job("mdns", "224.0.0.251", 5353), job("ssdp", "255.255.255.255", 1900)});
  ASSERT_EQ(r.size(), 2u);
  for (const auto& x : r) {
    EXPECT_EQ(x.verdict, Verdict::kError);
    EXPECT_EQ(x.requests_sent, 0u);
  }
}

TEST(ProbeEngine, GlobalRateLimitHolds) {
  Responder resp([](const std::string&, int) { return std::vector<std::string>{"q\r\n"}; });
  auto o = fast();
  o.rate_pps = 100;
  std::vector<ProbeJob> jobs;
  for (int i = 0; i < 30; ++i) jobs.push_back(job("qotd", "127.0.0.1", resp.port()));
  auto t0 = std::chrono::steady_clock::now();
  auto r = run(o, jobs);
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.size(), 30u);
  EXPECT_EQ(resp.requests(), 30);
  EXPECT_GE(secs, 0.25);  // 30 packets at 100/s, one-packet burst: at least ~0.29 s
}

TEST(ProbeEngine, PerTargetSpacingHolds) {
  Responder resp([](const std::string&, int) { return std::vector<std::string>{"q\r\n"}; });
  auto o = fast();
  o.rate_pps = 10000;
  o.target_spacing = std::chrono::milliseconds(60);
  std::vector<ProbeJob> jobs;
  for (int i = 0; i < 5; ++i) jobs.push_back(job("qotd", "127.0.0.1", resp.port()));
  auto t0 = std::chrono::steady_clock::now();
  auto r = run(o, jobs);
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.size(), 5u);
  EXPECT_GE(secs, 0.24);  // four gaps of 60 ms between the five requests to one address
}

}  // namespace
}  // namespace klartext::probe
