// Tests for case aggregation and the lifecycle: open, notified, escalated, resolved, closed.
#include "cases/case_book.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace klartext::cases {
namespace {

core::Timestamp ts(const char* s) {
  return *core::Timestamp::parse(s);
}

core::Event event(const char* ip, const char* time, const char* identifier = "ntp-monitor",
                  core::Severity sev = core::Severity::kHigh) {
  core::Event e;
  e.set("feed.name", "scan_ntpmonitor");
  e.set_source_ip(*core::IpAddress::parse(ip));
  e.set_source_port(123);
  e.set_classification(core::Classification::of(core::IncidentType::kDdosAmplifier, identifier));
  e.set_time_source(ts(time));
  e.set_severity(sev);
  e.raw = std::string(ip) + "," + time + "," + identifier;
  return e;
}

class CaseBookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = store::Store::open_sqlite(":memory:");
    report_ = store_->add_report("r", "r", ts("2026-11-27")).id;
    cfg_.escalate_after_notifications = 2;
    cfg_.close_after_quiet_seconds = 10 * 86400;
  }
  // What ingest does per event.
  std::int64_t ingest(CaseBook& book, const core::Event& e, const char* customer, core::Timestamp now) {
    auto t = event_time(e, now);
    auto id = book.case_for(customer, e, now);
    if (store_->add_event(report_, e, e.id(), e.to_json(), t, customer, id)) book.add_event(id, e, t, now);
    return id;
  }
  std::vector<std::string> history(std::int64_t id) {
    std::vector<std::string> out;
    for (const auto& t : store_->case_history(id)) {
      out.push_back(std::string(t.from ? to_string(*t.from) : "-") + ">" + std::string(to_string(t.to)));
    }
    return out;
  }
  config::Config cfg_;
  std::unique_ptr<store::Store> store_;
  std::int64_t report_ = 0;
};

TEST_F(CaseBookTest, AggregatesByCustomerClassificationAndSourceIp) {
  CaseBook book(*store_, cfg_);
  auto now = ts("2026-11-28");
  auto a = ingest(book, event("192.0.2.1", "2026-11-27 02:00", "ntp-monitor", core::Severity::kMedium), "K-1", now);
  auto b = ingest(book, event("192.0.2.1", "2026-11-27 01:00"), "K-1", now);
  auto c = ingest(book, event("192.0.2.2", "2026-11-27 03:00"), "K-1", now);
  auto d = ingest(book, event("192.0.2.1", "2026-11-27 04:00", "ntp-version"), "K-1", now);
  auto e = ingest(book, event("192.0.2.1", "2026-11-27 05:00"), "K-2", now);
  auto dup = ingest(book, event("192.0.2.1", "2026-11-27 02:00", "ntp-monitor", core::Severity::kMedium), "K-1", now);
  book.flush();
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, dup);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d);
  EXPECT_NE(a, e);
  EXPECT_EQ(book.cases_created(), 4u);
  auto cs = store_->get_case(a);
  EXPECT_EQ(cs->event_count, 2);  // the duplicate did not count
  EXPECT_EQ(cs->first_seen, ts("2026-11-27 01:00"));
  EXPECT_EQ(cs->last_seen, ts("2026-11-27 02:00"));
  EXPECT_EQ(cs->severity, core::Severity::kHigh);
  EXPECT_EQ(store_->case_events(a).size(), 2u);
  EXPECT_EQ(store_->list_cases().size(), 4u);
  EXPECT_EQ(history(a), std::vector<std::string>{"->open"});
}

TEST_F(CaseBookTest, NewCaseForDuplicateEventIsRemoved) {
  CaseBook book(*store_, cfg_);
  auto e = event("192.0.2.1", "2026-11-27 02:00");
  store_->add_event(report_, e, e.id(), e.to_json(), ts("2026-11-27 02:00"), "", std::nullopt);  // unassigned before
  ingest(book, e, "K-1", ts("2026-11-28"));
  book.flush();
  EXPECT_TRUE(store_->list_cases().empty());
  EXPECT_EQ(book.cases_created(), 0u);
}

TEST_F(CaseBookTest, LifecycleWithEscalationResolutionAndClosing) {
  CaseBook book(*store_, cfg_);
  auto id = ingest(book, event("192.0.2.1", "2026-11-27 02:00"), "K-1", ts("2026-11-27 06:00"));
  book.flush();
  EXPECT_TRUE(needs_letter(*store_->get_case(id), cfg_, ts("2026-11-27 06:00")));

  store::Notification n{0, "K-1", ts("2026-11-27 07:00"), "<1@example.org>", "", "de", {id}};
  book.record_letter(n);
  auto c = store_->get_case(id);
  EXPECT_EQ(c->state, CaseState::kNotified);
  EXPECT_EQ(c->notifications, 1);
  EXPECT_FALSE(needs_letter(*c, cfg_, ts("2026-11-27 08:00")));  // nothing new

  // Seen again after one letter: still notified (threshold 2), but changed; re-notify when due.
  ingest(book, event("192.0.2.1", "2026-11-28 02:00"), "K-1", ts("2026-11-28 06:00"));
  book.flush();
  c = store_->get_case(id);
  EXPECT_EQ(c->state, CaseState::kNotified);
  EXPECT_EQ(c->event_count, 2);
  EXPECT_FALSE(needs_letter(*c, cfg_, ts("2026-11-28 06:00")));  // high: 3 days
  EXPECT_TRUE(needs_letter(*c, cfg_, ts("2026-11-30 07:00")));

  n.time = ts("2026-11-30 07:00");
  n.message_id = "<2@example.org>";
  book.record_letter(n);
  ingest(book, event("192.0.2.1", "2026-12-01 02:00"), "K-1", ts("2026-12-01 06:00"));
  book.flush();
  c = store_->get_case(id);
  EXPECT_EQ(c->state, CaseState::kEscalated);
  EXPECT_TRUE(needs_letter(*c, cfg_, ts("2026-12-01 06:00")));  // escalation is news
  n.time = ts("2026-12-01 07:00");
  book.record_letter(n);
  EXPECT_EQ(store_->get_case(id)->state, CaseState::kEscalated);
  EXPECT_FALSE(needs_letter(*store_->get_case(id), cfg_, ts("2026-12-01 08:00")));

  book.resolve(id, "customer: ntpd upgraded", ts("2026-12-02 09:00"));
  EXPECT_EQ(store_->get_case(id)->state, CaseState::kResolved);
  // An old event (before the resolution) does not reopen; a newer one does.
  ingest(book, event("192.0.2.1", "2026-12-02 01:00"), "K-1", ts("2026-12-02 10:00"));
  book.flush();
  EXPECT_EQ(store_->get_case(id)->state, CaseState::kResolved);
  ingest(book, event("192.0.2.1", "2026-12-03 01:00"), "K-1", ts("2026-12-03 10:00"));
  book.flush();
  EXPECT_EQ(store_->get_case(id)->state, CaseState::kEscalated);  // 3 letters >= 2

  book.close(id, "probe: monlist no longer answered", ts("2026-12-04 10:00"));
  EXPECT_EQ(store_->get_case(id)->state, CaseState::kClosed);
  EXPECT_EQ(history(id),
            (std::vector<std::string>{"->open", "open>notified", "notified>escalated", "escalated>escalated",
                                      "escalated>resolved", "resolved>escalated", "escalated>closed"}));
  auto h = store_->case_history(id);
  EXPECT_EQ(h[4].reason, "customer: ntpd upgraded");
  EXPECT_EQ(h[4].time, ts("2026-12-02 09:00"));

  // After closing, the same key opens a new case.
  auto again = ingest(book, event("192.0.2.1", "2026-12-05 01:00"), "K-1", ts("2026-12-05 10:00"));
  book.flush();
  EXPECT_NE(again, id);
  EXPECT_EQ(store_->get_case(again)->state, CaseState::kOpen);
}

TEST_F(CaseBookTest, ResolvedCaseReopensWithoutEscalation) {
  CaseBook book(*store_, cfg_);
  auto id = ingest(book, event("192.0.2.1", "2026-11-27 02:00"), "K-1", ts("2026-11-27 06:00"));
  book.flush();
  book.resolve(id, "fixed", ts("2026-11-27 08:00"));
  ingest(book, event("192.0.2.1", "2026-11-28 02:00"), "K-1", ts("2026-11-28 06:00"));
  book.flush();
  EXPECT_EQ(store_->get_case(id)->state, CaseState::kOpen);
}

TEST_F(CaseBookTest, ReopenRecordsTheTransitionAndHonoursTheEscalationThreshold) {
  CaseBook book(*store_, cfg_);
  auto id = ingest(book, event("192.0.2.1", "2026-11-27 02:00"), "K-1", ts("2026-11-27 06:00"));
  book.flush();
  EXPECT_EQ(book.reopen(id, "not resolved", ts("2026-11-27 07:00")), CaseState::kOpen);  // active: unchanged
  book.resolve(id, "customer: fixed", ts("2026-11-27 08:00"));
  EXPECT_EQ(book.reopen(id, "probe: still answers monlist", ts("2026-11-27 09:00")), CaseState::kOpen);
  auto c = store_->get_case(id);
  EXPECT_EQ(c->state, CaseState::kOpen);
  EXPECT_FALSE(c->resolved_at);
  auto h = store_->case_history(id);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[2].reason, "probe: still answers monlist");
  EXPECT_EQ(h[2].time, ts("2026-11-27 09:00"));

  // After two letters (the threshold) a reopened case is escalated, also from closed.
  book.record_letter({0, "K-1", ts("2026-11-28"), "<a@example.org>", "", "en", {id}});
  book.record_letter({0, "K-1", ts("2026-11-29"), "<b@example.org>", "", "en", {id}});
  book.close(id, "probe: fixed", ts("2026-11-30"));
  EXPECT_EQ(book.reopen(id, "seen again", ts("2026-12-01")), CaseState::kEscalated);
  EXPECT_EQ(history(id).back(), "closed>escalated");

  // The book picks up the reopened case for new events (no second case for the key).
  auto again = ingest(book, event("192.0.2.1", "2026-12-02 02:00"), "K-1", ts("2026-12-02 06:00"));
  book.flush();
  EXPECT_EQ(again, id);
  EXPECT_EQ(store_->get_case(id)->event_count, 2);
}

TEST_F(CaseBookTest, CasesSurviveManyFlushesAndOtherWriters) {
  CaseBook book(*store_, cfg_);
  auto now = ts("2026-11-28");
  auto a = ingest(book, event("192.0.2.1", "2026-11-27 01:00"), "K-1", now);
  book.flush();
  // Another writer opens a case between two batches: the book numbers after it and finds it.
  Case other;
  other.customer_id = "K-2";
  other.classification = core::Classification::of(core::IncidentType::kDdosAmplifier, "ntp-monitor");
  other.source_ip = *core::IpAddress::parse("192.0.2.9");
  other.first_seen = other.last_seen = other.created = other.updated = now;
  auto o = store_->insert_case(other);
  auto b = ingest(book, event("192.0.2.2", "2026-11-27 02:00"), "K-1", now);
  auto o2 = ingest(book, event("192.0.2.9", "2026-11-27 03:00"), "K-2", now);
  auto a2 = ingest(book, event("192.0.2.1", "2026-11-27 04:00"), "K-1", now);
  book.flush();
  EXPECT_GT(b, o);
  EXPECT_EQ(o2, o);
  EXPECT_EQ(a2, a);
  EXPECT_EQ(store_->get_case(a)->event_count, 2);
  EXPECT_EQ(store_->get_case(a)->last_seen, ts("2026-11-27 04:00"));
  EXPECT_EQ(store_->get_case(o)->event_count, 1);
  EXPECT_EQ(history(b), std::vector<std::string>{"->open"});
  EXPECT_EQ(book.cases_created(), 2u);
}

// Thousands of new cases (several bulk statements and a remainder), then a batch that touches old
// cases out of id order, opens new ones and skips a duplicate: each flush writes exactly the cases
// touched since the last one, with the book's counts, and only those.
TEST_F(CaseBookTest, FlushWritesTheTouchedCasesOfEachBatch) {
  CaseBook book(*store_, cfg_);
  auto now = ts("2026-11-28");
  auto ip = [](int i) { return "10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ".1"; };
  constexpr int kCases = 4100 + 37;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < kCases; ++i) {
    ids.push_back(ingest(book, event(ip(i).c_str(), "2026-11-27 01:00"), i % 2 == 0 ? "K-1" : "K-2", now));
  }
  book.flush();
  EXPECT_EQ(book.cases_created(), static_cast<std::size_t>(kCases));
  ASSERT_EQ(store_->list_cases().size(), static_cast<std::size_t>(kCases));
  for (int i : {0, 1, 63, 64, 4095, 4096, kCases - 1}) {
    auto c = store_->get_case(ids[static_cast<std::size_t>(i)]);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->customer_id, i % 2 == 0 ? "K-1" : "K-2");
    EXPECT_EQ(c->source_ip.to_string(), ip(i));
    EXPECT_EQ(c->event_count, 1);
    EXPECT_EQ(c->severity, core::Severity::kHigh);
    EXPECT_EQ(history(c->id), std::vector<std::string>{"->open"});
  }
  // Not touched by the next batch: a change made meanwhile by someone else stays.
  store_->sql().prepare("UPDATE cases SET severity = 'low' WHERE id = ?").bind(1, ids[5]).execute();
  const std::vector<int> again = {3000, 7, 4100, 7, 0};
  for (int i : again) {
    auto id = ingest(book, event(ip(i).c_str(), i == 7 ? "2026-11-27 03:00" : "2026-11-27 02:00"),
                     i % 2 == 0 ? "K-1" : "K-2", now);
    EXPECT_EQ(id, ids[static_cast<std::size_t>(i)]);
  }
  auto dup = event(ip(kCases).c_str(), "2026-11-27 01:00");
  store_->add_event(report_, dup, dup.id(), dup.to_json(), ts("2026-11-27 01:00"), "", std::nullopt);
  ingest(book, dup, "K-3", now);  // a case opened for a stored event: never written
  auto fresh = ingest(book, event(ip(kCases + 1).c_str(), "2026-11-27 05:00"), "K-3", now);
  book.flush();
  EXPECT_EQ(store_->list_cases().size(), static_cast<std::size_t>(kCases) + 1);
  EXPECT_EQ(store_->get_case(ids[3000])->event_count, 2);
  EXPECT_EQ(store_->get_case(ids[4100])->event_count, 2);
  EXPECT_EQ(store_->get_case(ids[0])->event_count, 2);
  EXPECT_EQ(store_->get_case(ids[7])->event_count, 2);  // the same event twice counts once
  EXPECT_EQ(store_->get_case(ids[7])->last_seen, ts("2026-11-27 03:00"));
  EXPECT_EQ(store_->get_case(ids[1])->event_count, 1);
  EXPECT_EQ(store_->get_case(ids[5])->severity, core::Severity::kLow);
  auto f = store_->get_case(fresh);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->customer_id, "K-3");
  EXPECT_EQ(f->event_count, 1);
  EXPECT_EQ(book.cases_created(), static_cast<std::size_t>(kCases) + 1);
}

// A caller that has the event id passes it: the opening reason is the same as when the book
// computes it.
TEST_F(CaseBookTest, OpeningReasonNamesTheFirstEvent) {
  CaseBook book(*store_, cfg_);
  auto now = ts("2026-11-28");
  auto a = event("192.0.2.1", "2026-11-27 01:00");
  auto b = event("192.0.2.2", "2026-11-27 01:00");
  auto ida = book.case_for(book.customer_key("K-1"), a, now);
  const std::string event_id = b.id();
  auto idb = book.case_for(book.customer_key("K-1"), b, event_id, now);
  for (const auto* e : {&a, &b}) {
    auto id = e == &a ? ida : idb;
    ASSERT_TRUE(store_->add_event(report_, *e, e->id(), e->to_json(), ts("2026-11-27 01:00"), "K-1", id));
    book.add_event(id, *e, ts("2026-11-27 01:00"), now);
  }
  book.flush();
  ASSERT_EQ(store_->case_history(ida).size(), 1u);
  EXPECT_EQ(store_->case_history(ida)[0].reason, "first event " + a.id());
  ASSERT_EQ(store_->case_history(idb).size(), 1u);
  EXPECT_EQ(store_->case_history(idb)[0].reason, "first event " + event_id);
}

// flush_new() writes new cases early (an ingest does it while it waits for its parser); events that
// reach them afterwards, duplicates that opened a case for nothing and the final flush() must leave
// the same rows as one flush() at the end.
TEST_F(CaseBookTest, CasesWrittenEarlyEndAsOneFlushWouldWriteThem) {
  auto now = ts("2026-11-28");
  auto run = [&](bool early) {
    store_ = store::Store::open_sqlite(":memory:");
    report_ = store_->add_report("r", "r", ts("2026-11-27")).id;
    CaseBook book(*store_, cfg_);
    auto tx = store_->transaction();
    for (int i = 0; i < 300; ++i) {
      // Addresses repeat (a second and third event for earlier cases), and every 7th event is the
      // same as the one before it (a duplicate: its case_for may open a case that gets no event).
      const int n = i % 7 == 6 ? i - 1 : i;
      const std::string ip = "10.0." + std::to_string(n % 3) + "." + std::to_string(n % 97);
      const std::string time = "2026-11-27 0" + std::to_string(n % 10) + ":00";
      ingest(book, event(ip.c_str(), time.c_str()), n % 2 == 0 ? "K-1" : "K-2", now);
      if (early && i % 5 == 0) {
        while (book.flush_new(i % 3 + 1)) {
        }
      }
    }
    if (early) {
      EXPECT_TRUE(book.flush_new(1000)) << "the last events opened cases after the last drain";
      EXPECT_FALSE(book.flush_new(1000)) << "nothing new left after draining";
    }
    book.flush();
    tx.commit();
    std::vector<std::string> rows;
    for (const auto& c : store_->list_cases()) {
      rows.push_back(std::to_string(c.id) + " " + c.customer_id + " " + c.source_ip.to_string() + " " +
                     std::to_string(c.event_count) + " " + std::to_string(c.first_seen.micros()) + " " +
                     std::to_string(c.last_seen.micros()) + " " + std::string(to_string(c.state)) + " " +
                     std::to_string(store_->case_events(c.id).size()) + " " + store_->case_history(c.id)[0].reason);
    }
    return std::make_pair(rows, book.cases_created());
  };
  auto once = run(false);
  auto early = run(true);
  EXPECT_GT(once.first.size(), 100u);
  EXPECT_EQ(early.first, once.first);
  EXPECT_EQ(early.second, once.second);
}

// A flush that fails part way (here: a trigger refuses one case row of the second bulk statement)
// leaves the cases it did not write dirty: the next flush writes those, and none twice.
TEST_F(CaseBookTest, FlushAfterAFailedFlushWritesTheRest) {
  CaseBook book(*store_, cfg_);
  auto now = ts("2026-11-28");
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 100; ++i) {
    ids.push_back(ingest(book, event(("10.0.1." + std::to_string(i)).c_str(), "2026-11-27 01:00"), "K-1", now));
  }
  store_->sql().exec_script("CREATE TRIGGER refuse BEFORE INSERT ON cases WHEN NEW.id = " + std::to_string(ids[70]) +
                            " BEGIN SELECT RAISE(ABORT, 'refused'); END");
  EXPECT_THROW(book.flush(), store::SqlError);
  // The bulk insert is all or nothing (its first statement's rows went back too).
  EXPECT_TRUE(store_->list_cases().empty());
  store_->sql().exec_script("DROP TRIGGER refuse");
  book.flush();
  auto all = store_->list_cases();
  ASSERT_EQ(all.size(), 100u);
  for (const auto& c : all) EXPECT_EQ(c.event_count, 1);
  EXPECT_EQ(book.cases_created(), 100u);
}

TEST_F(CaseBookTest, QuietCasesClose) {
  CaseBook book(*store_, cfg_);
  auto quiet = ingest(book, event("192.0.2.1", "2026-11-01 02:00"), "K-1", ts("2026-11-01 06:00"));
  auto busy = ingest(book, event("192.0.2.2", "2026-11-20 02:00"), "K-1", ts("2026-11-20 06:00"));
  auto open = ingest(book, event("192.0.2.3", "2026-11-01 02:00"), "K-1", ts("2026-11-01 06:00"));
  book.flush();
  book.record_letter({0, "K-1", ts("2026-11-02"), "<q@example.org>", "", "en", {quiet, busy}});
  EXPECT_EQ(book.close_quiet(ts("2026-11-25")), 1u);
  EXPECT_EQ(store_->get_case(quiet)->state, CaseState::kClosed);
  EXPECT_EQ(store_->get_case(busy)->state, CaseState::kNotified);
  EXPECT_EQ(store_->get_case(open)->state, CaseState::kOpen);  // never told: stays for the next letter
  EXPECT_EQ(store_->case_history(quiet).back().reason, "quiet: no event for 10 days");
}

}  // namespace
}  // namespace klartext::cases
