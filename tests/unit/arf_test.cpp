// ARF source selection from the Received chain of the original message.
#include "formats/arf/arf.hpp"

#include <gtest/gtest.h>

namespace klartext::formats::arf {
namespace {

TEST(ArfReceived, SkipsPrivateAndOwnHops) {
  std::vector<std::string_view> received = {
      "from mx2.isp.example.org (mx2.isp.example.org [10.1.2.3]) by mbox.isp.example.org",
      "from relay.isp.example.org (relay.isp.example.org [203.0.113.9]) by mx2.isp.example.org",
      "from bulk.example.com (customer-45.example.net [198.51.100.23]) by relay.isp.example.org",
      "from localhost (localhost [127.0.0.1]) by bulk.example.com",
  };
  auto ip = source_from_received(received, {"isp.example.org"});
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->to_string(), "198.51.100.23");
}

TEST(ArfReceived, ReadsIpv6Literals) {
  std::vector<std::string_view> received = {"from host.example.com ([IPv6:2001:db8::25]) by mx.example.org"};
  auto ip = source_from_received(received, {"example.org"});
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->to_string(), "2001:db8::25");
}

TEST(ArfReceived, NothingUsable) {
  std::vector<std::string_view> received = {"by mx.example.org with LMTP", "from x (y [192.168.1.1]) by z"};
  EXPECT_FALSE(source_from_received(received, {}));
}

}  // namespace
}  // namespace klartext::formats::arf
