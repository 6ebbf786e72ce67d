// Tests for loading the Shadowserver schema.
#include "formats/shadowserver/schema.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace klartext::formats::shadowserver {
namespace {

TEST(Schema, EmbeddedSchemaHasAllReportTypes) {
  auto s = Schema::get();
  EXPECT_EQ(s->reports().size(), 170u);
  EXPECT_EQ(s->date_created(), "2026-03-24T15:31:20Z");
  const ReportSpec* ntp = s->find("scan_ntpmonitor");
  ASSERT_NE(ntp, nullptr);
  EXPECT_EQ(ntp->feed_name, "NTP-Monitor");
  EXPECT_EQ(ntp->constant("classification.identifier"), "ntp-monitor");
  ASSERT_FALSE(ntp->fields.empty());
  EXPECT_TRUE(ntp->fields[0].required);
  EXPECT_EQ(ntp->fields[0].target, "time.source");
}

TEST(Schema, FindsByKeyAndByFileName) {
  auto s = Schema::get();
  ASSERT_NE(s->find("event_sinkhole"), nullptr);
  EXPECT_EQ(s->find("event4_sinkhole"), s->find("event_sinkhole"));
  EXPECT_EQ(s->find("SCAN_NTPMONITOR"), s->find("scan_ntpmonitor"));
  EXPECT_EQ(s->find("no_such_report"), nullptr);
}

TEST(Schema, ExtraPrefixAndIgnoredColumns) {
  auto s = Schema::parse(R"({"_meta":{"date_created":"x"},"t":{"feed_name":"T","file_name":"t","url":"u",
    "constant_fields":{"classification.type":"scanner"},
    "required_fields":[["time.source","timestamp","add_UTC_to_timestamp"]],
    "optional_fields":[["extra.","tag"],[false,"junk"],["extra.x","y","brand_new_conversion"]]}})",
                         "test");
  const ReportSpec* t = s.find("t");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->fields.size(), 4u);
  EXPECT_EQ(t->fields[1].target, "extra.tag");
  EXPECT_EQ(t->fields[2].target, "");
  EXPECT_EQ(t->fields[3].conversion, Conversion::kUnknown);
  EXPECT_EQ(t->fields[3].conversion_name, "brand_new_conversion");
}

TEST(Schema, MalformedSchemaThrowsWithOrigin) {
  EXPECT_THROW(Schema::parse("not json", "f.json"), std::runtime_error);
  EXPECT_THROW(Schema::parse("{\"t\":{\"required_fields\":[[1]]}}", "f.json"), std::runtime_error);
  EXPECT_THROW(Schema::get("/nonexistent/schema.json"), std::runtime_error);
}

TEST(Schema, NewerSchemaFileOverridesBuiltin) {
  auto dir = std::filesystem::temp_directory_path() / "klartext_schema_test";
  std::filesystem::create_directories(dir);
  auto path = (dir / "schema.json").string();
  std::ofstream(path) << R"({"_meta":{"date_created":"2030-01-01"},"scan_future":{"feed_name":"Future",
    "file_name":"scan_future","url":"https://example.org/","constant_fields":{},
    "required_fields":[["time.source","timestamp","add_UTC_to_timestamp"]],"optional_fields":[]}})";
  auto s = Schema::get(path);
  EXPECT_NE(s->find("scan_future"), nullptr);
  EXPECT_EQ(s->find("scan_ntpmonitor"), nullptr);
}

}  // namespace
}  // namespace klartext::formats::shadowserver
