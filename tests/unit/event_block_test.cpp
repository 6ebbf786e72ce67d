// Tests for the event block encoding (schema version 9): round trip of every field combination,
// and damaged data refused without reading outside it.
#include "store/event_block.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace klartext::store::detail {
namespace {

struct Owned {
  std::string event_id, classification, source_ip, severity, customer_id, json;
  std::optional<std::uint16_t> source_port;
  std::int64_t time = 0;
  std::optional<std::int64_t> case_id;
  std::int64_t raw_prefix_id = 0, json_base_id = 0;
  std::optional<std::string> raw;

  BlockEvent view() const {
    BlockEvent e;
    e.event_id = event_id;
    e.classification = classification;
    e.source_ip = source_ip;
    e.source_port = source_port;
    e.time = time;
    e.severity = severity;
    e.customer_id = customer_id;
    e.case_id = case_id;
    e.raw_prefix_id = raw_prefix_id;
    if (raw) e.raw = *raw;
    e.json_base_id = json_base_id;
    e.json = json;
    return e;
  }
  bool operator==(const BlockEvent& e) const {
    return e.event_id == event_id && e.classification == classification && e.source_ip == source_ip &&
           e.source_port == source_port && e.time == time && e.severity == severity && e.customer_id == customer_id &&
           e.case_id == case_id && e.raw_prefix_id == raw_prefix_id && e.raw.has_value() == raw.has_value() &&
           (!raw || *e.raw == *raw) && e.json_base_id == json_base_id && e.json == json;
  }
};

// Events that switch every field on and off, with times and case ids going back and forth.
std::vector<Owned> varied(int n) {
  std::vector<Owned> out;
  for (int i = 0; i < n; ++i) {
    Owned o;
    if (i % 3 == 0) o.event_id = "id-" + std::to_string(i);
    o.classification = i % 5 == 0 ? "other/undetermined/" : "vulnerable/ddos-amplifier/ntp-monitor";
    if (i % 7 != 0) o.source_ip = i % 2 == 0 ? "192.0.2." + std::to_string(i % 256) : "2001:db8::" + std::to_string(i);
    if (i % 4 != 0) o.source_port = static_cast<std::uint16_t>(i % 4 == 1 ? 123 : 65535);
    o.time = (i % 6 == 0 ? -1 : 1) * (1'764'201'600'000'000LL + i * 1'000'003LL);
    o.severity = i % 9 == 0 ? "" : (i % 2 == 0 ? "high" : "low");
    if (i % 4 == 1) o.customer_id = "K-" + std::to_string(i);
    if (i % 3 != 2) o.case_id = i % 8 == 0 ? INT64_MAX - i : 1000 - i * 7;
    if (i % 5 != 1) o.raw_prefix_id = i + 1;
    if (i % 5 != 2) o.raw = i % 10 == 3 ? std::string() : "row " + std::to_string(i) + "\n\"x\",\0y";
    if (i % 2 == 0) o.json_base_id = 1 + i / 2;
    o.json = i % 11 == 0 ? std::string() : R"({"a":)" + std::to_string(i) + "}";
    out.push_back(std::move(o));
  }
  return out;
}

TEST(EventBlock, EveryFieldComesBack) {
  const auto events = varied(300);
  BlockWriter w;
  for (const auto& e : events) w.append(e.view());
  EXPECT_EQ(w.count(), events.size());
  std::size_t seen = 0;
  ASSERT_TRUE(decode_block(w.data(), [&](std::size_t i, const BlockEvent& e) {
    ASSERT_EQ(i, seen);
    EXPECT_TRUE(events[i] == e) << i;
    ++seen;
  }));
  EXPECT_EQ(seen, events.size());
  // A cleared writer starts a new block: nothing carries over ("same classification as before").
  w.clear();
  w.append(events[1].view());
  seen = 0;
  ASSERT_TRUE(decode_block(w.data(), [&](std::size_t, const BlockEvent& e) {
    EXPECT_TRUE(events[1] == e);
    ++seen;
  }));
  EXPECT_EQ(seen, 1u);
}

TEST(EventBlock, DamagedDataIsRefused) {
  const auto events = varied(40);
  BlockWriter w;
  for (const auto& e : events) w.append(e.view());
  const std::string data(w.data());
  EXPECT_FALSE(decode_block("", [](std::size_t, const BlockEvent&) {}));
  EXPECT_FALSE(decode_block(std::string(1, '\x02'), [](std::size_t, const BlockEvent&) {}));
  EXPECT_TRUE(decode_block(std::string(1, '\x01'), [](std::size_t, const BlockEvent&) {}));  // no events
  // Cut anywhere: either refused or (cut at a record's end) the events before the cut, unchanged.
  for (std::size_t cut = 1; cut < data.size(); ++cut) {
    std::size_t n = 0;
    bool same = true;
    const bool ok = decode_block(std::string_view(data).substr(0, cut), [&](std::size_t i, const BlockEvent& e) {
      same = same && events[i] == e;
      ++n;
    });
    EXPECT_TRUE(same) << cut;
    if (ok) {
      EXPECT_LT(n, events.size()) << cut;
    }
  }
  // Every byte changed: no crash, no read outside (ASan), whatever decodes is in bounds.
  for (std::size_t i = 0; i < data.size(); ++i) {
    for (unsigned char x : {0x01, 0x80, 0xFF}) {
      std::string bad = data;
      bad[i] = static_cast<char>(static_cast<unsigned char>(bad[i]) ^ x);
      (void)decode_block(bad, [&](std::size_t, const BlockEvent& e) {
        EXPECT_LE(e.json.size(), bad.size());
        if (e.raw) {
          EXPECT_LE(e.raw->size(), bad.size());
        }
      });
    }
  }
}

}  // namespace
}  // namespace klartext::store::detail
