// Tests for the schema's named value conversions.
#include "formats/shadowserver/conversions.hpp"

#include <gtest/gtest.h>

namespace klartext::formats::shadowserver {
namespace {

Value conv(Conversion c, std::string_view text, const RowContext& row = {}) {
  static std::string scratch;
  return convert(c, text, row, scratch);
}

TEST(Conversions, EveryNameInTheSchemaIsKnown) {
  auto schema = Schema::get();
  for (const auto& r : schema->reports()) {
    for (const auto& f : r.fields) {
      EXPECT_NE(f.conversion, Conversion::kUnknown) << r.key << " " << f.column << " " << f.conversion_name;
    }
  }
}

TEST(Conversions, NumbersAndZero) {
  EXPECT_EQ(conv(Conversion::kConvertInt, "123").i, 123);
  EXPECT_EQ(conv(Conversion::kConvertInt, "").kind, ValueKind::kAbsent);
  EXPECT_EQ(conv(Conversion::kConvertInt, "12x").kind, ValueKind::kInvalid);
  EXPECT_EQ(conv(Conversion::kInvalidateZero, "0").kind, ValueKind::kAbsent);
  EXPECT_EQ(conv(Conversion::kInvalidateZero, "64496").i, 64496);
  EXPECT_DOUBLE_EQ(conv(Conversion::kConvertFloat, "55.33").f, 55.33);
  EXPECT_EQ(conv(Conversion::kConvertFloat, "nan").kind, ValueKind::kInvalid);
}

TEST(Conversions, ToNoneBoolAndTimes) {
  EXPECT_EQ(conv(Conversion::kValidateToNone, "0").kind, ValueKind::kAbsent);
  EXPECT_EQ(conv(Conversion::kValidateToNone, "unknown").kind, ValueKind::kAbsent);
  EXPECT_EQ(conv(Conversion::kValidateToNone, "medium").text, "medium");
  EXPECT_TRUE(conv(Conversion::kConvertBool, "Y").b);
  EXPECT_FALSE(conv(Conversion::kConvertBool, "disabled").b);
  EXPECT_EQ(conv(Conversion::kConvertBool, "maybe").kind, ValueKind::kInvalid);
  Value t = conv(Conversion::kAddUtcToTimestamp, "2026-11-27 02:14:09");
  ASSERT_EQ(t.kind, ValueKind::kTime);
  EXPECT_EQ(t.time.to_iso(), "2026-11-27T02:14:09+00:00");
  EXPECT_EQ(conv(Conversion::kAddUtcToTimestamp, "yesterday").kind, ValueKind::kInvalid);
  EXPECT_EQ(conv(Conversion::kConvertDate, "Thu, 19 Apr 2018 00:02:28 GMT").text, "2018-04-19T00:02:28+00:00");
  EXPECT_EQ(conv(Conversion::kConvertDateUtc, "2018-04-19 00:02:28").text, "2018-04-19T00:02:28+00:00");
}

TEST(Conversions, AddressesNetworksNames) {
  EXPECT_EQ(conv(Conversion::kValidateIp, "198.51.100.7").kind, ValueKind::kIp);
  EXPECT_EQ(conv(Conversion::kValidateIp, "0.0.0.0").kind, ValueKind::kAbsent);
  EXPECT_EQ(conv(Conversion::kValidateIp, "198.51.100.0/24").kind, ValueKind::kAbsent);
  EXPECT_EQ(conv(Conversion::kValidateIp, "198.51.100.300").kind, ValueKind::kInvalid);
  EXPECT_EQ(conv(Conversion::kValidateNetwork, "198.51.100.0/24, 203.0.113.0/24").text, "198.51.100.0/24");
  EXPECT_EQ(conv(Conversion::kValidateNetwork, "198.51.100.7").kind, ValueKind::kAbsent);
  EXPECT_EQ(conv(Conversion::kValidateFqdn, "www.example.org").text, "www.example.org");
  EXPECT_EQ(conv(Conversion::kValidateFqdn, "192.0.2.1").kind, ValueKind::kAbsent);
}

TEST(Conversions, UrlsFromHostAndPath) {
  RowContext row;
  row.http_host = "example.org";
  row.http_url = "GET /a/b?c=1 HTTP/1.1";
  EXPECT_EQ(conv(Conversion::kConvertHttpHostAndUrl, "GET /a/b?c=1 HTTP/1.1", row).text, "http://example.org/a/b?c=1");
  row.application = "https";
  EXPECT_EQ(conv(Conversion::kConvertHttpHostAndUrl, "x", row).text, "https://example.org/a/b?c=1");
  RowContext no_host;
  no_host.url = "/path";
  EXPECT_EQ(conv(Conversion::kConvertHttpHostAndUrl, "/path", no_host).kind, ValueKind::kKeep);
  no_host.url = "http://198.51.100.7:8080/x.sh";
  EXPECT_EQ(conv(Conversion::kConvertHttpHostAndUrl, "http://198.51.100.7:8080/x.sh", no_host).text,
            "http://198.51.100.7:8080/x.sh");
}

TEST(Conversions, TagsBase64CategoryExchange) {
  EXPECT_EQ(conv(Conversion::kExtractCveFromTag, "rdp;cve-2019-0708;CVE-2019-0708,cve-2020-0609").text,
            "CVE-2019-0708,CVE-2020-0609");
  EXPECT_EQ(conv(Conversion::kExtractCveFromTag, "ntp-monitor").kind, ValueKind::kAbsent);
  EXPECT_EQ(conv(Conversion::kForceBase64, "aGVsbG8=").text, "aGVsbG8=");
  EXPECT_EQ(conv(Conversion::kForceBase64, "hello world").text, "aGVsbG8gd29ybGQ=");
  RowContext row;
  row.detail = "detail text";
  EXPECT_EQ(conv(Conversion::kCategoryOrDetail, "", row).text, "detail text");
  EXPECT_EQ(conv(Conversion::kScanExchangeIdentifier, "exchange;webshell").text, "exchange-server-webshell");
  EXPECT_EQ(conv(Conversion::kScanExchangeTaxonomy, "exchange;cve-2021-26855").text, "vulnerable");
  EXPECT_EQ(conv(Conversion::kScanExchangeType, "exchange;webshell").text, "system-compromise");
}

}  // namespace
}  // namespace klartext::formats::shadowserver
