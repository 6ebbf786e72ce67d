// Tests for the store against both backends (SQLite, a throwaway PostgreSQL): migrations, reports/events
// idempotence, customers, cases, letters, probes.
#include "store/store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>
#include <vector>

#include "cases/case_book.hpp"
#include "core/embedded.hpp"
#include "customers/holder_index.hpp"
#include "pg_cluster.hpp"

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

// Parameter: the backend ("sqlite" or "postgres").
class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("klartext-store-" + std::to_string(::getpid()) + "-" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" + GetParam());
    std::filesystem::remove_all(dir_);
    if (GetParam() == "postgres") {
      std::string why;
      auto* pg = testing::PgCluster::get(why);
      if (pg == nullptr) GTEST_SKIP() << "PostgreSQL store tests skipped: " << why;
      dsn_ = pg->create_database();
    }
    open();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void open() {
    store_.reset();
    store_ = dsn_.empty() ? Store::open_sqlite((dir_ / "sub" / "k.db").string()) : Store::open_postgres(dsn_);
  }
  std::filesystem::path dir_;
  std::string dsn_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST_P(StoreTest, MigratesAndCreatesParentDirectory) {
  EXPECT_EQ(store_->backend(), GetParam());
  const int version = store_->schema_version();
  EXPECT_GE(version, 1);
  if (GetParam() == "sqlite") {
    EXPECT_TRUE(std::filesystem::exists(dir_ / "sub" / "k.db"));
  }
  // Reopening applies nothing twice.
  open();
  EXPECT_EQ(store_->schema_version(), version);
}

TEST_P(StoreTest, ProcessesOpeningANewDatabaseAtOnceMigrateItOnce) {
  if (GetParam() == "sqlite") {
    GTEST_SKIP() << "known: concurrent first opens of a new SQLite file can fail with 'database is locked' in "
                    "the connection's PRAGMAs (sqlite_sql.cpp)";
  }
  std::string why;
  const auto target = testing::PgCluster::get(why)->create_database();
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      try {
        auto s = Store::open_postgres(target);
        if (s->schema_version() >= 1) ++opened;
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(opened, 4);
}

TEST_P(StoreTest, SameReportTwiceAddsNothing) {
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

TEST_P(StoreTest, TransactionRollsBackWithoutCommit) {
  {
    auto tx = store_->transaction();
    store_->add_report("x", "x", core::Timestamp::from_seconds(1));
  }
  EXPECT_TRUE(store_->list_reports().empty());
}

TEST_P(StoreTest, CompactEventsReadBackAsTheSameJson) {
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

TEST_P(StoreTest, RolledBackPrefixIsNotReused) {
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

TEST_P(StoreTest, EventsAreKnownAcrossReportsReopensAndWriters) {
  auto a = ntp_event("192.0.2.1", "2026-11-27 02:14:09");
  auto b = ntp_event("192.0.2.2", "2026-11-27 02:14:09");
  auto c = ntp_event("192.0.2.3", "2026-11-28 00:00:01");
  auto add = [](Store& s, std::int64_t report, const core::Event& e) {
    return s.add_event(report, e, e.id(), e.to_json(), *e.time_source(), "", std::nullopt).has_value();
  };
  {
    auto tx = store_->transaction();
    auto r = store_->add_report("first", "1.csv", core::Timestamp::from_seconds(1));
    EXPECT_TRUE(add(*store_, r.id, a));
    tx.commit();
  }
  // Another writer on the same store, after this one has loaded the day: its event is seen once
  // this store begins its next transaction.
  auto other = dsn_.empty() ? Store::open_sqlite((dir_ / "sub" / "k.db").string()) : Store::open_postgres(dsn_);
  {
    auto tx = other->transaction();
    auto r = other->add_report("second", "2.csv", core::Timestamp::from_seconds(2));
    EXPECT_FALSE(add(*other, r.id, a));  // known from the first report
    EXPECT_TRUE(add(*other, r.id, b));
    tx.commit();
  }
  {
    auto tx = store_->transaction();
    auto r = store_->add_report("third", "3.csv", core::Timestamp::from_seconds(3));
    EXPECT_FALSE(add(*store_, r.id, a));
    EXPECT_FALSE(add(*store_, r.id, b));
    EXPECT_TRUE(add(*store_, r.id, c));  // another day
    tx.commit();
  }
  other.reset();
  open();
  {
    auto tx = store_->transaction();
    auto r = store_->add_report("fourth", "4.csv", core::Timestamp::from_seconds(4));
    for (const auto* e : {&a, &b, &c}) EXPECT_FALSE(add(*store_, r.id, *e));
    tx.commit();
  }
  EXPECT_EQ(store_->count_events(), 3);
}

TEST_P(StoreTest, ConcurrentWritersStoreEachEventOnce) {
  // The same events arriving in two reports through two processes at once (e.g. a mail and the
  // same file): each is stored once, whichever writer comes first.
  std::vector<core::Event> events;
  for (int i = 0; i < 40; ++i) {
    events.push_back(ntp_event(("192.0.2." + std::to_string(i + 1)).c_str(), "2026-11-27 02:14:09"));
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      try {
        auto s = dsn_.empty() ? Store::open_sqlite((dir_ / "sub" / "k.db").string()) : Store::open_postgres(dsn_);
        auto tx = s->transaction();
        auto r = s->add_report("writer " + std::to_string(w), "w.csv", core::Timestamp::from_seconds(w));
        for (const auto& e : events) s->add_event(r.id, e, e.id(), e.to_json(), *e.time_source(), "", std::nullopt);
        tx.commit();
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(store_->count_events(), static_cast<std::int64_t>(events.size()));
}

TEST_P(StoreTest, MigrationFourKnowsTheEventsStoredBefore) {
  // A store as version 3 left it: events, but no event_keys.
  store_.reset();
  auto conn = dsn_.empty() ? open_sqlite((dir_ / "v3.db").string()) : open_postgres(dsn_);
  if (!dsn_.empty()) {
    conn->exec_script("DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
  }
  conn->exec_script(
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied BIGINT NOT NULL)");
  for (int v = 1; v <= 3; ++v) {
    std::string dir = "store/" + std::string(conn->backend()) + "/";
    for (auto path : core::embedded_files(dir)) {
      if (path.substr(dir.size()).starts_with("00" + std::to_string(v) + "_")) {
        conn->exec_script(*core::embedded_file(path));
        conn->prepare("INSERT INTO schema_migrations (version, name, applied) VALUES (?, 'v', 0)").bind(1, v).execute();
      }
    }
  }
  auto e = ntp_event("192.0.2.1", "2026-11-27 02:14:09");
  conn->prepare("INSERT INTO reports (sha256, input, received, bytes) VALUES ('x', 'old.csv', 0, ?)")
      .bind_blob(1, "old")
      .execute();
  conn->prepare(
          "INSERT INTO events (event_id, report_id, classification, time, json) VALUES (?, 1, "
          "'vulnerable/ddos-amplifier/ntp-monitor', ?, ?)")
      .bind(1, e.id())
      .bind(2, e.time_source()->micros())
      .bind(3, e.to_json())
      .execute();
  conn.reset();
  auto s = dsn_.empty() ? Store::open_sqlite((dir_ / "v3.db").string()) : Store::open_postgres(dsn_);
  EXPECT_GE(s->schema_version(), 4);
  auto tx = s->transaction();
  auto r = s->add_report("new", "new.csv", core::Timestamp::from_seconds(1));
  EXPECT_FALSE(s->add_event(r.id, e, e.id(), e.to_json(), *e.time_source(), "", std::nullopt));
  auto other = ntp_event("192.0.2.2", "2026-11-27 02:14:09");
  auto id = s->add_event(r.id, other, other.id(), other.to_json(), *other.time_source(), "", std::nullopt);
  ASSERT_TRUE(id);
  tx.commit();
  EXPECT_EQ(s->event(*id)->json, other.to_json());
  EXPECT_EQ(s->count_events(), 2);
}

// Schema version 9 keeps new events in blocks of up to 256 per report; rows of the events table
// written before stay readable, and both together answer every event read, ids in one space.
TEST_P(StoreTest, CasesOpenedInABlockFindTheirFirstEventThroughItsRun) {
  // 700 events in three blocks of up to 256. Even events open a case: most continue a run of
  // consecutive ids (5000, 5001, ...), every fifth opening takes an id out of that order (1000 + i)
  // and so needs an event_block_cases row; odd events are a second event of the case opened just
  // before (a row too, even in the same block). Every case must find exactly its events, whichever
  // way its links were recorded (schema version 10).
  std::map<std::int64_t, std::vector<std::int64_t>> expected;  // case -> event ids
  std::int64_t next_run_case = 5000;
  {
    auto tx = store_->transaction();
    auto r = store_->add_report("runs", "runs.csv", core::Timestamp::from_seconds(2)).id;
    std::int64_t last_case = 0;
    for (int i = 0; i < 700; ++i) {
      auto e = ntp_event(("203.0.113." + std::to_string(i % 250)).c_str(), "2026-11-27 10:00:00");
      e.raw += "," + std::to_string(i);
      std::int64_t case_id = 0;
      bool opens = false;
      if (i % 2 == 1) {
        case_id = last_case;  // a second event of the case before
      } else if (i % 10 == 4) {
        case_id = 1000 + i;  // opened out of the run's order: an event_block_cases row
        opens = true;
      } else {
        case_id = next_run_case++;
        opens = true;
      }
      last_case = case_id;
      auto id = store_->add_event(r, e, e.id(), e.to_json(), *e.time_source(), "K-1", case_id, opens);
      ASSERT_TRUE(id);
      expected[case_id].push_back(*id);
    }
    tx.commit();
  }
  auto& st = store_->sql().prepare("SELECT COUNT(*) FROM event_blocks WHERE new_cases > 0");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.get_int(0), 3) << "each block has its run";
  st.execute();
  for (const auto& [case_id, ids] : expected) {
    auto evidence = store_->case_events(case_id);
    std::vector<std::int64_t> got;
    for (const auto& ev : evidence) got.push_back(ev.id);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, ids) << "case " << case_id;
  }
  EXPECT_TRUE(store_->case_events(next_run_case).empty()) << "past the last run";
  EXPECT_TRUE(store_->case_events(4999).empty()) << "before the first run";
}

TEST_P(StoreTest, EventsInBlocksAndRowsOfEarlierVersions) {
  auto legacy = ntp_event("192.0.2.250", "2026-11-27 00:30:00");
  auto legacy_unassigned = ntp_event("192.0.2.251", "2026-11-28 12:00:00");
  auto old = store_->add_report("old", "old.csv", core::Timestamp::from_seconds(1)).id;
  auto insert_legacy = [&](std::int64_t id, const core::Event& e, std::optional<std::int64_t> case_id) {
    auto& ins = store_->sql().prepare(
        "INSERT INTO events (id, event_id, report_id, classification, time, severity, customer_id, case_id, json) "
        "VALUES (?, ?, ?, 'vulnerable/ddos-amplifier/ntp-monitor', ?, 'high', ?, ?, ?)");
    ins.bind(1, id).bind(2, e.id()).bind(3, old).bind(4, e.time_source()->micros());
    if (case_id) {
      ins.bind(5, "K-1");
    } else {
      ins.bind_null(5);
    }
    ins.bind(6, case_id).bind(7, e.to_json()).execute();
  };
  insert_legacy(5000, legacy, 42);
  insert_legacy(5001, legacy_unassigned, std::nullopt);

  // 600 events of two reports (blocks of 256, a new block per report), every third one unassigned,
  // the others evidence of case 42; times run backwards so order comes from the reader.
  std::vector<std::pair<std::int64_t, core::Event>> added;
  {
    auto tx = store_->transaction();
    auto a = store_->add_report("a", "a.csv", core::Timestamp::from_seconds(2)).id;
    auto b = store_->add_report("b", "b.csv", core::Timestamp::from_seconds(3)).id;
    for (int i = 0; i < 600; ++i) {
      auto t = core::Timestamp::from_micros(core::Timestamp::parse("2026-11-27 10:00:00")->micros() - i * 1'000'000LL);
      auto e = ntp_event(("198.51.100." + std::to_string(i % 250)).c_str(), "2026-11-27 10:00:00");
      e.set_time_source(t);
      e.set("extra.sequence", std::to_string(i));
      e.raw += "," + std::to_string(i);  // the id hashes the evidence: one per row
      const bool unassigned = i % 3 == 0;
      auto id = store_->add_event(i < 300 ? a : b, e, e.id(), e.to_json(), t, unassigned ? "" : "K-1",
                                  unassigned ? std::nullopt : std::optional<std::int64_t>(42));
      ASSERT_TRUE(id);
      added.emplace_back(*id, e);
    }
    tx.commit();
  }
  EXPECT_EQ(added.front().first, 5002) << "numbered after the rows stored before";
  for (std::size_t i = 1; i < added.size(); ++i) EXPECT_EQ(added[i].first, added[i - 1].first + 1);
  EXPECT_EQ(store_->count_events(), 602);
  for (std::size_t i : {0u, 255u, 256u, 299u, 300u, 599u}) {
    auto row = store_->event(added[i].first);
    ASSERT_TRUE(row) << i;
    EXPECT_EQ(row->json, added[i].second.to_json()) << i;
    EXPECT_EQ(row->event_id, added[i].second.id()) << i;
    EXPECT_EQ(row->report_id, i < 300 ? 2 : 3) << i;
  }
  EXPECT_EQ(store_->event(5000)->json, legacy.to_json());
  EXPECT_FALSE(store_->event(added.back().first + 1));

  auto evidence = store_->case_events(42);
  ASSERT_EQ(evidence.size(), 401u);
  EXPECT_EQ(evidence.front().id, 5000);  // the oldest: 00:30
  for (std::size_t i = 1; i < evidence.size(); ++i) {
    EXPECT_LT(evidence[i - 1].time, evidence[i].time);
    EXPECT_EQ(evidence[i].case_id, 42);
    EXPECT_EQ(evidence[i].customer_id, "K-1");
  }
  auto first3 = store_->case_events(42, 3);
  ASSERT_EQ(first3.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(first3[i].id, evidence[i].id);
  EXPECT_TRUE(store_->case_events(43).empty());

  auto unassigned = store_->unassigned_events();
  ASSERT_EQ(unassigned.size(), 201u);
  EXPECT_EQ(unassigned.front().id, 5001);  // the newest: Nov 28
  EXPECT_EQ(unassigned[1].id, added[0].first);
  auto few = store_->unassigned_events(5);
  ASSERT_EQ(few.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(few[i].id, unassigned[i].id);

  // A rolled-back block leaves nothing, and its ids are given out again.
  {
    auto tx = store_->transaction();
    auto e = ntp_event("203.0.113.1", "2026-11-29 00:00:00");
    EXPECT_EQ(store_->add_event(2, e, e.id(), e.to_json(), *e.time_source(), "", std::nullopt), added.back().first + 1);
  }
  EXPECT_EQ(store_->count_events(), 602);
  auto e = ntp_event("203.0.113.1", "2026-11-29 00:00:00");
  // Outside a transaction the event is written at once.
  EXPECT_EQ(store_->add_event(2, e, e.id(), e.to_json(), *e.time_source(), "", std::nullopt), added.back().first + 1);
  EXPECT_EQ(store_->count_events(), 603);
  EXPECT_EQ(store_->event(added.back().first + 1)->json, e.to_json());
}

TEST_P(StoreTest, CustomersAssignmentsSessions) {
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

TEST_P(StoreTest, CasesHistoryNotificationsProbes) {
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

// A letter through CaseBook::record_letter (Store::add_letter): the same rows on both backends, for a
// case in every state, read back from the rows the letter wrote.
TEST_P(StoreTest, LetterRecordsNotificationStatesAndHistory) {
  using cases::CaseState;
  const std::vector<CaseState> states = {CaseState::kOpen, CaseState::kResolved, CaseState::kEscalated,
                                         CaseState::kNotified, CaseState::kClosed};
  std::vector<std::int64_t> ids;
  for (std::size_t i = 0; i < states.size(); ++i) {
    cases::Case c;
    c.customer_id = "K-1";
    c.classification = core::Classification::of(core::IncidentType::kDdosAmplifier, "ntp-monitor");
    c.source_ip = *core::IpAddress::parse("192.0.2." + std::to_string(10 + i));
    c.first_seen = c.last_seen = c.created = c.updated = core::Timestamp::from_seconds(10);
    c.event_count = static_cast<std::int64_t>(3 + i);
    c.state = states[i];
    c.notifications = states[i] == CaseState::kOpen ? 0 : 2;
    if (c.notifications > 0) c.last_notified = core::Timestamp::from_seconds(5);
    if (states[i] == CaseState::kResolved) c.resolved_at = core::Timestamp::from_seconds(8);
    ids.push_back(store_->insert_case(c));
  }
  const config::Config cfg;
  const auto when = core::Timestamp::from_seconds(20);
  std::int64_t nid = 0;
  {
    auto tx = store_->transaction();
    cases::CaseBook book(*store_, cfg);
    nid = book.record_letter({0, "K-1", when, "<m@example.org>", "/o/new/1", "en", ids});
    tx.commit();
  }
  const auto sent = store_->notifications("K-1");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].id, nid);
  EXPECT_EQ(sent[0].path, "/o/new/1");
  EXPECT_EQ(sent[0].case_ids, ids);
  for (std::size_t i = 0; i < states.size(); ++i) {
    SCOPED_TRACE(std::string(cases::to_string(states[i])));
    const auto c = store_->get_case(ids[i]);
    ASSERT_TRUE(c);
    const bool moves = states[i] == CaseState::kOpen || states[i] == CaseState::kResolved;
    EXPECT_EQ(c->state, moves ? CaseState::kNotified : states[i]);
    EXPECT_EQ(c->notified_state, moves ? CaseState::kNotified : states[i]);
    EXPECT_EQ(c->notifications, states[i] == CaseState::kOpen ? 1 : 3);
    EXPECT_EQ(c->last_notified, when);
    EXPECT_EQ(c->notified_event_count, static_cast<std::int64_t>(3 + i));
    EXPECT_EQ(c->updated, when);
    EXPECT_EQ(c->first_seen, core::Timestamp::from_seconds(10));
    EXPECT_EQ(c->resolved_at.has_value(), states[i] == CaseState::kResolved);
    // What the letter described: the state before the letter.
    const auto last = store_->last_notification(ids[i]);
    ASSERT_TRUE(last);
    EXPECT_EQ(last->notification_id, nid);
    EXPECT_EQ(last->state, states[i]);
    EXPECT_EQ(last->event_count, static_cast<std::int64_t>(3 + i));
    const auto history = store_->case_history(ids[i]);
    if (moves) {
      ASSERT_EQ(history.size(), 1u);
      EXPECT_EQ(history[0].from, states[i]);
      EXPECT_EQ(history[0].to, CaseState::kNotified);
      EXPECT_EQ(history[0].time, when);
      EXPECT_EQ(history[0].reason, "letter <m@example.org> to K-1");
    } else if (states[i] == CaseState::kEscalated) {
      ASSERT_EQ(history.size(), 1u);
      EXPECT_EQ(history[0].from, CaseState::kEscalated);
      EXPECT_EQ(history[0].to, CaseState::kEscalated);
      EXPECT_EQ(history[0].reason, "escalation letter <m@example.org> to K-1");
    } else {
      EXPECT_TRUE(history.empty());
    }
  }
  // A second letter: the open case is notified now, so no new history row for it.
  {
    auto tx = store_->transaction();
    cases::CaseBook book(*store_, cfg);
    book.record_letter({0, "K-1", core::Timestamp::from_seconds(30), "<n@example.org>", "", "en", {ids[0]}});
    tx.commit();
  }
  EXPECT_EQ(store_->case_history(ids[0]).size(), 1u);
  EXPECT_EQ(store_->get_case(ids[0])->notifications, 2);
  EXPECT_EQ(store_->last_notification(ids[0])->state, CaseState::kNotified);
}

TEST_P(StoreTest, UndeterminedCaseWithoutIdentifierRoundTrips) {
  cases::Case c;
  c.customer_id = "K-1";
  c.classification = core::Classification::undetermined();
  c.source_ip = *core::IpAddress::parse("192.0.2.8");
  c.first_seen = c.last_seen = c.created = c.updated = core::Timestamp::from_seconds(10);
  auto id = store_->insert_case(c);
  auto back = store_->get_case(id);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->classification, c.classification);
  EXPECT_EQ(back->classification.to_string(), "other/undetermined");
  EXPECT_TRUE(back->classification.identifier.empty());
}

TEST_P(StoreTest, BytesTextAndNumbersRoundTrip) {
  // Every byte value, NULs included, comes back verbatim (PostgreSQL: bytea sent in binary form).
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  bytes += std::string("\0\0?'\\x", 6);
  auto r = store_->add_report(bytes, "weird 'name' ? with \"quotes\"", core::Timestamp::from_micros(-1));
  ASSERT_TRUE(r.inserted);
  EXPECT_FALSE(r.complete);
  store_->update_report(r.id, "free-text", "?", 0, 2);
  auto back = store_->report(r.id, true);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->bytes, bytes);
  EXPECT_EQ(back->input, "weird 'name' ? with \"quotes\"");
  EXPECT_EQ(back->received, core::Timestamp::from_micros(-1));
  EXPECT_TRUE(back->complete);
  EXPECT_EQ(back->detail, "?");
  EXPECT_EQ(store_->add_report(bytes, "again", core::Timestamp::from_seconds(2)).complete, true);
  EXPECT_TRUE(store_->add_report("", "empty", core::Timestamp::from_seconds(3)).inserted);
  EXPECT_EQ(store_->report(store_->list_reports().back().id, true)->bytes, "");

  formats::ParseIssue issue;
  issue.code = "csv-field-count";
  issue.input = "r.csv";
  issue.line = 7;
  issue.byte_offset = 1ull << 40;
  issue.reason = "Zeile hat 3 statt 15 Felder — ü";
  issue.excerpt = "a,b,'c";
  issue.hint = "?";
  store_->add_issue(r.id, issue);
  store_->add_issue(std::nullopt, issue);
  auto of_report = store_->issues(r.id);
  ASSERT_EQ(of_report.size(), 1u);
  EXPECT_EQ(of_report[0].issue.reason, issue.reason);
  EXPECT_EQ(of_report[0].issue.byte_offset, issue.byte_offset);
  EXPECT_EQ(of_report[0].report_id, r.id);
  auto of_import = store_->issues(std::nullopt);
  ASSERT_EQ(of_import.size(), 1u);
  EXPECT_FALSE(of_import[0].report_id);

  ProbeResult p{0, 0, core::Timestamp::from_seconds(1), "vulnerable", 0.1 + 0.2, 1e-300, "{}"};
  cases::Case c;
  c.customer_id = "K-9";
  c.classification = core::Classification::undetermined("some text");
  c.source_ip = *core::IpAddress::parse("2001:db8::1");
  c.first_seen = c.last_seen = c.created = c.updated = core::Timestamp::from_seconds(5);
  p.case_id = store_->insert_case(c);
  store_->add_probe_result(p);
  auto probe = store_->latest_probe_result(p.case_id);
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->baf, 0.1 + 0.2);  // exact: the text form is the shortest round-trip one
  EXPECT_EQ(probe->paf, 1e-300);
}

TEST_P(StoreTest, CaseQueriesAndUpdates) {
  auto make = [](const char* customer, const char* ip, const char* identifier) {
    cases::Case c;
    c.customer_id = customer;
    c.classification = core::Classification::of(core::IncidentType::kDdosAmplifier, identifier);
    c.source_ip = *core::IpAddress::parse(ip);
    c.first_seen = c.last_seen = c.created = c.updated = core::Timestamp::from_seconds(10);
    c.severity = core::Severity::kHigh;
    c.source_port = 123;
    return c;
  };
  auto a = store_->insert_case(make("K-1", "192.0.2.1", "ntp-monitor"));
  auto b = store_->insert_case(make("K-1", "192.0.2.2", "ntp-version"));
  auto c = store_->insert_case(make("K-2", "2001:db8::7", "ntp-monitor"));
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);

  auto ca = *store_->get_case(a);
  ca.state = cases::CaseState::kClosed;
  ca.resolved_at = core::Timestamp::from_seconds(20);
  ca.notified_state = cases::CaseState::kNotified;
  ca.source_port.reset();
  store_->update_case(ca);
  auto back = *store_->get_case(a);
  EXPECT_EQ(back.state, cases::CaseState::kClosed);
  EXPECT_EQ(back.resolved_at, core::Timestamp::from_seconds(20));
  EXPECT_EQ(back.notified_state, cases::CaseState::kNotified);
  EXPECT_FALSE(back.source_port);
  EXPECT_FALSE(store_->find_active_case("K-1", ca.classification, ca.source_ip));

  auto cb = *store_->get_case(b);
  cb.event_count = 7;
  cb.last_seen = core::Timestamp::from_seconds(99);
  store_->update_case_events(cb, /*with_state=*/false);
  EXPECT_EQ(store_->get_case(b)->event_count, 7);
  EXPECT_EQ(store_->get_case(b)->last_seen, core::Timestamp::from_seconds(99));

  std::vector<std::int64_t> ids;
  for (const auto& x : store_->active_cases_after(0)) ids.push_back(x.id);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{b, c}));
  EXPECT_EQ(store_->active_cases_after(b).size(), 1u);

  CaseFilter f;
  EXPECT_EQ(store_->list_cases(f).size(), 3u);
  f.active_only = true;
  EXPECT_EQ(store_->list_cases(f).size(), 2u);
  f = {};
  f.customer_id = "K-1";
  f.state = cases::CaseState::kClosed;
  ASSERT_EQ(store_->list_cases(f).size(), 1u);
  f = {};
  f.source_ip = core::IpAddress::parse("2001:db8::7");
  ASSERT_EQ(store_->list_cases(f).size(), 1u);
  EXPECT_EQ(store_->list_cases(f)[0].id, c);
  f = {};
  f.classification_prefix = "vulnerable/ddos-amplifier/ntp-version";
  EXPECT_EQ(store_->list_cases(f).size(), 1u);

  // Events of a case, oldest first, and the unassigned ones, newest first, with limits.
  auto rep = store_->add_report("r", "r", core::Timestamp::from_seconds(1)).id;
  for (const char* t : {"2026-11-27 03:00:00", "2026-11-27 01:00:00", "2026-11-27 02:00:00"}) {
    auto e = ntp_event("192.0.2.2", t);
    ASSERT_TRUE(store_->add_event(rep, e, e.id(), e.to_json(), *e.time_source(), "K-1", b));
    auto u = ntp_event("198.51.100.9", t);
    auto row = store_->add_event(rep, u, u.id(), u.to_json(), *u.time_source(), "", std::nullopt);
    ASSERT_TRUE(row);
    EXPECT_EQ(store_->event(*row)->event_id, u.id());
    EXPECT_TRUE(store_->event(*row)->customer_id.empty());
  }
  auto evidence = store_->case_events(b);
  ASSERT_EQ(evidence.size(), 3u);
  EXPECT_EQ(evidence[0].time, *core::Timestamp::parse("2026-11-27 01:00:00"));
  EXPECT_EQ(evidence[0].case_id, b);
  EXPECT_EQ(evidence[0].source_port, 123);
  EXPECT_EQ(evidence[0].severity, core::Severity::kHigh);
  EXPECT_EQ(store_->case_events(b, 2).size(), 2u);
  auto un = store_->unassigned_events(2);
  ASSERT_EQ(un.size(), 2u);
  EXPECT_EQ(un[0].time, *core::Timestamp::parse("2026-11-27 03:00:00"));
  EXPECT_EQ(store_->count_events(), 6);

  // A case without events can go again, with its history.
  store_->add_transition({c, std::nullopt, cases::CaseState::kOpen, core::Timestamp::from_seconds(10), "first"});
  EXPECT_EQ(store_->case_history(c).size(), 1u);
  store_->delete_case(c);
  EXPECT_FALSE(store_->get_case(c));
  EXPECT_TRUE(store_->case_history(c).empty());
}

TEST_P(StoreTest, FailedStatementAbortsTheUnitOfWork) {
  {
    auto tx = store_->transaction();
    store_->add_report("a", "a", core::Timestamp::from_seconds(1));
    EXPECT_THROW(store_->sql().prepare("INSERT INTO no_such_table VALUES (?)").bind(1, 1).execute(), SqlError);
  }  // rolled back
  EXPECT_TRUE(store_->list_reports().empty());
  // The connection is usable afterwards.
  auto tx = store_->transaction();
  store_->add_report("b", "b", core::Timestamp::from_seconds(1));
  tx.commit();
  EXPECT_EQ(store_->list_reports().size(), 1u);
}

// ---- PostgreSQL's buffered writes (multi-row INSERTs); the same checks hold for SQLite's per-row path ----

// Event `i` of a varied set: addresses, days, ports, evidence with and without a first line.
core::Event varied_event(int i) {
  // Distinct address and time per i, over two days.
  auto e = ntp_event("192.0.2.1", "2026-11-27 00:00:00");
  char ip[48];
  std::snprintf(ip, sizeof ip, "2001:db8::%x", static_cast<unsigned>(i + 1));
  e.set_source_ip(*core::IpAddress::parse(ip));
  e.set_time_source(core::Timestamp::from_seconds(1795737600 + static_cast<std::int64_t>(i) * 97));
  e.set("extra.sequence", std::to_string(i));
  e.raw = std::string("timestamp,ip\n") + std::to_string(i) + "," + ip;
  // The id is a hash of the evidence: it always names i. Some without a first line.
  if (i % 7 == 0) e.raw = "one line only " + std::to_string(i) + ", \"quoted\" \\ and \x01";
  if (i % 5 == 0) e.set_source_port(static_cast<std::uint16_t>(1024 + i));
  return e;
}

cases::Case numbered_case(std::int64_t id) {
  cases::Case c;
  c.id = id;
  c.customer_id = "K-" + std::to_string(id % 17);
  c.classification = core::Classification::of(core::IncidentType::kDdosAmplifier, "ntp-monitor");
  c.source_ip = *core::IpAddress::parse("203.0.113." + std::to_string(id % 250));
  c.first_seen = c.last_seen = c.created = c.updated = core::Timestamp::from_seconds(100 + id);
  c.event_count = id;
  if (id % 2 == 0) c.source_port = 123;
  return c;
}

TEST_P(StoreTest, ManyEventsInOneTransactionReadBackExactly) {
  // 1234 rows: two full statements of 500 and a remainder in smaller ones.
  constexpr int kEvents = 1234;
  std::vector<std::pair<std::int64_t, std::string>> stored;  // row id, JSON
  std::vector<std::string> event_ids;
  {
    auto tx = store_->transaction();
    auto r = store_->add_report("many", "many.csv", core::Timestamp::from_seconds(1));
    for (int i = 0; i < kEvents; ++i) {
      auto e = varied_event(i);
      auto json = e.to_json();
      std::optional<std::int64_t> case_id;
      if (i % 4 == 1) case_id = i;
      auto id = store_->add_event(r.id, e, e.id(), json, *e.time_source(), case_id ? "K-1" : "", case_id);
      ASSERT_TRUE(id) << i;
      stored.emplace_back(*id, json);
      event_ids.push_back(e.id());
      // A duplicate inside the same transaction is still told apart.
      if (i % 100 == 0) {
        EXPECT_FALSE(store_->add_event(r.id, e, e.id(), json, *e.time_source(), "", std::nullopt));
      }
    }
    tx.commit();
  }
  EXPECT_EQ(store_->count_events(), kEvents);
  for (std::size_t i = 0; i < stored.size(); ++i) {
    if (i > 0) {
      EXPECT_EQ(stored[i].first, stored[i - 1].first + 1) << "row ids are dense and in order";
    }
    auto row = store_->event(stored[i].first);
    ASSERT_TRUE(row) << i;
    EXPECT_EQ(row->json, stored[i].second) << i;
    EXPECT_EQ(row->event_id, event_ids[i]) << i;
    EXPECT_EQ(row->customer_id, i % 4 == 1 ? "K-1" : "") << i;
    EXPECT_EQ(row->case_id, i % 4 == 1 ? std::optional<std::int64_t>(static_cast<std::int64_t>(i)) : std::nullopt);
  }
  // The ids left over from the reserved block were given back: the next event follows on.
  auto tx = store_->transaction();
  auto r = store_->add_report("next", "next.csv", core::Timestamp::from_seconds(2));
  auto e = ntp_event("192.0.2.200", "2026-11-29 00:00:00");
  EXPECT_EQ(store_->add_event(r.id, e, e.id(), e.to_json(), *e.time_source(), "", std::nullopt),
            stored.back().first + 1);
  tx.commit();
}

TEST_P(StoreTest, BatchBoundariesOfEventsCasesAndHistory) {
  for (int rows : {500, 501}) {
    SCOPED_TRACE(rows);
    const std::int64_t first_case = store_->max_case_id() + 1;
    const std::int64_t events_before = store_->count_events();
    std::vector<std::int64_t> ids;
    {
      auto tx = store_->transaction();
      auto r = store_->add_report("batch " + std::to_string(rows), "b.csv", core::Timestamp::from_seconds(rows));
      for (int i = 0; i < rows; ++i) {
        const std::int64_t case_id = first_case + i;
        store_->insert_case_with_id(numbered_case(case_id));
        store_->add_transition({case_id, std::nullopt, cases::CaseState::kOpen, core::Timestamp::from_seconds(i),
                                "opened \"" + std::to_string(i) + "\""});
        auto e = varied_event(rows * 1000 + i);
        auto id = store_->add_event(r.id, e, e.id(), e.to_json(), *e.time_source(), "K-1", case_id);
        ASSERT_TRUE(id);
        ids.push_back(*id);
      }
      tx.commit();
    }
    EXPECT_EQ(store_->count_events(), events_before + rows);
    EXPECT_EQ(store_->max_case_id(), first_case + rows - 1);
    for (std::int64_t k : {std::int64_t{0}, std::int64_t{499}, static_cast<std::int64_t>(rows - 1)}) {
      auto c = store_->get_case(first_case + k);
      ASSERT_TRUE(c);
      auto want = numbered_case(first_case + k);
      EXPECT_EQ(c->customer_id, want.customer_id);
      EXPECT_EQ(c->event_count, want.event_count);
      EXPECT_EQ(c->source_port, want.source_port);
      auto history = store_->case_history(first_case + k);
      ASSERT_EQ(history.size(), 1u);
      EXPECT_EQ(history[0].reason, "opened \"" + std::to_string(k) + "\"");
      auto evidence = store_->case_events(first_case + k);
      ASSERT_EQ(evidence.size(), 1u);
      EXPECT_EQ(evidence[0].id, ids[static_cast<std::size_t>(k)]);
    }
  }
  // A case inserted by the store's own numbering comes after the explicit ids.
  const auto last = store_->max_case_id();
  EXPECT_EQ(store_->insert_case(numbered_case(0)), last + 1);
}

// A case row's columns but its id, as text ("NULL" for NULL; SQLite: with each value's type), for
// comparing what two insert paths wrote.
std::string case_row_text(Store& store, std::int64_t id) {
  const bool sqlite = store.backend() == "sqlite";
  std::string sql =
      "SELECT customer_id, classification, source_ip, state, event_count, first_seen, last_seen, "
      "severity, source_port, created, updated, notifications, last_notified, notified_event_count, "
      "notified_state, resolved_at, opened_reason";
  if (sqlite) {
    sql +=
        ", typeof(customer_id) || typeof(classification) || typeof(source_ip) || typeof(state) || "
        "typeof(event_count) || typeof(first_seen) || typeof(last_seen) || typeof(severity) || "
        "typeof(source_port) || typeof(created) || typeof(updated) || typeof(notifications) || "
        "typeof(last_notified) || typeof(notified_event_count) || typeof(notified_state) || "
        "typeof(resolved_at) || typeof(opened_reason)";
  }
  sql += " FROM cases WHERE id = ?";
  auto& st = store.sql().prepare(sql);
  st.bind(1, id);
  if (!st.step()) return "missing";
  std::string out;
  for (int i = 0; i < (sqlite ? 18 : 17); ++i) {
    out += st.is_null(i) ? std::string("NULL") : std::string(st.get_text(i));
    out += '|';
  }
  st.execute();
  return out;
}

// The bulk insert of new cases (multi-row statements on SQLite, with literals for the constant
// columns) writes the same rows as insert_case_with_id, in and outside a transaction, for batch
// sizes around its statement sizes.
TEST_P(StoreTest, NewCasesInBulkStoreTheSameRowsAsOneByOne) {
  const std::vector<core::Classification> classes = {
      core::Classification::of(core::IncidentType::kDdosAmplifier, "ntp-monitor"),
      core::Classification::undetermined()};
  std::vector<std::string> texts, reasons;
  for (const auto& c : classes) texts.push_back(Store::classification_text(c));
  auto make = [&](std::int64_t id) {
    cases::Case c = numbered_case(id);
    c.classification = classes[static_cast<std::size_t>(id) % classes.size()];
    if (id % 3 == 0) c.source_ip = *core::IpAddress::parse("2001:db8::" + std::to_string(id % 1000));
    c.severity = id % 4 == 0 ? core::Severity::kCritical : core::Severity::kUnknown;
    c.updated = core::Timestamp::from_seconds(500 + id);
    return c;
  };
  auto reason = [](std::int64_t id) { return id % 5 == 0 ? std::string() : "first event " + std::to_string(id); };
  std::int64_t next = 1;
  for (std::size_t n :
       {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{64}, std::size_t{69}, std::size_t{200}}) {
    for (bool in_tx : {true, false}) {
      std::vector<cases::Case> want;
      std::vector<std::string> why;
      std::vector<Store::NewCase> rows;
      for (std::size_t i = 0; i < n; ++i) {
        want.push_back(make(next + static_cast<std::int64_t>(i)));
        why.push_back(reason(want.back().id));
      }
      for (std::size_t i = 0; i < n; ++i) {
        const auto& c = want[i];
        auto& r = rows.emplace_back();
        r.id = c.id;
        r.customer_id = c.customer_id;
        r.classification = texts[static_cast<std::size_t>(c.id) % classes.size()];
        r.source_ip = c.source_ip;
        r.event_count = c.event_count;
        r.first_seen = c.first_seen;
        r.last_seen = c.last_seen;
        r.severity = c.severity;
        r.source_port = c.source_port;
        r.created = c.created;
        r.updated = c.updated;
        r.opened_reason = why[i];
      }
      const std::int64_t twin = 100'000;  // the one-by-one copies: id + twin
      std::optional<Store::Transaction> tx;
      if (in_tx) tx.emplace(store_->transaction());
      store_->insert_new_cases(rows);
      for (std::size_t i = 0; i < n; ++i) {
        auto c = want[i];
        c.id += twin;
        store_->insert_case_with_id(c, why[i]);
      }
      if (tx) tx->commit();
      for (const auto& c : want) {
        SCOPED_TRACE("n=" + std::to_string(n) + " id=" + std::to_string(c.id));
        const auto text = case_row_text(*store_, c.id);
        EXPECT_NE(text, "missing");
        EXPECT_EQ(text, case_row_text(*store_, c.id + twin));
        auto back = store_->get_case(c.id);
        ASSERT_TRUE(back);
        EXPECT_EQ(back->classification, c.classification);
        EXPECT_EQ(back->source_ip, c.source_ip);
        EXPECT_EQ(back->state, cases::CaseState::kOpen);
        auto history = store_->case_history(c.id);
        if (reason(c.id).empty()) {
          EXPECT_TRUE(history.empty());  // no opening recorded in the row
        } else {
          ASSERT_EQ(history.size(), 1u);
          EXPECT_EQ(history[0].reason, reason(c.id));
        }
      }
      next += static_cast<std::int64_t>(n);
    }
  }
  // The id sequence is past the explicit ids (PostgreSQL), as after insert_case_with_id.
  EXPECT_GT(store_->insert_case(numbered_case(0)), 100'000 + next - 1);
}

// update_case_events from the fields writes what the cases::Case form writes.
TEST_P(StoreTest, CaseEventsUpdateFromFieldsOrFromACase) {
  for (std::int64_t id : {1, 2}) store_->insert_case_with_id(numbered_case(id), "first");
  auto a = numbered_case(1);
  a.event_count = 9;
  a.last_seen = core::Timestamp::from_seconds(900);
  a.severity = core::Severity::kHigh;
  a.source_port.reset();
  a.updated = core::Timestamp::from_seconds(901);
  a.state = cases::CaseState::kEscalated;
  store_->update_case_events(a, /*with_state=*/true);
  Store::CaseEvents b;
  b.id = 2;
  b.event_count = a.event_count;
  b.first_seen = a.first_seen;
  b.last_seen = a.last_seen;
  b.severity = a.severity;
  b.updated = a.updated;
  b.state = a.state;
  store_->update_case_events(b);
  // Case 2 started with another first_seen, customer and port: align what update does not touch.
  auto one = store_->get_case(1);
  auto two = store_->get_case(2);
  ASSERT_TRUE(one && two);
  EXPECT_EQ(two->event_count, 9);
  EXPECT_EQ(two->last_seen, a.last_seen);
  EXPECT_EQ(two->severity, core::Severity::kHigh);
  EXPECT_FALSE(two->source_port);
  EXPECT_EQ(two->updated, a.updated);
  EXPECT_EQ(two->state, cases::CaseState::kEscalated);
  EXPECT_EQ(one->state, cases::CaseState::kEscalated);
  EXPECT_EQ(one->severity, two->severity);
  b.state.reset();
  b.event_count = 10;
  store_->update_case_events(b);
  EXPECT_EQ(store_->get_case(2)->state, cases::CaseState::kEscalated);
  EXPECT_EQ(store_->get_case(2)->event_count, 10);
}

// The holder index's snapshot: saved by from_store inside a transaction, used while the customer
// data stays as it was, stale after a change (not after a session that changes nothing).
TEST_P(StoreTest, HolderSnapshotFollowsTheCustomerData) {
  auto at = *core::Timestamp::parse("2026-11-27T09:00:00Z");
  auto holder_of = [&](const customers::HolderIndex& idx, const char* a) {
    auto h = idx.lookup(*core::IpAddress::parse(a), at);
    return h ? idx.customer_id(h->customer) : std::string("-");
  };
  EXPECT_FALSE(store_->holder_snapshot().image);
  customers::Session s{"K-1",
                       *core::IpPrefix::parse("198.51.100.7/32"),
                       {},
                       {},
                       *core::Timestamp::parse("2026-11-27T08:00:00Z"),
                       std::nullopt,
                       "",
                       ""};
  {
    auto tx = store_->transaction();
    store_->upsert_customer({"K-1", "One", {"a@example.org"}, "de", "Europe/Berlin", {}});
    store_->upsert_customer({"K-2", "Two", {"b@example.org"}, "en", "UTC", {}});
    ASSERT_TRUE(store_->upsert_session(s));
    tx.commit();
  }
  EXPECT_EQ(holder_of(customers::HolderIndex::from_store(*store_), "198.51.100.7"), "K-1");
  EXPECT_FALSE(store_->holder_snapshot().image);  // built outside a transaction: not saved
  {
    auto tx = store_->transaction();
    EXPECT_EQ(holder_of(customers::HolderIndex::from_store(*store_), "198.51.100.7"), "K-1");
    tx.commit();
  }
  auto image = store_->holder_snapshot().image;
  ASSERT_TRUE(image);
  EXPECT_EQ(holder_of(*customers::HolderIndex::deserialize(*image), "198.51.100.7"), "K-1");
  {
    auto tx = store_->transaction();
    EXPECT_FALSE(store_->upsert_session(s));  // the same session again: nothing changes
    store_->upsert_customer({"K-1", "One renamed", {"a@example.org"}, "de", "Europe/Berlin", {}});
    tx.commit();
  }
  EXPECT_TRUE(store_->holder_snapshot().image);
  {
    auto tx = store_->transaction();
    ASSERT_TRUE(store_->add_assignment({"K-2", *core::IpPrefix::parse("192.0.2.0/24"), std::nullopt, std::nullopt}));
    EXPECT_FALSE(store_->holder_snapshot().image);
    // A second change in the same transaction bumps nothing more; a rollback keeps the old image.
  }
  EXPECT_TRUE(store_->holder_snapshot().image);
  {
    auto tx = store_->transaction();
    ASSERT_TRUE(store_->add_assignment({"K-2", *core::IpPrefix::parse("192.0.2.0/24"), std::nullopt, std::nullopt}));
    tx.commit();
  }
  EXPECT_FALSE(store_->holder_snapshot().image);
  EXPECT_EQ(holder_of(customers::HolderIndex::from_store(*store_), "192.0.2.1"), "K-2");
  // A damaged image is not used: the index is built from the tables instead.
  {
    auto tx = store_->transaction();
    customers::HolderIndex::from_store(*store_);
    tx.commit();
  }
  {
    auto tx = store_->transaction();
    store_->save_holder_snapshot(store_->holder_snapshot().generation, "klartext-holder-index but not really");
    store_->save_holder_snapshot(store_->holder_snapshot().generation - 1, "from an older generation: not saved");
    tx.commit();
  }
  EXPECT_EQ(*store_->holder_snapshot().image, "klartext-holder-index but not really");
  EXPECT_EQ(holder_of(customers::HolderIndex::from_store(*store_), "192.0.2.1"), "K-2");
  EXPECT_EQ(holder_of(customers::HolderIndex::from_store(*store_), "198.51.100.7"), "K-1");
}

TEST_P(StoreTest, RollbackLeavesNoBufferedRows) {
  {
    auto tx = store_->transaction();
    auto r = store_->add_report("rolled back", "r.csv", core::Timestamp::from_seconds(1));
    for (int i = 0; i < 700; ++i) {
      auto e = varied_event(i);
      ASSERT_TRUE(store_->add_event(r.id, e, e.id(), e.to_json(), *e.time_source(), "", std::nullopt));
    }
    store_->insert_case_with_id(numbered_case(1));
    store_->add_transition({1, std::nullopt, cases::CaseState::kOpen, core::Timestamp::from_seconds(1), "x"});
  }  // no commit
  EXPECT_EQ(store_->count_events(), 0);
  EXPECT_TRUE(store_->list_cases().empty());
  EXPECT_TRUE(store_->case_history(1).empty());
  EXPECT_TRUE(store_->list_reports().empty());
  // The same events can be stored afterwards.
  auto tx = store_->transaction();
  auto r = store_->add_report("again", "r.csv", core::Timestamp::from_seconds(1));
  auto e = varied_event(3);
  auto id = store_->add_event(r.id, e, e.id(), e.to_json(), *e.time_source(), "", std::nullopt);
  ASSERT_TRUE(id);
  tx.commit();
  EXPECT_EQ(store_->event(*id)->json, e.to_json());
  EXPECT_EQ(store_->count_events(), 1);
}

TEST_P(StoreTest, ReadsInsideTheTransactionSeeBufferedRows) {
  auto tx = store_->transaction();
  auto r = store_->add_report("reads", "r.csv", core::Timestamp::from_seconds(1));
  store_->insert_case_with_id(numbered_case(7));
  store_->add_transition({7, std::nullopt, cases::CaseState::kOpen, core::Timestamp::from_seconds(1), "opened"});
  auto a = varied_event(1);
  auto b = varied_event(2);
  auto ia = store_->add_event(r.id, a, a.id(), a.to_json(), *a.time_source(), "K-7", 7);
  auto ib = store_->add_event(r.id, b, b.id(), b.to_json(), *b.time_source(), "", std::nullopt);
  ASSERT_TRUE(ia && ib);
  EXPECT_EQ(store_->event(*ia)->json, a.to_json());
  EXPECT_EQ(store_->count_events(), 2);
  ASSERT_EQ(store_->case_events(7).size(), 1u);
  ASSERT_EQ(store_->unassigned_events().size(), 1u);
  EXPECT_EQ(store_->unassigned_events()[0].json, b.to_json());
  ASSERT_TRUE(store_->get_case(7));
  EXPECT_EQ(store_->case_history(7).size(), 1u);
  // An update of a case still in the buffer applies to it.
  auto c = numbered_case(8);
  store_->insert_case_with_id(c);
  c.event_count = 42;
  c.state = cases::CaseState::kEscalated;
  store_->update_case_events(c, true);
  EXPECT_EQ(store_->get_case(8)->event_count, 42);
  EXPECT_EQ(store_->get_case(8)->state, cases::CaseState::kEscalated);
  // So does a statement run directly on the connection.
  auto c9 = numbered_case(9);
  store_->insert_case_with_id(c9);
  auto& st = store_->sql().prepare("SELECT COUNT(*) FROM cases");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.get_int(0), 3);
  st.execute();
  tx.commit();
  EXPECT_EQ(store_->list_cases().size(), 3u);
}

TEST_P(StoreTest, ABufferedRowThatFailsAbortsTheUnitOfWork) {
  // PostgreSQL writes the history row at commit, SQLite at once: either way the transaction fails
  // as a whole and the store stays usable.
  {
    auto tx = store_->transaction();
    auto r = store_->add_report("fails", "f.csv", core::Timestamp::from_seconds(1));
    auto e = varied_event(1);
    ASSERT_TRUE(store_->add_event(r.id, e, e.id(), e.to_json(), *e.time_source(), "", std::nullopt));
    EXPECT_THROW(
        {
          store_->add_transition(
              {999, std::nullopt, cases::CaseState::kOpen, core::Timestamp::from_seconds(1), "no such case"});
          tx.commit();
        },
        SqlError);
  }
  EXPECT_EQ(store_->count_events(), 0);
  EXPECT_TRUE(store_->case_history(999).empty());
  auto tx = store_->transaction();
  auto r = store_->add_report("works", "w.csv", core::Timestamp::from_seconds(2));
  auto e = varied_event(1);
  EXPECT_TRUE(store_->add_event(r.id, e, e.id(), e.to_json(), *e.time_source(), "", std::nullopt));
  tx.commit();
  EXPECT_EQ(store_->count_events(), 1);
}

}  // namespace
}  // namespace klartext::store
