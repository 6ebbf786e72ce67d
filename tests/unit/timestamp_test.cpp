// Tests for Timestamp parsing and formatting.
#include "core/timestamp.hpp"

#include <gtest/gtest.h>

namespace klartext::core {
namespace {

TEST(Timestamp, ParsesShadowserverAndIsoForms) {
  EXPECT_EQ(Timestamp::parse("2010-02-10 00:00:01")->to_iso(), "2010-02-10T00:00:01+00:00");
  EXPECT_EQ(Timestamp::parse("2024-07-04T12:00:00Z")->to_iso(), "2024-07-04T12:00:00+00:00");
  EXPECT_EQ(Timestamp::parse("2024-07-04T12:00:00+02:00")->to_iso(), "2024-07-04T10:00:00+00:00");
  EXPECT_EQ(Timestamp::parse("2024-07-04 12:00:00 UTC")->to_iso(), "2024-07-04T12:00:00+00:00");
  EXPECT_EQ(Timestamp::parse("2024-07-04T12:00:00.250Z")->to_iso(), "2024-07-04T12:00:00.250000+00:00");
  EXPECT_EQ(Timestamp::parse("2024-07-04")->to_iso(), "2024-07-04T00:00:00+00:00");
  EXPECT_EQ(Timestamp::parse("1720094400")->to_iso(), "2024-07-04T12:00:00+00:00");
  EXPECT_FALSE(Timestamp::parse("2024-02-30 00:00:00"));
  EXPECT_FALSE(Timestamp::parse("yesterday"));
  EXPECT_FALSE(Timestamp::parse("2024-07-04 25:00:00"));
}

TEST(Timestamp, ParsesMailDates) {
  EXPECT_EQ(Timestamp::parse_rfc5322("Sat, 28 Nov 2026 10:02:00 +0100")->to_iso(), "2026-11-28T09:02:00+00:00");
  EXPECT_EQ(Timestamp::parse_rfc5322("3 Jan 2021 01:02:03 -0500 (EST)")->to_iso(), "2021-01-03T06:02:03+00:00");
  EXPECT_FALSE(Timestamp::parse_rfc5322("not a date"));
}

}  // namespace
}  // namespace klartext::core
