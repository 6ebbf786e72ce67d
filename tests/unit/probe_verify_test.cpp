// klartext verify's rules on a real SQLite store: record, reopen a wrongly resolved case, close a fixed one.
#include <gtest/gtest.h>

#include <filesystem>

#include "cases/case_book.hpp"
#include "probe/verify.hpp"
#include "probe/wire.hpp"
#include "probe_responder.hpp"

namespace klartext::probe {
namespace {

// One full monlist datagram (6 items of 72 bytes) answering any mode 7 request, as ntpd 4.2.6 would.
std::vector<std::string> monlist(const std::string& req, int) {
  if (req.size() < 8 || (req[0] & 7) != 7) return {};
  std::string d;
  wire::put_u8(d, 0x97);
  wire::put_u8(d, 0);
  d += req.substr(2, 2);
  wire::put_u16(d, 6);
  wire::put_u16(d, 72);
  d.append(6 * 72, '\0');
  return {d};
}

class ProbeVerify : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("klartext-verify-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    store_ = store::Store::open_sqlite((dir_ / "k.db").string());
    opt_.timeout = std::chrono::milliseconds(300);
    opt_.quiet = std::chrono::milliseconds(100);
    opt_.retries = 0;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::int64_t add_case(std::string_view ip, std::uint16_t port, cases::CaseState state,
                        std::string_view identifier = "ntp-monitor") {
    cases::Case c;
    c.customer_id = "K-1001";
    c.classification = core::Classification::of(core::IncidentType::kDdosAmplifier, std::string(identifier));
    c.source_ip = *core::IpAddress::parse(ip);
    c.source_port = port;
    c.state = state;
    c.first_seen = c.last_seen = c.created = c.updated = core::Timestamp::now();
    return store_->insert_case(c);
  }
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  config::Config cfg_;
  EngineOptions opt_;
};

TEST_F(ProbeVerify, ResolvedButStillAmplifyingReopensWithTheMeasurement) {
  testing::Responder ntpd(monlist);
  auto id = add_case("127.0.0.1", ntpd.port(), cases::CaseState::kResolved);
  auto out = verify_cases(*store_, cfg_, {id}, opt_);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].action, "reopened");
  EXPECT_EQ(store_->get_case(id)->state, cases::CaseState::kOpen);
  auto pr = store_->latest_probe_result(id);
  ASSERT_TRUE(pr);
  EXPECT_EQ(pr->verdict, "amplifier");
  ASSERT_TRUE(pr->baf);
  EXPECT_DOUBLE_EQ(*pr->baf, 440.0 / 48);
  EXPECT_NE(pr->details_json.find("\"entries\":6"), std::string::npos);
  auto hist = store_->case_history(id);
  ASSERT_FALSE(hist.empty());
  EXPECT_NE(hist.back().reason.find("still an amplifier"), std::string::npos);
}

TEST_F(ProbeVerify, ResolvedAndSilentClosesAsVerifiedFixed) {
  std::uint16_t port;
  {
    testing::Responder gone([](const std::string&, int) { return std::vector<std::string>{}; });
    port = gone.port();
  }
  auto id = add_case("127.0.0.1", port, cases::CaseState::kResolved);
  auto out = verify_cases(*store_, cfg_, {id}, opt_);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].action, "closed-verified-fixed");
  EXPECT_EQ(store_->get_case(id)->state, cases::CaseState::kClosed);
  EXPECT_EQ(store_->latest_probe_result(id)->verdict, "no-answer");
}

TEST_F(ProbeVerify, OpenCaseIsConfirmedNotClosedAndOutsideIsSkipped) {
  testing::Responder ntpd(monlist);
  auto confirmed = add_case("127.0.0.1", ntpd.port(), cases::CaseState::kNotified);
  auto outside = add_case("192.0.2.7", 123, cases::CaseState::kOpen);
  auto other = add_case("127.0.0.1", 9, cases::CaseState::kOpen, "no-such-probe");
  auto ids = open_amplifier_cases(*store_);
  EXPECT_EQ(ids.size(), 3u);
  auto out = verify_cases(*store_, cfg_, ids, opt_);
  ASSERT_EQ(out.size(), 3u);
  for (const auto& o : out) {
    if (o.case_id == confirmed) {
      EXPECT_EQ(o.action, "recorded");
      EXPECT_EQ(o.result->verdict, Verdict::kAmplifier);
      EXPECT_EQ(store_->get_case(confirmed)->state, cases::CaseState::kNotified);
    } else if (o.case_id == outside) {
      EXPECT_EQ(o.action, "skipped");
      EXPECT_NE(o.note.find("probe.allowed_prefixes"), std::string::npos);
      EXPECT_FALSE(store_->latest_probe_result(outside));
    } else {
      EXPECT_EQ(o.case_id, other);
      EXPECT_EQ(o.action, "skipped");
    }
  }
}

}  // namespace
}  // namespace klartext::probe
