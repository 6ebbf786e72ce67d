// Safety policy of the prober: allowed prefixes, refusals before sending, expansion limits.
#include <gtest/gtest.h>

#include "probe/policy.hpp"

namespace klartext::probe {
namespace {

TargetPolicy loopback() {
  return *TargetPolicy::from_config({"127.0.0.0/8", "::1/128"});
}

TEST(ProbePolicy, OutsideTheAllowedPrefixesIsRefusedNamingTheSetting) {
  auto r = expand_targets({"127.0.0.1", "192.0.2.7"}, loopback());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "target-not-allowed");
  EXPECT_NE(r.error().message.find("probe.allowed_prefixes"), std::string::npos);
  EXPECT_NE(r.error().message.find("192.0.2.7"), std::string::npos);
  // A prefix that only partly overlaps is refused as a whole.
  EXPECT_FALSE(expand_targets({"126.0.0.0/7"}, loopback()));
  EXPECT_FALSE(expand_targets({"::/0"}, loopback()));
}

TEST(ProbePolicy, MulticastBroadcastAndNonsenseAreRefused) {
  auto all = *TargetPolicy::from_config({"224.0.0.0/8", "255.0.0.0/8", "ff00::/16"});
  EXPECT_FALSE(expand_targets({"224.0.0.251"}, all));
  EXPECT_FALSE(expand_targets({"255.255.255.255"}, all));
  EXPECT_FALSE(expand_targets({"ff02::fb"}, all));
  EXPECT_EQ(expand_targets({"example.org"}, loopback()).error().code, "bad-target");
}

TEST(ProbePolicy, BroadConfigIsRejected) {
  EXPECT_FALSE(TargetPolicy::from_config({"0.0.0.0/0"}));
  EXPECT_FALSE(TargetPolicy::from_config({"2000::/3"}));
  EXPECT_FALSE(TargetPolicy::from_config({"not a prefix"}));
  auto bad = TargetPolicy::from_config({"0.0.0.0/0"});
  EXPECT_NE(bad.error().message.find("probe.allowed_prefixes"), std::string::npos);
  EXPECT_TRUE(TargetPolicy::from_config({"198.51.100.0/24", "2001:db8::/32"}));
}

TEST(ProbePolicy, PrefixExpansionSkipsNetworkAndBroadcast) {
  auto p = *TargetPolicy::from_config({"198.51.100.0/24", "2001:db8::/32"});
  auto r = expand_targets({"198.51.100.0/30"}, p);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].to_string(), "198.51.100.1");
  EXPECT_EQ((*r)[1].to_string(), "198.51.100.2");
  EXPECT_EQ(expand_targets({"198.51.100.8/31"}, p)->size(), 2u);
  EXPECT_EQ(expand_targets({"198.51.100.9"}, p)->size(), 1u);
  auto v6 = expand_targets({"2001:db8::/126"}, p);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->size(), 4u);
  EXPECT_EQ(v6->back().to_string(), "2001:db8::3");
}

TEST(ProbePolicy, TargetLimit) {
  auto p = loopback();
  p.max_targets = 100;
  EXPECT_EQ(expand_targets({"127.0.0.0/24"}, p).error().code, "too-many-targets");
  EXPECT_EQ(expand_targets({"127.0.0.0/25", "127.0.1.0/25"}, p).error().code, "too-many-targets");
  p.max_targets = 1ull << 40;  // the ceiling still applies
  EXPECT_EQ(expand_targets({"127.0.0.0/8"}, p).error().code, "too-many-targets");
  EXPECT_EQ(expand_targets({"::1"}, p)->size(), 1u);
}

}  // namespace
}  // namespace klartext::probe
