// Ingest through the parse thread stores exactly what the one-thread ingest stores: rows, counts, lines, failures.
#include "ingest/ingest.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "customers/holder_index.hpp"
#include "customers/import.hpp"
#include "store/sql.hpp"

namespace klartext::ingest {
namespace {

namespace fs = std::filesystem;

const core::Timestamp kNow = core::Timestamp::from_seconds(1795780800);  // 2026-11-27 12:00 UTC

// A scan_ntpmonitor report over the documentation ranges: session addresses (198.51.100.0/24),
// static prefixes (192.0.2.0/24), nobody's (203.0.113.0/24, 2001:db8::), repeated rows
// (duplicate events), and rows that make issues between the events: too many fields (skipped),
// too few (padded: an issue and an event), a stray quote.
std::string make_report(int rows) {
  std::string r =
      "\"timestamp\",\"ip\",\"protocol\",\"port\",\"hostname\",\"packets\",\"size\",\"asn\",\"geo\",\"region\","
      "\"city\",\"naics\",\"sic\",\"sector\",\"amplification\"\n";
  for (int i = 0; i < rows; ++i) {
    int k = i % 10;
    std::string ip =
        k < 5   ? "198.51.100." + std::to_string(i % 200)
        : k < 9 ? "192.0.2." + std::to_string(i % 64)
                : (i % 20 == 9 ? "2001:db8::" + std::to_string(i % 50) : "203.0.113." + std::to_string(i % 99));
    std::string time = "2026-11-27 " + std::string(i % 24 < 10 ? "0" : "") + std::to_string(i % 24) + ":" +
                       std::to_string(10 + i % 50) + ":00";
    std::string row = "\"" + time + "\"," + ip + ",udp,123,,7," + std::to_string(440 * (i % 90)) +
                      ",64500,DE,Hessen,Frankfurt,0,0,," + std::to_string(i % 5000) + ".5\n";
    r += row;
    if (i % 97 == 13) r += row;                                                                // the same event again
    if (i % 113 == 7) r += "\"" + time + "\"," + ip + ",udp,123,x,y,z,a,b,c,d,e,f,g,h,i,j\n";  // too many fields
    if (i % 131 == 5) r += "\"" + time + "\",192.0.2.7,udp,123\n";                             // too few: padded
    if (i % 151 == 3) r += "\"" + time + "\",192.0.2.\"8,udp,123,,1,2,3,4,5,6,7,8,9,10\n";     // stray quote
  }
  return r;
}

void write_file(const fs::path& p, const std::string& data) {
  std::ofstream(p, std::ios::binary) << data;
}

// Every row of every table, as text (rowid included where there is one), tables by name.
std::vector<std::string> dump(const fs::path& db) {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> conn(raw, &sqlite3_close);
  auto rows = [&](const std::string& sql, std::vector<std::string>& out) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(conn.get(), sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return false;
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> guard(st, &sqlite3_finalize);
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string line;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const auto* p = static_cast<const char*>(sqlite3_column_blob(st, c));
        line += sqlite3_column_type(st, c) == SQLITE_NULL ? "NULL" : std::string(p, sqlite3_column_bytes(st, c));
        line += '|';
      }
      out.push_back(std::move(line));
    }
    return true;
  };
  std::vector<std::string> tables;
  rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", tables);
  std::vector<std::string> out;
  for (auto t : tables) {
    t.pop_back();  // the '|'
    std::vector<std::string> r;
    if (!rows("SELECT rowid, * FROM \"" + t + "\"", r)) rows("SELECT * FROM \"" + t + "\"", r);
    std::sort(r.begin(), r.end());
    out.push_back("table " + t + " rows=" + std::to_string(r.size()));
    out.insert(out.end(), r.begin(), r.end());
  }
  return out;
}

struct Outcome {
  std::string printed;
  std::string errors;
  std::string summary;
  std::string failure;  // what ingest threw, if it did
};

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("klartext-ingest-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // The customer data once; every run starts from a copy.
    auto store = store::Store::open_sqlite((dir_ / "base.db").string());
    auto tx = store->transaction();
    std::string customers = "id,name,emails,language,time_zone\n";
    std::string sessions = "customer,address,start,stop,session_id\n";
    std::string statics = "customer,prefix,valid_from,valid_to\n";
    for (int c = 0; c < 40; ++c) {
      customers += "K-" + std::to_string(c) + ",Customer " + std::to_string(c) + ",k" + std::to_string(c) +
                   "@example.org,de,Europe/Berlin\n";
    }
    for (int a = 0; a < 200; ++a) {
      // Two sessions per address over the report's day (the second from 12:00).
      sessions += "K-" + std::to_string(a % 40) + ",198.51.100." + std::to_string(a) + ",1795737600,1795780800,s" +
                  std::to_string(a) + "a\n";
      sessions += "K-" + std::to_string((a + 7) % 40) + ",198.51.100." + std::to_string(a) + ",1795780800,,s" +
                  std::to_string(a) + "b\n";
    }
    for (int p = 0; p < 8; ++p)
      statics += "K-" + std::to_string(p * 3) + ",192.0.2." + std::to_string(p * 8) + "/29,,\n";
    auto ignore = [](const formats::ParseIssue&) {};
    customers::import_customers_csv(*store, customers, "customers.csv", ignore);
    customers::import_sessions_csv(*store, sessions, "sessions.csv", ignore);
    customers::import_assignments_csv(*store, statics, "assignments.csv", ignore);
    tx.commit();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path fresh_store(const std::string& name) {
    auto p = dir_ / (name + ".db");
    fs::copy_file(dir_ / "base.db", p, fs::copy_options::overwrite_existing);
    return p;
  }
  fs::path report(const std::string& data, const std::string& name = "2026-11-27-scan_ntpmonitor-64500-org-asn.csv") {
    auto p = dir_ / name;
    write_file(p, data);
    return p;
  }

  Outcome ingest_into(const fs::path& db, const std::vector<fs::path>& inputs, Options options) {
    options.now = kNow;
    auto store = store::Store::open_sqlite(db.string());
    intake::SourceSpec spec;
    for (const auto& i : inputs) spec.paths.push_back(i.string());
    std::ostringstream out, err;
    Outcome run;
    try {
      auto r = ingest(*store, cfg_, spec, options, &out, err);
      run.summary = summary_line(r);
    } catch (const store::SqlError& e) {
      run.failure = std::string("SqlError: ") + e.what();
    }
    run.printed = out.str();
    run.errors = err.str();
    return run;
  }

  // The same ingest one thread and two threads: same lines, same store.
  void expect_same(const std::vector<fs::path>& inputs, Options options, const std::string& name) {
    auto a = fresh_store(name + "-one");
    auto b = fresh_store(name + "-two");
    options.pipeline_min_bytes = kNeverPipeline;
    Outcome one = ingest_into(a, inputs, options);
    options.pipeline_min_bytes = 0;
    Outcome two = ingest_into(b, inputs, options);
    EXPECT_EQ(one.printed, two.printed);
    EXPECT_EQ(one.summary, two.summary);
    EXPECT_EQ(one.errors, two.errors);
    EXPECT_TRUE(one.failure.empty()) << one.failure;
    EXPECT_EQ(dump(a), dump(b));
    last_summary_ = one.summary;
  }

  config::Config cfg_;
  fs::path dir_;
  std::string last_summary_;
};

TEST_F(IngestTest, ThePipelineStoresWhatOneThreadStores) {
  auto r = report(make_report(2000));
  expect_same({r}, Options{}, "plain");
  // The report is big enough for several batches, has issues, duplicates and unassigned events.
  EXPECT_NE(last_summary_.find("ingest: 1 new reports"), std::string::npos) << last_summary_;
  EXPECT_EQ(last_summary_.find(" 0 issues"), std::string::npos) << last_summary_;
  EXPECT_EQ(last_summary_.find(" 0 unassigned"), std::string::npos) << last_summary_;
  EXPECT_EQ(last_summary_.find(" 0 new cases"), std::string::npos) << last_summary_;
}

// With a current saved holder index the pipelined ingest reads it on a second connection while it
// stores the report's bytes (without one, as in the other tests, it builds the index itself).
TEST_F(IngestTest, TheSavedHolderIndexIsReadAhead) {
  {
    auto store = store::Store::open_sqlite((dir_ / "base.db").string());
    EXPECT_FALSE(customers::HolderIndex::from_snapshot(*store));  // none saved yet
    auto tx = store->transaction();
    customers::HolderIndex::from_store(*store);
    tx.commit();
    ASSERT_TRUE(customers::HolderIndex::from_snapshot(*store));
    EXPECT_NE(store->open_another(), nullptr);
    EXPECT_EQ(store::Store::open_sqlite(":memory:")->open_another(), nullptr);
  }
  auto r = report(make_report(2000));
  expect_same({r}, Options{}, "read-ahead");
  EXPECT_EQ(last_summary_.find(" 0 assigned"), std::string::npos) << last_summary_;
}

TEST_F(IngestTest, CommitSlicesInsideThePipeline) {
  auto r = report(make_report(1200));
  Options o;
  o.events_per_commit = 7;
  expect_same({r}, o, "slices");
  o.events_per_commit = 640;  // slice boundaries at batch boundaries
  expect_same({r}, o, "slices-batch");
}

TEST_F(IngestTest, SeveralInputsAndReingest) {
  // The second input finds the holder index built (published to the parse thread from its start);
  // the third is the first again (nothing to do); a small one goes the one-thread way either way.
  auto r1 = report(make_report(800));
  auto r2 = report(make_report(900), "2026-11-28-scan_ntpmonitor-64500-org-asn.csv");
  auto small = report(make_report(3), "2026-11-29-scan_ntpmonitor-64500-org-asn.csv");
  expect_same({r1, r2, r1, small}, Options{}, "several");
  EXPECT_NE(last_summary_.find("ingest: 3 new reports, 1 already known"), std::string::npos) << last_summary_;
}

// A store failure in the middle (a trigger refuses the third event block: the second commit slice) reaches the caller
// on both paths (for_each_input reports the input as failed; not a "parser-failure" issue that would mark the report
// complete), the report stays incomplete, and the next ingest resumes it to the same end.
TEST_F(IngestTest, StoreFailureThenResume) {
  auto r = report(make_report(1500));
  Options o;
  o.events_per_commit = 300;
  fs::path dbs[2] = {fresh_store("fail-one"), fresh_store("fail-two")};
  Outcome runs[2];
  for (int i = 0; i < 2; ++i) {
    {
      auto store = store::Store::open_sqlite(dbs[i].string());
      store->sql().exec_script(
          "CREATE TABLE test_count(n INTEGER); INSERT INTO test_count VALUES (0);"
          "CREATE TRIGGER test_fail BEFORE INSERT ON event_blocks BEGIN"
          "  UPDATE test_count SET n = n + 1;"
          "  SELECT RAISE(ABORT, 'test: disk full') WHERE (SELECT n FROM test_count) >= 3;"
          " END;");
    }
    o.pipeline_min_bytes = i == 0 ? kNeverPipeline : 0;
    runs[i] = ingest_into(dbs[i], {r}, o);
    // for_each_input reports a failed input and goes on with the next one.
    EXPECT_NE(runs[i].errors.find("test: disk full"), std::string::npos) << i << ": " << runs[i].errors;
    EXPECT_EQ(runs[i].printed, "");
    {
      auto store = store::Store::open_sqlite(dbs[i].string());
      auto reports = store->list_reports();
      ASSERT_EQ(reports.size(), 1u);
      EXPECT_FALSE(reports[0].complete);
      store->sql().exec_script("DROP TRIGGER test_fail; DROP TABLE test_count;");
    }
    runs[i] = ingest_into(dbs[i], {r}, o);
    EXPECT_TRUE(runs[i].failure.empty()) << runs[i].failure;
    EXPECT_EQ(runs[i].errors, "");
  }
  EXPECT_EQ(runs[0].printed, runs[1].printed);
  EXPECT_EQ(runs[0].summary, runs[1].summary);
  EXPECT_NE(runs[0].printed.find("known)"), std::string::npos);
  EXPECT_EQ(dump(dbs[0]), dump(dbs[1]));
}

TEST_F(IngestTest, SmallInputsStayOnOneThread) {
  Options o;
  formats::Input in;
  std::string mail(4096, 'x');
  in.data = mail;
  EXPECT_FALSE(detail::use_pipeline(in, o));
  std::string big(kPipelineMinBytes, 'x');
  in.data = big;
  EXPECT_TRUE(detail::use_pipeline(in, o));
  o.pipeline_min_bytes = kNeverPipeline;
  EXPECT_FALSE(detail::use_pipeline(in, o));
  o.pipeline_min_bytes = 0;
  in.data = {};
  EXPECT_TRUE(detail::use_pipeline(in, o));
}

}  // namespace
}  // namespace klartext::ingest
