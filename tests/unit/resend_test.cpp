// The re-notification rule: new, changed, resend after the severity's interval, otherwise not due.
#include "letters/resend.hpp"

#include <gtest/gtest.h>

using namespace klartext;
using letters::Due;

TEST(Resend, Rule) {
  letters::ResendPolicy p;
  p.high_seconds = 3600;
  p.medium_seconds = 7200;
  const auto t0 = core::Timestamp::from_seconds(1'800'000'000);
  const auto at = [&](std::int64_t s) { return core::Timestamp::from_seconds(t0.seconds() + s); };
  EXPECT_EQ(letters::due(p, core::Severity::kHigh, 1, std::nullopt, t0), Due::kNew);
  const letters::SentBefore sent{t0, 3};
  EXPECT_EQ(letters::due(p, core::Severity::kHigh, 3, sent, at(10)), Due::kNotDue);
  EXPECT_EQ(letters::due(p, core::Severity::kHigh, 4, sent, at(10)), Due::kChanged);
  EXPECT_EQ(letters::due(p, core::Severity::kHigh, 3, sent, at(3599)), Due::kNotDue);
  EXPECT_EQ(letters::due(p, core::Severity::kHigh, 3, sent, at(3600)), Due::kResend);
  // Unknown severity is treated as medium.
  EXPECT_EQ(letters::due(p, core::Severity::kUnknown, 3, sent, at(3600)), Due::kNotDue);
  EXPECT_EQ(letters::due(p, core::Severity::kUnknown, 3, sent, at(7200)), Due::kResend);
}
