// Tests for IpAddress and IpPrefix.
#include "core/ip.hpp"

#include <gtest/gtest.h>

namespace klartext::core {
namespace {

TEST(IpAddress, ParsesAndFormatsV4) {
  auto a = IpAddress::parse("192.0.2.1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->to_string(), "192.0.2.1");
  EXPECT_TRUE(a->is_documentation());
  EXPECT_FALSE(IpAddress::parse("192.0.2.256"));
  EXPECT_FALSE(IpAddress::parse("192.0.2"));
  EXPECT_FALSE(IpAddress::parse("192.0.02.1"));
  EXPECT_FALSE(IpAddress::parse("192.0.2.1 "));
  EXPECT_FALSE(IpAddress::parse(""));
}

TEST(IpAddress, ParsesAndFormatsV6) {
  auto a = IpAddress::parse("2001:DB8:0:0:0:0:0:1");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->is_v4());
  EXPECT_EQ(a->to_string(), "2001:db8::1");
  EXPECT_TRUE(IpAddress::parse("[2001:db8::1]"));
  EXPECT_FALSE(IpAddress::parse("fe80::1%eth0"));
  EXPECT_FALSE(IpAddress::parse("2001:db8:::1"));
}

TEST(IpAddress, Classifies) {
  EXPECT_TRUE(IpAddress::parse("127.0.0.2")->is_loopback());
  EXPECT_TRUE(IpAddress::parse("::1")->is_loopback());
  EXPECT_TRUE(IpAddress::parse("10.1.2.3")->is_private());
  EXPECT_TRUE(IpAddress::parse("172.31.0.1")->is_private());
  EXPECT_FALSE(IpAddress::parse("172.32.0.1")->is_private());
  EXPECT_TRUE(IpAddress::parse("100.64.0.1")->is_private());
  EXPECT_TRUE(IpAddress::parse("224.0.0.1")->is_multicast());
  EXPECT_TRUE(IpAddress::parse("255.255.255.255")->is_broadcast());
  EXPECT_TRUE(IpAddress::parse("198.51.100.7")->is_global_unicast());
}

TEST(IpPrefix, ContainsAndMasks) {
  auto p = IpPrefix::parse("198.51.100.77/24");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->to_string(), "198.51.100.0/24");
  EXPECT_TRUE(p->contains(*IpAddress::parse("198.51.100.255")));
  EXPECT_FALSE(p->contains(*IpAddress::parse("198.51.101.0")));
  EXPECT_FALSE(p->contains(*IpAddress::parse("2001:db8::1")));
  EXPECT_EQ(p->size(), 256u);
  auto q = IpPrefix::parse("2001:db8:1::/48");
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->contains(*IpAddress::parse("2001:db8:1:ffff::1")));
  EXPECT_FALSE(IpPrefix::parse("192.0.2.0/33"));
  EXPECT_EQ(IpPrefix::parse("0.0.0.0/0")->size(), 1ull << 32);
}

}  // namespace
}  // namespace klartext::core
