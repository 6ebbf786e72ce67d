// Event JSON stored as a delta to a per-report base: exact round trips, and whole storage where it cannot split.
#include "store/json_delta.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace klartext::store::detail {
namespace {

std::string round_trip(std::string_view base_json, std::string_view json) {
  std::vector<std::string_view> base;
  EXPECT_TRUE(split_members(base_json, base)) << base_json;
  std::string delta, out;
  EXPECT_TRUE(encode_delta(base, json, delta)) << json;
  EXPECT_TRUE(decode_delta(base, delta, out)) << json;
  return out;
}

TEST(JsonDeltaTest, SplitsTopLevelMembersOnly) {
  std::vector<std::string_view> m;
  ASSERT_TRUE(split_members(R"({"a":1,"b":"x,}\"y","c":{"d":[1,{"e":"]"}]},"f":null})", m));
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0], R"("a":1)");
  EXPECT_EQ(m[1], R"("b":"x,}\"y")");
  EXPECT_EQ(m[2], R"("c":{"d":[1,{"e":"]"}]})");
  EXPECT_EQ(m[3], R"("f":null)");
  ASSERT_TRUE(split_members("{}", m));
  EXPECT_TRUE(m.empty());
}

TEST(JsonDeltaTest, RefusesWhatItCannotRebuildExactly) {
  std::vector<std::string_view> m;
  for (std::string_view bad : {"", "{", "[1]", R"({"a":1}x)", R"({"a":1}})", R"({"a":})", R"({"a" :1})",
                               R"({"a":1, "b":2})", R"({"a":"unterminated})", R"({a:1})"}) {
    EXPECT_FALSE(split_members(bad, m)) << bad;
  }
  std::vector<std::string_view> base;
  ASSERT_TRUE(split_members(R"({"a":1})", base));
  std::string delta;
  EXPECT_FALSE(encode_delta(base, R"({"a":1, "b":2})", delta));
}

TEST(JsonDeltaTest, RebuildsChangedMissingAddedAndReorderedMembers) {
  const std::string base = R"({"a":1,"b":"two","c":{"x":[1,2]},"d":"\\","e":true,"raw":""})";
  for (std::string_view json : {
           std::string_view(base),
           std::string_view(R"({"a":2,"b":"two","c":{"x":[1,2]},"d":"\\","e":true,"raw":""})"),
           std::string_view(R"({"a":1,"c":{"x":[1,2]},"e":true,"raw":""})"),
           std::string_view(R"({"0":0,"a":1,"b":"two","bb":"new","c":{"x":[1,2]},"d":"\\","e":true,"raw":"","z":9})"),
           std::string_view(R"({"raw":"","e":true,"d":"\\","c":{"x":[1,2]},"b":"two","a":1})"),
           std::string_view(R"({"q":"\"quoted\\\""})"),
           std::string_view("{}"),
       }) {
    EXPECT_EQ(round_trip(base, json), json);
  }
  EXPECT_EQ(round_trip("{}", R"({"a":1,"b":[]})"), R"({"a":1,"b":[]})");
}

TEST(JsonDeltaTest, DeltaOfAnEqualEventIsTiny) {
  const std::string json =
      R"({"classification.taxonomy":"vulnerable","feed.name":"NTP-Monitor","source.ip":"192.0.2.1"})";
  std::vector<std::string_view> base;
  ASSERT_TRUE(split_members(json, base));
  std::string delta;
  ASSERT_TRUE(encode_delta(base, json, delta));
  EXPECT_EQ(delta, std::string("c\x03", 2));
}

TEST(JsonDeltaTest, ChangedValuesAreStoredWithoutTheirKeys) {
  std::vector<std::string_view> base;
  ASSERT_TRUE(split_members(R"({"event.id":"aa","feed.name":"x","source.ip":"192.0.2.1"})", base));
  std::string delta;
  ASSERT_TRUE(encode_delta(base, R"({"event.id":"bb","feed.name":"x","source.ip":"192.0.2.7"})", delta));
  EXPECT_EQ(delta, std::string("v\x04\"bb\"c\x01v\x0b\"192.0.2.7\"", 21));
  // Deltas written before the 'v' op carry the whole member ('r'); they still decode.
  std::string out;
  ASSERT_TRUE(decode_delta(base, std::string_view("r\x0f\"event.id\":\"bb\"c\x02", 19), out));
  EXPECT_EQ(out, R"({"event.id":"bb","feed.name":"x","source.ip":"192.0.2.1"})");
}

TEST(JsonDeltaTest, CorruptDeltasAreRejected) {
  std::vector<std::string_view> base;
  ASSERT_TRUE(split_members(R"({"a":1,"b":2})", base));
  std::string out;
  for (std::string_view bad :
       {std::string_view("c\x03", 2), std::string_view("s\x05", 2), std::string_view("l\x09x", 3),
        std::string_view("x\x01", 2), std::string_view("c\x80", 2), std::string_view("s\x02r\x01x", 5),
        std::string_view("s\x02v\x01x", 5), std::string_view("v\x05x", 3)}) {
    out.clear();
    EXPECT_FALSE(decode_delta(base, bad, out)) << bad;
  }
}

TEST(JsonDeltaTest, RandomEventsRoundTrip) {
  std::mt19937 rng(20261128);
  auto member = [&](int k) {
    std::string v;
    switch (rng() % 4) {
      case 0: v = std::to_string(rng() % 1000); break;
      case 1: v = "\"s" + std::to_string(rng() % 5) + (rng() % 3 == 0 ? "\\\"," : "") + "\""; break;
      case 2: v = "[" + std::to_string(rng() % 3) + ",{\"n\":\"}\"}]"; break;
      default: v = "null"; break;
    }
    return "\"k" + std::to_string(k) + "\":" + v;
  };
  auto object = [&] {
    std::string o = "{";
    for (int k = 0; k < 30; ++k) {
      if (rng() % 5 == 0) continue;
      if (o.size() > 1) o += ',';
      o += member(k);
    }
    return o + "}";
  };
  for (int i = 0; i < 500; ++i) {
    auto base = object();
    auto json = object();
    EXPECT_EQ(round_trip(base, json), json);
  }
}

}  // namespace
}  // namespace klartext::store::detail
