// The event preparer's cheaper input (Event::append_json_parts) stores exactly what the JSON path stores.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/event.hpp"
#include "store/json_delta.hpp"
#include "store/store.hpp"

namespace klartext::store {
namespace {

// Events of one report, as a CSV parser makes them, with what varies between rows and the odd ones:
// keys with quotes or backslashes, number texts a scanner would cut, fields missing or added, no
// evidence, a field named "raw" or "event.id".
std::vector<core::Event> sample_events() {
  std::mt19937 rng(7);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  std::vector<core::Event> events;
  for (int i = 0; i < 400; ++i) {
    core::Event e;
    e.set_classification(core::Classification::of(core::IncidentType::kDdosAmplifier, "ntp-monitor"));
    e.set("feed.provider", "Shadowserver");
    e.set("feed.name", "NTP-Monitor");
    e.set_source_ip(*core::IpAddress::parse("192.0.2." + std::to_string(pick(4))));
    if (pick(5) != 0) e.set_source_port(static_cast<std::uint16_t>(pick(3) == 0 ? 123 : pick(65536)));
    e.set_time_source(*core::Timestamp::parse("2024-07-04 00:00:0" + std::to_string(pick(3))));
    e.set_int("extra.packets", pick(3));
    if (pick(4) != 0) e.set("source.geolocation.cc", pick(2) == 0 ? "DE" : "NL");
    if (pick(6) == 0) e.set("extra.note", "a \"quoted\", {odd} \\ value\n");
    if (pick(8) == 0) e.set("extra.number", pick(2) == 0 ? "1,2" : "", core::JsonKind::kNumber);
    if (pick(10) == 0) e.set(pick(2) == 0 ? "extra.\"q\"" : "extra.back\\", "x");
    if (pick(12) == 0) e.set(pick(2) == 0 ? "raw" : "event.id", "shadowed");
    if (pick(3) == 0) e.set_bool("extra.flag", pick(2) == 0);
    if (pick(7) != 0) e.raw = "timestamp,ip,port\n2024-07-04 00:00:01,192.0.2.1," + std::to_string(i);
    events.push_back(std::move(e));
  }
  return events;
}

void expect_same(const PreparedEvent& a, const PreparedEvent& b, std::size_t i) {
  EXPECT_EQ(a.event_id, b.event_id) << i;
  EXPECT_EQ(a.key, b.key) << i;
  EXPECT_EQ(a.classification, b.classification) << i;
  EXPECT_EQ(a.source_ip, b.source_ip) << i;
  EXPECT_EQ(a.source_port, b.source_port) << i;
  EXPECT_EQ(a.severity, b.severity) << i;
  EXPECT_EQ(a.has_raw, b.has_raw) << i;
  EXPECT_EQ(a.raw_prefix, b.raw_prefix) << i;
  EXPECT_EQ(a.raw, b.raw) << i;
  EXPECT_EQ(a.json_base == nullptr, b.json_base == nullptr) << i;
  if (a.json_base != nullptr && b.json_base != nullptr) {
    EXPECT_EQ(*a.json_base, *b.json_base) << i;
  }
  EXPECT_EQ(a.json, b.json) << i;
  EXPECT_EQ(a.id_in_json, b.id_in_json) << i;
}

TEST(EventPreparerTest, PartsStoreWhatTheJsonStores) {
  const auto events = sample_events();
  // Each event first in its report once (its JSON the base), then the whole stream.
  for (std::size_t first = 0; first < events.size(); first += 37) {
    EventPreparer by_json, by_parts;
    core::JsonParts parts;
    std::size_t plain = 0;
    for (std::size_t n = 0; n < events.size(); ++n) {
      const core::Event& e = events[(first + n) % events.size()];
      std::string json, compact;
      e.append_json(json);
      const std::string id = e.id();
      PreparedEvent want, got;
      by_json.prepare(e, id, json, want);

      e.append_json_parts(compact, parts);
      EXPECT_EQ(std::string(parts.id, sizeof parts.id), id);
      if (parts.plain) {
        ++plain;
        by_parts.prepare(e, parts, compact, got);
      } else {
        by_parts.prepare(e, id, json, got);
      }
      expect_same(want, got, n);
      // The members end where a scan of the text finds them; the text is the JSON with "raw" empty.
      if (parts.plain) {
        std::vector<std::string_view> members;
        ASSERT_TRUE(detail::split_members(compact, members)) << compact;
        ASSERT_EQ(members.size(), parts.member_ends.size());
        for (std::size_t m = 0; m < members.size(); ++m) {
          EXPECT_EQ(static_cast<std::size_t>(members[m].data() + members[m].size() - compact.data()),
                    parts.member_ends[m]);
        }
        if (got.has_raw) {
          EXPECT_NE(compact.find("\"raw\":\"\""), std::string::npos);
        } else {
          EXPECT_EQ(compact, json);
        }
      }
    }
    EXPECT_GT(plain, events.size() / 2);
    EXPECT_LT(plain, events.size());
  }
}

TEST(EventPreparerTest, DeltaWithKnownEndsEqualsTheScanningOne) {
  const std::string base_json = R"({"a":1,"b":"x","c":"y","d":2,"e":"z"})";
  std::vector<std::string_view> base;
  ASSERT_TRUE(detail::split_members(base_json, base));
  ASSERT_TRUE(detail::distinct_keys(base));
  for (const std::string json : {R"({"a":1,"b":"x","c":"y","d":2,"e":"z"})", R"({"a":1,"c":"y","e":"z"})",
                                 R"({"a":3,"b":"x","bb":"n","c":"w","d":2,"e":"z","f":1})", R"({"e":"z"})",
                                 R"({"a":"1","b":"x","d":2})", R"({"z":1})"}) {
    std::vector<std::string_view> members;
    ASSERT_TRUE(detail::split_members(json, members));
    std::vector<std::uint32_t> ends;
    for (auto m : members) ends.push_back(static_cast<std::uint32_t>(m.data() + m.size() - json.data()));
    std::string want, got;
    ASSERT_TRUE(detail::encode_delta(base, json, want));
    detail::encode_delta(base, json, ends, got);
    EXPECT_EQ(got, want) << json;
  }
  std::vector<std::string_view> twice;
  ASSERT_TRUE(detail::split_members(R"({"a":1,"a":2})", twice));
  EXPECT_FALSE(detail::distinct_keys(twice));
}

}  // namespace
}  // namespace klartext::store
