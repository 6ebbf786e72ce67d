// Tests for the customer directory import: CSV files, FreeRADIUS detail, malformed input, dynamic IPs.
#include "customers/import.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "customers/holder_index.hpp"
#include "intake/file_source.hpp"
#include "store/store.hpp"

namespace klartext::customers {
namespace {

std::string example(const char* name) {
  return intake::read_file(std::string(KLARTEXT_TEST_DATA) + "/../../examples/customers/" + name);
}

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = store::Store::open_sqlite(":memory:"); }
  std::vector<formats::ParseIssue> issues_;
  IssueFn on_issue_ = [this](const formats::ParseIssue& i) { issues_.push_back(i); };
  std::unique_ptr<store::Store> store_;

  std::vector<std::string> codes() const {
    std::vector<std::string> out;
    for (const auto& i : issues_) out.push_back(i.code);
    return out;
  }
  void load_examples() {
    import_customers_csv(*store_, example("customers.csv"), "customers.csv", on_issue_);
    import_assignments_csv(*store_, example("assignments.csv"), "assignments.csv", on_issue_);
    import_sessions_csv(*store_, example("sessions.csv"), "sessions.csv", on_issue_);
    import_radius_detail(*store_, example("radius-detail-20261127"), "radius-detail-20261127", on_issue_);
  }
};

TEST_F(ImportTest, ExamplesImportCleanly) {
  load_examples();
  EXPECT_TRUE(issues_.empty()) << issues_.front().code << ": " << issues_.front().reason;
  EXPECT_EQ(store_->list_customers().size(), 17u);
  auto c = store_->customer("K-1011");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->name, "Kanzlei Weber & Partner");
  EXPECT_EQ(store_->customer("K-1002")->emails.size(), 2u);
  EXPECT_EQ(store_->list_assignments().size(), 12u);
  // Start + Interim + Stop of one session are one session; Framed-IP and the delegated prefix two.
  EXPECT_EQ(store_->count_sessions(), 6);
}

TEST_F(ImportTest, SameIpAtTwoTimesHasTwoHolders) {
  load_examples();
  auto idx = HolderIndex::from_store(*store_);
  auto at = [&](const char* ip, const char* t, std::optional<std::uint16_t> port = std::nullopt) {
    auto h = idx.lookup(*core::IpAddress::parse(ip), *core::Timestamp::parse(t), port);
    return h ? idx.customer_id(h->customer) : std::string("-");
  };
  EXPECT_EQ(at("203.0.113.77", "2026-11-27 03:10:00"), "K-2001");
  EXPECT_EQ(at("203.0.113.77", "2026-11-27 18:40:00"), "K-2002");
  EXPECT_EQ(at("203.0.113.77", "2026-11-27 12:00:00"), "-");
  EXPECT_EQ(at("2001:db8:200:1100::1", "2026-11-27 03:10:00"), "K-2001");
  EXPECT_EQ(at("203.0.113.200", "2026-11-27 08:00:00"), "K-2003");
  EXPECT_EQ(at("198.51.100.7", "2026-11-27 02:14:09"), "K-1001");
  EXPECT_EQ(at("198.51.100.7", "2024-01-01"), "-");  // before valid_from
  EXPECT_EQ(at("2001:db8:100::7", "2026-11-27 02:20:00"), "K-1003");
  EXPECT_EQ(at("203.0.113.10", "2026-11-27 10:00:00", 2000), "K-2004");
  EXPECT_EQ(at("203.0.113.10", "2026-11-27 10:00:00", 40000), "K-2005");
  EXPECT_EQ(at("192.0.2.99", "2026-11-27 04:00:00"), "-");
}

TEST_F(ImportTest, ImportTwiceAddsNothing) {
  load_examples();
  issues_.clear();
  auto r = import_radius_detail(*store_, example("radius-detail-20261127"), "r", on_issue_);
  EXPECT_EQ(r.records, 6u);
  EXPECT_EQ(store_->count_sessions(), 6);
  auto a = import_assignments_csv(*store_, example("assignments.csv"), "a", on_issue_);
  EXPECT_EQ(a.added, 0u);
  auto s = import_sessions_csv(*store_, example("sessions.csv"), "s", on_issue_);
  EXPECT_EQ(s.added, 0u);
  EXPECT_EQ(store_->count_sessions(), 6);
}

TEST_F(ImportTest, MalformedCustomerAndAssignmentRows) {
  auto st = import_customers_csv(*store_,
                                 "ID,Name,Emails,Language,Time_Zone,Shoe_Size\n"
                                 "K-1,\"Quoted, Name\",a@example.org; b@example.org,DE,Europe/Berlin,42\n"
                                 ",No Id,x@example.org,de,,\n"
                                 "K-2,Bad,not-an-address,fr,Mars/Olympus,\n",
                                 "c.csv", on_issue_);
  EXPECT_EQ(st.records, 3u);
  EXPECT_EQ(st.added, 2u);
  EXPECT_EQ(codes(),
            (std::vector<std::string>{"csv-unknown-column", "customer-missing-id", "customer-bad-email",
                                      "customer-no-email", "customer-bad-language", "customer-bad-time-zone"}));
  EXPECT_EQ(store_->customer("K-1")->name, "Quoted, Name");
  EXPECT_EQ(store_->customer("K-1")->language, "de");
  EXPECT_EQ(store_->customer("K-2")->language, "");
  EXPECT_EQ(issues_[1].line, 3u);

  issues_.clear();
  auto a = import_assignments_csv(*store_,
                                  "customer,prefix,valid_from,valid_to\n"
                                  "K-1,198.51.100.7/28,,\n"
                                  "K-9,198.51.100.0/28,,\n"
                                  "K-1,198.51.100.300/28,,\n"
                                  "K-1,198.51.100.64/28,tomorrow,\n"
                                  "K-1,198.51.100.80/28,2026-01-01,2025-01-01\n",
                                  "a.csv", on_issue_);
  EXPECT_EQ(a.added, 1u);
  EXPECT_EQ(codes(),
            (std::vector<std::string>{"prefix-host-bits", "assignment-unknown-customer", "assignment-bad-prefix",
                                      "assignment-bad-time", "assignment-empty-interval"}));
  EXPECT_EQ(store_->list_assignments().at(0).prefix.to_string(), "198.51.100.0/28");

  issues_.clear();
  import_assignments_csv(*store_, "customer,valid_from\nK-1,\n", "b.csv", on_issue_);
  EXPECT_EQ(codes(), std::vector<std::string>{"csv-missing-column"});
}

TEST_F(ImportTest, MalformedRadiusRecordsAreNamedIssues) {
  import_customers_csv(*store_, example("customers.csv"), "customers.csv", on_issue_);
  auto data = intake::read_file(std::string(KLARTEXT_TEST_DATA) + "/store/radius-malformed");
  auto st = import_radius_detail(*store_, data, "radius-malformed", on_issue_);
  EXPECT_EQ(codes(), (std::vector<std::string>{"radius-bad-line", "radius-unknown-user", "radius-missing-status",
                                               "radius-bad-address", "radius-bad-time", "radius-bad-line",
                                               "radius-missing-session-id", "radius-missing-address"}));
  EXPECT_EQ(st.added, 1u);  // only the last record (epoch Event-Timestamp) is fine
  EXPECT_EQ(store_->count_sessions(), 1);
  EXPECT_EQ(issues_[0].line, 1u);
  EXPECT_EQ(issues_[1].line, 3u);
}

TEST_F(ImportTest, StopWithoutStartUsesSessionTime) {
  import_customers_csv(*store_, "id,name,emails\nK-1,A,a@example.org\n", "c", on_issue_);
  import_radius_detail(*store_,
                       "Fri Nov 27 10:00:00 2026\n\tAcct-Status-Type = Stop\n\tUser-Name = \"k-1@realm\"\n"
                       "\tAcct-Session-Id = \"S\"\n\tFramed-IP-Address = 192.0.2.5\n\tAcct-Session-Time = 3600\n"
                       "\tEvent-Timestamp = \"Nov 27 2026 10:00:00 +0100\"\n",
                       "r", on_issue_);
  ASSERT_TRUE(issues_.empty()) << issues_[0].code;
  std::vector<Session> all;
  store_->for_each_session([&](const Session& s) { all.push_back(s); });
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].start, *core::Timestamp::parse("2026-11-27T08:00:00Z"));
  EXPECT_EQ(all[0].stop, core::Timestamp::parse("2026-11-27T09:00:00Z"));
}

}  // namespace
}  // namespace klartext::customers
