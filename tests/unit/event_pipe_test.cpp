// The pipelined ingest's hand-over: order, prepared fields, holder lookups, and failures on either side.
#include "ingest/event_pipe.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "cases/case_book.hpp"
#include "store/event_keys.hpp"

namespace klartext::ingest::detail {
namespace {

const core::Timestamp kNow = core::Timestamp::from_seconds(1795780800);  // 2026-11-27 12:00 UTC

core::Event make_event(std::size_t i) {
  core::Event e;
  e.set("feed.provider", "test");
  e.set("feed.name", "pipe");
  e.set_source_ip(*core::IpAddress::parse("192.0.2." + std::to_string(i % 4)));
  if (i % 5 != 0) e.set_time_source(core::Timestamp::from_seconds(1795737600 + static_cast<std::int64_t>(i)));
  e.raw = "row " + std::to_string(i);
  return e;
}

formats::ParseIssue make_issue(std::size_t i) {
  formats::ParseIssue issue;
  issue.code = "issue-" + std::to_string(i);
  issue.line = i;
  return issue;
}

// The parser's output in order: events and issues, issues also first, last and several in a row.
struct Script {
  std::size_t events = 0;
  std::vector<std::string> expected;
  void run(formats::Sink& sink) {
    sink.on_issue(make_issue(0));
    sink.on_issue(make_issue(1));
    expected = {"i issue-0", "i issue-1"};
    for (std::size_t i = 0; i < events; ++i) {
      core::Event e = make_event(i);
      sink.on_event(e);
      expected.push_back("e " + e.raw);
      if (i % 7 == 3) {
        for (std::size_t k = 0; k < 1 + i % 3; ++k) {
          sink.on_issue(make_issue(100 + i * 3 + k));
          expected.push_back("i issue-" + std::to_string(100 + i * 3 + k));
        }
      }
    }
    sink.on_issue(make_issue(2));
    expected.push_back("i issue-2");
  }
};

struct Recorder : PipeConsumer {
  std::vector<std::string> seen;
  std::size_t looked_up = 0;
  std::size_t throw_at = ~std::size_t{0};
  std::size_t events = 0;
  void on_event(const PreparedEvent& p) override {
    if (events++ == throw_at) throw std::runtime_error("store failed");
    seen.push_back("e " + p.event.raw);
    EXPECT_EQ(p.id, p.event.id());
    EXPECT_EQ(p.stored.event_id, p.id);
    EXPECT_EQ(p.stored.key, store::detail::EventKeys::key_of(p.id));
    EXPECT_EQ(p.time, cases::event_time(p.event, kNow));
    if (p.looked_up) ++looked_up;
  }
  void on_issue(const formats::ParseIssue& issue) override { seen.push_back("i " + issue.code); }
};

TEST(EventPipe, SameOrderForEveryBatchSize) {
  for (std::size_t batch : {std::size_t{1}, std::size_t{3}, std::size_t{8}, kPipeBatchEvents, std::size_t{2048}}) {
    for (std::size_t batches : {std::size_t{1}, std::size_t{2}, kPipeBatches}) {
      for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{8}, std::size_t{1000}}) {
        Script script{n, {}};
        EventPipe pipe(
            [&](formats::Sink& sink) {
              script.run(sink);
              formats::InputSummary s;
              s.events = n;
              s.format = "scripted";
              return s;
            },
            kNow, batch, batches);
        Recorder rec;
        auto summary = pipe.run(rec);
        EXPECT_EQ(summary.events, n);
        EXPECT_EQ(summary.format, "scripted");
        EXPECT_EQ(rec.seen, script.expected) << "batch=" << batch << " batches=" << batches << " n=" << n;
        EXPECT_EQ(rec.looked_up, 0u);  // no holder index published
      }
    }
  }
}

TEST(EventPipe, ManyIssuesInARowAreHandedOverEarly) {
  EventPipe pipe(
      [&](formats::Sink& sink) {
        for (std::size_t i = 0; i < 3 * kPipeBatchIssues + 5; ++i) sink.on_issue(make_issue(i));
        return formats::InputSummary{};
      },
      kNow);
  Recorder rec;
  pipe.run(rec);
  ASSERT_EQ(rec.seen.size(), 3 * kPipeBatchIssues + 5);
  EXPECT_EQ(rec.seen.back(), "i issue-" + std::to_string(3 * kPipeBatchIssues + 4));
  EXPECT_EQ(pipe.stats().batches, 4u);
}

customers::HolderIndex small_index() {
  customers::HolderIndex::Builder b;
  b.add_session("K-1", *core::IpPrefix::parse("192.0.2.1/32"), std::nullopt, std::nullopt,
                core::Timestamp::from_seconds(1795737600 - 86400), std::nullopt);
  b.add_session("K-2", *core::IpPrefix::parse("192.0.2.2/32"), std::nullopt, std::nullopt,
                core::Timestamp::from_seconds(1795737600 - 86400), std::nullopt);
  return b.build();
}

TEST(EventPipe, HolderLookupsOnTheParseThreadOncePublished) {
  auto index = small_index();
  struct Checker : Recorder {
    const customers::HolderIndex* index = nullptr;
    EventPipe* pipe = nullptr;
    std::size_t publish_after = 0;
    void on_event(const PreparedEvent& p) override {
      Recorder::on_event(p);
      if (p.looked_up) {
        auto want = index->lookup(*p.event.source_ip(), p.time, p.event.source_port());
        ASSERT_EQ(p.holder.has_value(), want.has_value());
        if (want) {
          EXPECT_EQ(p.holder->customer, want->customer);
        }
      }
      if (events == publish_after) pipe->publish_holders(index);
    }
  };
  Script script{500, {}};
  EventPipe pipe(
      [&](formats::Sink& sink) {
        script.run(sink);
        return formats::InputSummary{};
      },
      kNow, 16, 2);
  Checker rec;
  rec.index = &index;
  rec.pipe = &pipe;
  rec.publish_after = 20;
  pipe.run(rec);
  EXPECT_EQ(rec.seen, script.expected);
  // Batches handed over before the index was published come without lookups; the store thread's
  // consumer asks the index itself for those. At most the batches in flight then miss it.
  EXPECT_GE(rec.looked_up, 500u - 20u - 3u * 16u);
  EXPECT_LT(rec.looked_up, 500u);
}

TEST(EventPipe, ParseThreadExceptionIsRethrownAfterWhatCameBefore) {
  EventPipe pipe(
      [&](formats::Sink& sink) -> formats::InputSummary {
        for (std::size_t i = 0; i < 100; ++i) sink.on_event(make_event(i));
        throw std::invalid_argument("parser broke");
      },
      kNow, 16, 2);
  Recorder rec;
  EXPECT_THROW(
      {
        try {
          pipe.run(rec);
        } catch (const std::invalid_argument& e) {
          EXPECT_STREQ(e.what(), "parser broke");
          throw;
        }
      },
      std::invalid_argument);
  EXPECT_EQ(rec.seen.size(), 100u);  // every event before the exception, as on one thread
}

TEST(EventPipe, StoreExceptionStopsTheParseThread) {
  for (std::size_t throw_at : {std::size_t{0}, std::size_t{5}, std::size_t{50}}) {
    std::size_t emitted = 0;
    bool returned = false;
    bool unwound = false;
    EventPipe pipe(
        [&](formats::Sink& sink) {
          struct Guard {
            bool& flag;
            ~Guard() { flag = true; }
          } guard{unwound};
          for (std::size_t i = 0; i < 10'000'000; ++i) {
            sink.on_event(make_event(i));
            ++emitted;
          }
          returned = true;
          return formats::InputSummary{};
        },
        kNow, 16, 2);
    Recorder rec;
    rec.throw_at = throw_at;
    EXPECT_THROW(pipe.run(rec), std::runtime_error);
    // The parse thread has been joined (run() returned) and stopped at an event of its own.
    EXPECT_TRUE(unwound);
    EXPECT_FALSE(returned);
    EXPECT_LT(emitted, 10'000'000u);
    EXPECT_EQ(rec.seen.size(), throw_at);
  }
}

// The stop passes through formats::parse_input without becoming a "parser-failure" issue.
TEST(EventPipe, StoreExceptionStopsParseInput) {
  std::string csv = "\"timestamp\",\"ip\",\"protocol\",\"port\"\n";
  for (int i = 0; i < 5000; ++i) csv += "\"2026-11-27 01:00:00\",192.0.2." + std::to_string(i % 250) + ",udp,123\n";
  formats::Input in;
  in.name = "2026-11-27-scan_ntpmonitor-test.csv";
  in.filename_hint = in.name;
  in.data = csv;
  bool returned = false;
  EventPipe pipe(
      [&](formats::Sink& sink) {
        auto s = formats::parse_input(in, sink, formats::ParseOptions{});
        returned = true;
        return s;
      },
      kNow, 64, 2);
  Recorder rec;
  rec.throw_at = 100;
  EXPECT_THROW(pipe.run(rec), std::runtime_error);
  EXPECT_FALSE(returned);
  EXPECT_EQ(std::count(rec.seen.begin(), rec.seen.end(), "i parser-failure"), 0);
}

TEST(EventPipe, DestroyedWithoutRunning) {
  bool ran = false;
  {
    EventPipe pipe(
        [&](formats::Sink&) {
          ran = true;
          return formats::InputSummary{};
        },
        kNow);
  }
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace klartext::ingest::detail
