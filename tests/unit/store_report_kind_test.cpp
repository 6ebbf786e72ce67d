// The store keeps each report's kind and verdict (schema 3), also for inputs that make no events.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "store/store.hpp"

namespace klartext::store {
namespace {

TEST(StoreReportKind, StoredAndListed) {
  auto dir = std::filesystem::temp_directory_path() / ("klartext-report-kind-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    auto store = Store::open_sqlite((dir / "k.db").string());
    EXPECT_GE(store->schema_version(), 3);
    auto tx = store->transaction();
    auto dmarc = store->add_report("dmarc mail", "dmarc.eml", core::Timestamp::from_seconds(1));
    store->update_report(dmarc.id, "mail", "dmarc-aggregate", 0, 0);
    store->set_report_kind(dmarc.id, "not-a-report", "dmarc-aggregate");
    auto plain = store->add_report("older report", "old.csv", core::Timestamp::from_seconds(2));
    store->update_report(plain.id, "shadowserver-csv", "scan_ntpmonitor", 3, 0);
    tx.commit();
  }
  // Reopened: the values persist, and a report whose kind was never set reads as ''.
  auto store = Store::open_sqlite((dir / "k.db").string());
  auto reports = store->list_reports();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].kind, "not-a-report");
  EXPECT_EQ(reports[0].verdict, "dmarc-aggregate");
  EXPECT_EQ(reports[0].events, 0);
  EXPECT_EQ(reports[1].kind, "");
  EXPECT_EQ(reports[1].verdict, "");
  auto with_bytes = store->report(reports[0].id, true);
  ASSERT_TRUE(with_bytes);
  EXPECT_EQ(with_bytes->bytes, "dmarc mail");
  EXPECT_EQ(with_bytes->kind, "not-a-report");
  store.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace klartext::store
