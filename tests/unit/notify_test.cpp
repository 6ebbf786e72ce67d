// notify against a real SQLite store: one letter per customer, nothing twice, resend interval, changes.
#include "notify/notify.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cases/case_book.hpp"
#include "store/store.hpp"

using namespace klartext;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kHeader =
    R"("timestamp","ip","protocol","port","hostname","packets","size","asn","geo","region","city","naics","sic","sector","amplification")";

class NotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("klartext-notify-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    cfg_.store_path = (dir_ / "k.db").string();
    cfg_.outbox_dir = (dir_ / "outbox").string();
    cfg_.renotify_seconds_high = 3600;
    store_ = store::Store::open(cfg_);
    store_->upsert_customer({"K-1001", "Müller Zahntechnik GmbH", {"technik@example.org"}, "de", "Europe/Berlin", {}});
    store_->upsert_customer({"K-1002", "Northwind Hosting Ltd", {"noc@example.org"}, "en", "Europe/London", {}});
    store_->upsert_customer({"K-1003", "No Mail GmbH", {}, "de", "", {}});
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Stores one ntp-monitor event for `customer` the way ingest does.
  void add_event(const std::string& customer, const std::string& ip, const std::string& time) {
    const std::string row = "\"" + time + "\"," + ip + ",udp,123,,100,48200,64500,DE,,,0,0,,548.4";
    const std::string raw = std::string(kHeader) + "\n" + row;
    core::Event e;
    e.set_classification(core::Classification::of(core::IncidentType::kDdosAmplifier, "ntp-monitor"));
    e.set_source_ip(*core::IpAddress::parse(ip));
    e.set_source_port(123);
    e.set("protocol.transport", "udp");
    e.set_time_source(*core::Timestamp::parse(time));
    e.set_severity(core::Severity::kHigh);
    e.set("feed.provider", "Shadowserver");
    e.set("feed.name", "NTP-Monitor");
    e.set("feed.code", "scan_ntpmonitor");
    e.raw = raw;
    auto tx = store_->transaction();
    cases::CaseBook book(*store_, cfg_);
    const auto rep = store_->add_report(raw, "test.csv", now_);
    const auto case_id = book.case_for(customer, e, now_);
    const auto t = *e.time_source();
    if (store_->add_event(rep.id, e, e.id(), e.to_json(), t, customer, case_id)) book.add_event(case_id, e, t, now_);
    book.flush();
    tx.commit();
  }

  notify::Result notify_at(core::Timestamp now) {
    notify::Options o;
    o.now = now;
    o.sync = false;
    return notify::run(*store_, cfg_, o);
  }

  std::size_t outbox_files() {
    std::size_t n = 0;
    if (fs::exists(dir_ / "outbox" / "new")) {
      for ([[maybe_unused]] const auto& f : fs::directory_iterator(dir_ / "outbox" / "new")) ++n;
    }
    return n;
  }

  fs::path dir_;
  config::Config cfg_;
  std::unique_ptr<store::Store> store_;
  core::Timestamp now_ = *core::Timestamp::parse("2026-11-28 06:00:00");
};

}  // namespace

TEST_F(NotifyTest, OneLetterPerCustomerThenNothingTwice) {
  add_event("K-1001", "198.51.100.7", "2026-11-27 02:14:09");
  add_event("K-1001", "198.51.100.8", "2026-11-27 02:15:00");
  add_event("K-1002", "198.51.100.20", "2026-11-27 02:15:40");
  add_event("K-1003", "198.51.100.40", "2026-11-27 02:16:00");
  const notify::Result r = notify_at(now_);
  ASSERT_EQ(r.letters.size(), 2u);
  EXPECT_EQ(r.letters[0].customer_id, "K-1001");
  EXPECT_EQ(r.letters[0].cases.size(), 2u);
  EXPECT_EQ(r.letters[1].customer_id, "K-1002");
  EXPECT_EQ(outbox_files(), 2u);
  ASSERT_EQ(r.warnings.size(), 1u);  // K-1003 has no address
  EXPECT_NE(r.warnings[0].find("K-1003"), std::string::npos);
  // Recorded: cases are notified, with the letter's Message-ID in their history.
  for (const auto& c : store_->list_cases({"K-1001"})) {
    EXPECT_EQ(c.state, cases::CaseState::kNotified);
    EXPECT_EQ(c.notifications, 1);
  }
  EXPECT_EQ(store_->notifications("K-1001").size(), 1u);
  EXPECT_EQ(store_->notifications("K-1001")[0].path, r.letters[0].path);

  // A second run right after: nothing new.
  const notify::Result again = notify_at(core::Timestamp::from_seconds(now_.seconds() + 60));
  EXPECT_TRUE(again.letters.empty());
  EXPECT_EQ(outbox_files(), 2u);
}

TEST_F(NotifyTest, ResendIntervalAndChanges) {
  add_event("K-1002", "198.51.100.20", "2026-11-27 02:15:40");
  ASSERT_EQ(notify_at(now_).letters.size(), 1u);
  // Unchanged and within the interval of its severity (high: 3600 s here): not mailed again.
  EXPECT_TRUE(notify_at(core::Timestamp::from_seconds(now_.seconds() + 3599)).letters.empty());
  // Interval passed: mailed again, as a resend.
  const auto later = core::Timestamp::from_seconds(now_.seconds() + 3600);
  const notify::Result resend = notify_at(later);
  ASSERT_EQ(resend.letters.size(), 1u);
  EXPECT_EQ(resend.letters[0].cases[0].due, letters::Due::kResend);
  EXPECT_TRUE(notify_at(core::Timestamp::from_seconds(later.seconds() + 10)).letters.empty());
  // A new event makes the case changed: mailed at once.
  add_event("K-1002", "198.51.100.20", "2026-11-28 02:15:40");
  const notify::Result changed = notify_at(core::Timestamp::from_seconds(later.seconds() + 20));
  ASSERT_EQ(changed.letters.size(), 1u);
  EXPECT_EQ(changed.letters[0].cases[0].due, letters::Due::kChanged);
  EXPECT_EQ(changed.letters[0].cases[0].event_count, 2);
  EXPECT_EQ(outbox_files(), 3u);
}

TEST_F(NotifyTest, DryRunPrintsAndRecordsNothing) {
  add_event("K-1001", "198.51.100.7", "2026-11-27 02:14:09");
  std::ostringstream out;
  notify::Options o;
  o.now = now_;
  o.dry_run = true;
  o.dry_run_out = &out;
  const notify::Result r = notify::run(*store_, cfg_, o);
  ASSERT_EQ(r.letters.size(), 1u);
  EXPECT_NE(out.str().find("X-Klartext-Case: "), std::string::npos);
  EXPECT_NE(out.str().find("Content-Type: multipart/mixed"), std::string::npos);
  EXPECT_EQ(outbox_files(), 0u);
  EXPECT_TRUE(store_->notifications().empty());
  EXPECT_EQ(notify_at(now_).letters.size(), 1u);  // still due
}

TEST_F(NotifyTest, MailReportQuotesTheEventsOwnLinesAndAttachesTheMail) {
  const std::string mail =
      "From: Fail2Ban <f2b@web1.example.org>\nTo: abuse@example.net\nSubject: sshd: banned 203.0.113.9\n"
      "Date: Fri, 27 Nov 2026 10:15:00 +0000\n\nHi,\n\nbanned after 5 attempts:\n"
      "sshd[1]: Failed password for root from 203.0.113.9 port 40112 ssh2\n";
  const std::string line = "sshd[1]: Failed password for root from 203.0.113.9 port 40112 ssh2";
  core::Event e;
  e.set_classification(core::Classification::of(core::IncidentType::kBruteForce, "ssh"));
  e.set_source_ip(*core::IpAddress::parse("203.0.113.9"));
  e.set_time_source(*core::Timestamp::parse("2026-11-27 10:14:51"));
  e.set("feed.name", "free-text");
  e.raw = line + "\n";
  {
    auto tx = store_->transaction();
    cases::CaseBook book(*store_, cfg_);
    const auto rep = store_->add_report(mail, "f2b.eml", now_);
    const auto case_id = book.case_for("K-1002", e, now_);
    const auto t = *e.time_source();
    ASSERT_TRUE(store_->add_event(rep.id, e, e.id(), e.to_json(), t, "K-1002", case_id));
    book.add_event(case_id, e, t, now_);
    book.flush();
    tx.commit();
  }
  std::ostringstream out;
  notify::Options o;
  o.now = now_;
  o.dry_run = true;
  o.dry_run_out = &out;
  ASSERT_EQ(notify::run(*store_, cfg_, o).letters.size(), 1u);
  const std::string letter = out.str();
  // The log line is quoted inline (quoted-printable keeps this ASCII line readable, maybe soft-wrapped).
  std::string unwrapped;
  for (std::size_t i = 0; i < letter.size(); ++i) {
    if (letter.compare(i, 2, "=\n") == 0) {
      ++i;
      continue;
    }
    unwrapped += letter[i];
  }
  EXPECT_NE(unwrapped.find(line), std::string::npos) << letter;
  EXPECT_NE(letter.find("Content-Type: message/rfc822"), std::string::npos);
}
