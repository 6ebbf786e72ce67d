// Tests for the event model: fields, JSON Lines form, identity.
#include "core/event.hpp"

#include <gtest/gtest.h>

namespace klartext::core {
namespace {

TEST(Event, SerializesSortedWithBase64RawAndRoundTrips) {
  Event e;
  e.set("feed.name", "NTP-Monitor");
  e.set_source_ip(*IpAddress::parse("192.0.2.7"));
  e.set_source_port(123);
  e.set_classification(Classification::of(IncidentType::kDdosAmplifier, "ntp-monitor"));
  e.set_time_source(*Timestamp::parse("2024-07-04 00:00:01"));
  e.set_float("extra.amplification", 55.33);
  e.raw = "a,b\n1,2";
  std::string json = e.to_json();
  EXPECT_EQ(json,
            "{\"classification.identifier\":\"ntp-monitor\",\"classification.taxonomy\":\"vulnerable\","
            "\"classification.type\":\"ddos-amplifier\",\"event.id\":\"" +
                e.id() +
                "\",\"extra.amplification\":55.33,\"feed.name\":\"NTP-Monitor\",\"raw\":\"YSxiCjEsMg==\","
                "\"source.ip\":\"192.0.2.7\",\"source.port\":123,\"time.source\":\"2024-07-04T00:00:01+00:00\"}");
  Event back = Event::from_json(json);
  EXPECT_EQ(back.to_json(), json);
  EXPECT_EQ(back.classification().to_string(), "vulnerable/ddos-amplifier/ntp-monitor");
}

TEST(Event, IdDependsOnFeedAndRawOnly) {
  Event a, b;
  a.set("feed.name", "X");
  b.set("feed.name", "X");
  a.raw = b.raw = "row";
  b.set("extra.other", "1");
  EXPECT_EQ(a.id(), b.id());
  b.raw = "row2";
  EXPECT_NE(a.id(), b.id());
}

TEST(Event, EscapesInvalidUtf8) {
  std::string out;
  append_json_string(out, std::string("a\xff\"b\n\xc3\xa4", 7));
  EXPECT_EQ(out, "\"a\xEF\xBF\xBD\\\"b\\n\xc3\xa4\"");
}

TEST(Taxonomy, ValidatesConsistency) {
  EXPECT_TRUE(Classification::parse("vulnerable", "ddos-amplifier", "ntp-monitor"));
  EXPECT_FALSE(Classification::parse("abusive-content", "ddos-amplifier", "x"));
  EXPECT_FALSE(Classification::parse("vulnerable", "vulnerable-service", "x"));
  EXPECT_EQ(all_types().size(), 39u);
}

}  // namespace
}  // namespace klartext::core
