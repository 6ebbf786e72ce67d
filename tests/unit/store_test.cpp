// Tests for the store: migrations, reports/events idempotence, customers, cases, letters, probes.
#include "store/store.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace klartext::store {
namespace {

core::Event ntp_event(const char* ip, const char* time) {
  core::Event e;
  e.set("feed.provider", "Shadowserver");
  e.set("feed.name", "scan_ntpmonitor");
  e.set_source_ip(*core::IpAddress::parse(ip));
  e.set_source_port(123);
  e.set_classification(core::Classification::of(core::IncidentType::kDdosAmplifier, "ntp-monitor"));
  e.set_time_source(*core::Timestamp::parse(time));
  e.set_severity(core::Severity::kHigh);
  e.raw = std::string("timestamp,ip\n") + time + "," + ip;
  return e;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("klartext-store-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store_ = Store::open_sqlite((dir_ / "sub" / "k.db").string());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, MigratesAndCreatesParentDirectory) {
  EXPECT_GE(store_->schema_version(), 1);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "sub" / "k.db"));
  // Reopening applies nothing twice.
  store_.reset();
  store_ = Store::open_sqlite((dir_ / "sub" / "k.db").string());
  EXPECT_GE(store_->schema_version(), 1);
}

TEST_F(StoreTest, SameReportTwiceAddsNothing) {
  auto e = ntp_event("192.0.2.7", "2026-11-27 02:14:09");
  for (int round = 0; round < 2; ++round) {
    auto tx = store_->transaction();
    auto r = store_->add_report("bytes of the report", "r.csv", core::Timestamp::from_seconds(1));
    EXPECT_EQ(r.inserted, round == 0);
    EXPECT_EQ(r.complete, round == 1);
    if (r.inserted) {
      auto id = store_->add_event(r.id, e, e.id(), e.to_json(), *e.time_source(), "", std::nullopt);
      EXPECT_TRUE(id.has_value());
      // The same event again (e.g. from another report) is not stored twice.
      EXPECT_FALSE(store_->add_event(r.id, e, e.id(), e.to_json(), *e.time_source(), "", std::nullopt));
      store_->update_report(r.id, "shadowserver-csv", "scan_ntpmonitor", 1, 0);
    }
    tx.commit();
  }
  EXPECT_EQ(store_->list_reports().size(), 1u);
  EXPECT_EQ(store_->count_events(), 1);
  auto rep = store_->report(1, true);
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->bytes, "bytes of the report");
  auto un = store_->unassigned_events();
  ASSERT_EQ(un.size(), 1u);
  EXPECT_EQ(un[0].classification, "vulnerable/ddos-amplifier/ntp-monitor");
  EXPECT_EQ(core::Event::from_json(un[0].json).raw, e.raw);
}

TEST_F(StoreTest, TransactionRollsBackWithoutCommit) {
  {
    auto tx = store_->transaction();
    store_->add_report("x", "x", core::Timestamp::from_seconds(1));
  }
  EXPECT_TRUE(store_->list_reports().empty());
}

TEST_F(StoreTest, CompactEventsReadBackAsTheSameJson) {
  auto tx = store_->transaction();
  auto r = store_->add_report("compact", "c.csv", core::Timestamp::from_seconds(1));
  std::vector<std::pair<std::int64_t, std::string>> rows;
  for (const char* ip : {"192.0.2.1", "192.0.2.2", "198.51.100.3"}) {
    auto e = ntp_event(ip, "2026-11-27 02:14:09");
    auto json = e.to_json();
    auto id = store_->add_event(r.id, e, e.id(), json, *e.time_source(), "", std::nullopt);
    ASSERT_TRUE(id);
    rows.emplace_back(*id, json);
  }
  // Evidence without a line break, and none at all: stored as they are.
  auto one_line = ntp_event("203.0.113.9", "2026-11-27 03:00:00");
  one_line.raw = "a single line, with \"quotes\"";
  auto no_raw = ntp_event("203.0.113.10", "2026-11-27 03:00:00");
  no_raw.raw.clear();
  for (const auto* e : {&one_line, &no_raw}) {
    auto json = e->to_json();
    auto id = store_->add_event(r.id, *e, e->id(), json, *e->time_source(), "", std::nullopt);
    ASSERT_TRUE(id);
    rows.emplace_back(*id, json);
  }
  tx.commit();
  for (const auto& [id, json] : rows) {
    auto back = store_->event(id);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->json, json);
  }
  EXPECT_EQ(core::Event::from_json(store_->event(rows[0].first)->json).raw,
            ntp_event("192.0.2.1", "2026-11-27 02:14:09").raw);
  // The shared header line is stored once.
  auto& st = store_->sql().prepare("SELECT COUNT(*) FROM event_raw_prefixes");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.get_int(0), 1);
  EXPECT_EQ(store_->unassigned_events().size(), rows.size());
}

TEST_F(StoreTest, RolledBackPrefixIsNotReused) {
  auto e = ntp_event("192.0.2.1", "2026-11-27 02:14:09");
  {
    auto tx = store_->transaction();
    auto r = store_->add_report("a", "a.csv", core::Timestamp::from_seconds(1));
    ASSERT_TRUE(store_->add_event(r.id, e, e.id(), e.to_json(), *e.time_source(), "", std::nullopt));
  }  // rolled back, with the prefix row
  auto tx = store_->transaction();
  auto r = store_->add_report("a", "a.csv", core::Timestamp::from_seconds(1));
  auto id = store_->add_event(r.id, e, e.id(), e.to_json(), *e.time_source(), "", std::nullopt);
  ASSERT_TRUE(id);
  tx.commit();
  EXPECT_EQ(store_->event(*id)->json, e.to_json());
}

TEST_F(StoreTest, CustomersAssignmentsSessions) {
  customers::Customer c{"K-1", "Müller", {"a@example.org", "b@example.org"}, "de", "Europe/Berlin", {"mueller"}};
  store_->upsert_customer(c);
  c.name = "Müller GmbH";
  store_->upsert_customer(c);
  auto back = store_->customer("K-1");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->name, "Müller GmbH");
  EXPECT_EQ(back->emails.size(), 2u);
  EXPECT_EQ(back->accounts, std::vector<std::string>{"mueller"});

  customers::StaticAssignment a{"K-1", *core::IpPrefix::parse("198.51.100.0/28"), std::nullopt, std::nullopt};
  EXPECT_TRUE(store_->add_assignment(a));
  EXPECT_FALSE(store_->add_assignment(a));
  EXPECT_EQ(store_->list_assignments().size(), 1u);

  customers::Session s;
  s.customer_id = "K-1";
  s.prefix = *core::IpPrefix::parse("203.0.113.77");
  s.start = core::Timestamp::from_seconds(100);
  s.session_key = "abc";
  EXPECT_TRUE(store_->upsert_session(s));
  s.stop = core::Timestamp::from_seconds(200);
  s.start = core::Timestamp::from_seconds(150);  // an Interim/Stop record: start stays the earliest
  EXPECT_TRUE(store_->upsert_session(s));
  std::vector<customers::Session> all;
  store_->for_each_session([&](const customers::Session& x) { all.push_back(x); });
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].start, core::Timestamp::from_seconds(100));
  EXPECT_EQ(all[0].stop, core::Timestamp::from_seconds(200));
  s.session_key.clear();
  EXPECT_TRUE(store_->upsert_session(s));
  EXPECT_FALSE(store_->upsert_session(s));
  EXPECT_EQ(store_->count_sessions(), 2);
}

TEST_F(StoreTest, CasesHistoryNotificationsProbes) {
  cases::Case c;
  c.customer_id = "K-1";
  c.classification = core::Classification::of(core::IncidentType::kDdosAmplifier, "ntp-monitor");
  c.source_ip = *core::IpAddress::parse("192.0.2.7");
  c.first_seen = c.last_seen = c.created = c.updated = core::Timestamp::from_seconds(10);
  c.event_count = 2;
  auto id = store_->insert_case(c);
  auto found = store_->find_active_case("K-1", c.classification, c.source_ip);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, id);
  EXPECT_EQ(found->classification, c.classification);
  store_->add_transition({id, std::nullopt, cases::CaseState::kOpen, core::Timestamp::from_seconds(10), "first"});
  Notification n{0, "K-1", core::Timestamp::from_seconds(20), "<m@example.org>", "/tmp/x", "de", {id}};
  store_->add_notification(n);
  auto last = store_->last_notification(id);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->event_count, 2);
  EXPECT_EQ(last->message_id, "<m@example.org>");
  auto after = store_->get_case(id);
  EXPECT_EQ(after->notifications, 1);
  EXPECT_EQ(after->notified_event_count, 2);
  EXPECT_EQ(store_->notifications("K-1").at(0).case_ids, std::vector<std::int64_t>{id});

  ProbeResult p{0, id, core::Timestamp::from_seconds(30), "vulnerable", 556.9, 100.0, R"({"items":3})"};
  store_->add_probe_result(p);
  p.time = core::Timestamp::from_seconds(40);
  p.verdict = "fixed";
  p.baf.reset();
  store_->add_probe_result(p);
  EXPECT_EQ(store_->probe_results(id).size(), 2u);
  EXPECT_EQ(store_->latest_probe_result(id)->verdict, "fixed");
  EXPECT_FALSE(store_->latest_probe_result(id)->baf);

  CaseFilter f;
  f.classification_prefix = "vulnerable/ddos-amplifier/";
  EXPECT_EQ(store_->list_cases(f).size(), 1u);
  f.classification_prefix = "malicious-code/";
  EXPECT_TRUE(store_->list_cases(f).empty());
}

}  // namespace
}  // namespace klartext::store
