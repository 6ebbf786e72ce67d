// Tests for the SQL interface against both backends (SQLite, a throwaway PostgreSQL): binding, results, errors.
#include "store/sql.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "pg_cluster.hpp"

namespace klartext::store {
namespace {

// Parameter: the backend ("sqlite" or "postgres").
class SqlTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      std::string why;
      auto* pg = testing::PgCluster::get(why);
      if (pg == nullptr) GTEST_SKIP() << "PostgreSQL tests skipped: " << why;
      db_ = open_postgres(pg->create_database());
    } else {
      db_ = open_sqlite(":memory:");
    }
    db_->exec_script("CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT, n BIGINT, d DOUBLE PRECISION);");
  }
  std::unique_ptr<Connection> db_;
};

INSTANTIATE_TEST_SUITE_P(Backends, SqlTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST_P(SqlTest, BindsAndReadsEveryType) {
  auto& ins = db_->prepare("INSERT INTO t (id, v, n, d) VALUES (?, ?, ?, ?)");
  ins.bind(1, 1).bind(2, "it's ? \"x\" — ü").bind(3, std::int64_t{-9'007'199'254'740'993}).bind(4, -0.1).execute();
  EXPECT_EQ(ins.changes(), 1);
  ins.reset().bind(1, 2).bind_null(2).bind(3, std::optional<std::int64_t>{}).bind(4, 1e300).execute();
  EXPECT_EQ(db_->prepare("INSERT INTO t (id, v) VALUES (?, '?')").bind(1, 3).step(), false);

  auto& sel = db_->prepare("SELECT id, v, n, d FROM t WHERE id >= ? ORDER BY id");
  sel.bind(1, 1);
  ASSERT_TRUE(sel.step());
  EXPECT_EQ(sel.get_int(0), 1);
  EXPECT_EQ(sel.get_text(1), "it's ? \"x\" — ü");
  EXPECT_EQ(sel.get_int(2), -9'007'199'254'740'993);
  EXPECT_EQ(sel.get_double(3), -0.1);
  ASSERT_TRUE(sel.step());
  EXPECT_TRUE(sel.is_null(1));
  EXPECT_FALSE(sel.get_opt_int(2));
  EXPECT_EQ(sel.get_double(3), 1e300);
  ASSERT_TRUE(sel.step());
  EXPECT_EQ(sel.get_text(1), "?");
  EXPECT_FALSE(sel.step());
  EXPECT_FALSE(sel.step());

  // Cached per SQL text: the same statement again, reset.
  auto& again = db_->prepare("SELECT id, v, n, d FROM t WHERE id >= ? ORDER BY id");
  EXPECT_EQ(&again, &sel);
  again.bind(1, 3);
  ASSERT_TRUE(again.step());
  EXPECT_EQ(again.get_int(0), 3);

  auto& upd = db_->prepare("UPDATE t SET n = ? WHERE id <= ?");
  upd.bind(1, 5).bind(2, 2).execute();
  EXPECT_EQ(upd.changes(), 2);
}

TEST_P(SqlTest, TextThatIsNotUtf8) {
  // SQLite keeps any bytes; PostgreSQL text cannot hold NUL or invalid UTF-8, so those bytes become
  // U+FFFD rather than failing the statement (the original bytes live in blobs).
  const std::string odd = std::string("a\xff\xfe b ", 6) + std::string(1, '\0') + "c \xc3\xbc \xe2\x82";
  db_->prepare("INSERT INTO t (id, v) VALUES (?, ?)").bind(1, 1).bind(2, odd).execute();
  auto& sel = db_->prepare("SELECT v FROM t WHERE id = 1");
  ASSERT_TRUE(sel.step());
  if (GetParam() == "postgres") {
    EXPECT_EQ(sel.get_text(0),
              "a\xef\xbf\xbd\xef\xbf\xbd b \xef\xbf\xbd"
              "c \xc3\xbc \xef\xbf\xbd\xef\xbf\xbd");
  } else {
    EXPECT_EQ(sel.get_text(0), odd);
  }
}

TEST_P(SqlTest, BlobsKeepEveryByte) {
  db_->exec_script(GetParam() == "postgres" ? "CREATE TABLE b (id BIGINT PRIMARY KEY, x BYTEA)"
                                            : "CREATE TABLE b (id BIGINT PRIMARY KEY, x BLOB)");
  std::string bytes;
  for (int i = 0; i < 512; ++i) bytes += static_cast<char>(i * 7);
  auto& ins = db_->prepare("INSERT INTO b (id, x) VALUES (?, ?)");
  ins.bind(1, 1).bind_blob(2, bytes).execute();
  ins.reset().bind(1, 2).bind_blob(2, "").execute();
  auto& sel = db_->prepare("SELECT x FROM b ORDER BY id");
  ASSERT_TRUE(sel.step());
  EXPECT_EQ(sel.get_blob(0), bytes);
  ASSERT_TRUE(sel.step());
  EXPECT_EQ(sel.get_blob(0), "");
  EXPECT_FALSE(sel.is_null(0));
}

TEST_P(SqlTest, ReturningAndLastInsertId) {
  auto& ins = db_->prepare("INSERT INTO t (id, v) VALUES (?, ?) RETURNING id");
  ins.bind(1, 42).bind(2, "x");
  ASSERT_TRUE(ins.step());
  EXPECT_EQ(ins.get_int(0), 42);
  EXPECT_FALSE(ins.step());
  if (GetParam() == "postgres") {
    EXPECT_EQ(ins.last_insert_id(), -1);  // no row ids: use RETURNING
  }
}

TEST_P(SqlTest, ErrorsCarryTheServerMessage) {
  try {
    db_->prepare("SELECT nope FROM no_such_table WHERE x = ?").bind(1, 1).execute();
    FAIL() << "no error";
  } catch (const SqlError& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_table"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).rfind(GetParam() + ":", 0), 0u) << e.what();
  }
  EXPECT_THROW(db_->prepare("SELECT ?").bind(2, 1), SqlError);  // no such parameter
  EXPECT_THROW(db_->exec_script("CREATE TABLE t (id BIGINT)"), SqlError);
  db_->prepare("INSERT INTO t (id) VALUES (?)").bind(1, 1).execute();
  EXPECT_THROW(db_->prepare("INSERT INTO t (id) VALUES (?)").bind(1, 1).execute(), SqlError);  // duplicate key
}

TEST_P(SqlTest, RollbackAndCommit) {
  db_->begin();
  db_->prepare("INSERT INTO t (id) VALUES (?)").bind(1, 1).execute();
  db_->rollback();
  db_->rollback();  // outside a transaction: nothing to do
  db_->begin();
  db_->prepare("INSERT INTO t (id) VALUES (?)").bind(1, 2).execute();
  db_->commit();
  auto& count = db_->prepare("SELECT COUNT(*), MAX(id) FROM t");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.get_int(0), 1);
  EXPECT_EQ(count.get_int(1), 2);
}

// The backends differ here, and callers must not rely on either: a failed statement aborts the
// whole PostgreSQL transaction (commit throws and rolls back); SQLite only undoes that statement.
TEST_P(SqlTest, CommitAfterAFailedStatement) {
  db_->begin();
  db_->prepare("INSERT INTO t (id) VALUES (?)").bind(1, 1).execute();
  EXPECT_THROW(db_->prepare("INSERT INTO t (id) VALUES (?)").bind(1, 1).execute(), SqlError);
  if (GetParam() == "postgres") {
    EXPECT_THROW(db_->commit(), SqlError);
  } else {
    db_->commit();
  }
  auto& count = db_->prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.get_int(0), GetParam() == "postgres" ? 0 : 1);
}

// SQLite in a file (write-ahead log, a second connection as another process would have it).
class SqliteFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("klartext-sql-test-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    path_ = (dir_ / "k.db").string();
    db_ = open_sqlite(path_);
    db_->exec_script("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB);");
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  void insert_rows(Connection& c, int first, int n) {
    c.begin();
    for (int i = first; i < first + n; ++i)
      c.prepare("INSERT INTO t (id, b) VALUES (?, ?)").bind(1, i).bind_blob(2, std::string(20'000, 'x')).execute();
    c.commit();
  }
  // Frames in the log and frames of it copied into the database, by a passive checkpoint of `c`.
  static std::pair<std::int64_t, std::int64_t> checkpoint(Connection& c) {
    auto& st = c.prepare("PRAGMA wal_checkpoint(PASSIVE)");
    EXPECT_TRUE(st.step());
    return {st.get_int(1), st.get_int(2)};
  }
  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<Connection> db_;
};

// A lookup stepped to its one row and left there must not keep its read snapshot past the commit:
// the log could then never be copied beyond it (nor start over).
TEST_F(SqliteFileTest, ALookupLeftOnItsRowDoesNotHoldTheLogBack) {
  insert_rows(*db_, 1, 3);
  db_->begin();
  auto& lookup = db_->prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(lookup.step());
  EXPECT_EQ(lookup.get_int(0), 3);
  db_->prepare("INSERT INTO t (id) VALUES (?)").bind(1, 10).execute();
  db_->commit();
  insert_rows(*db_, 20, 3);

  auto other = open_sqlite(path_);
  auto [log, copied] = checkpoint(*other);
  EXPECT_GT(log, 0);
  EXPECT_EQ(copied, log);
}

// Bulk writes: each commit's log is copied by the background connection; switched off, nothing is
// left to copy; the close leaves no log behind and every row is there.
TEST_F(SqliteFileTest, BulkWritesCopyEachCommitInTheBackground) {
  db_->set_bulk_writes(true);
  db_->set_bulk_writes(true);  // already on: nothing changes
  // Slices of ~20 MB: each commit leaves more log than the background copy waits for.
  for (int slice = 0; slice < 4; ++slice) insert_rows(*db_, slice * 1000, 1000);
  db_->set_bulk_writes(false);
  // In the database file already (no other checkpoint ran: the usual ones are off meanwhile).
  EXPECT_GT(std::filesystem::file_size(path_), 4u * 1000 * 20'000);
  {
    auto other = open_sqlite(path_);
    auto [log, copied] = checkpoint(*other);
    EXPECT_EQ(copied, log);
  }
  insert_rows(*db_, 10'000, 5);  // the usual checkpoints again
  db_.reset();
  EXPECT_FALSE(std::filesystem::exists(path_ + "-wal"));
  db_ = open_sqlite(path_);
  auto& count = db_->prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.get_int(0), 4 * 1000 + 5);
}

// Closed while bulk writes are on (an ingest that failed): the background work ends first and the
// close still copies the whole log.
TEST_F(SqliteFileTest, ClosedWithBulkWritesOn) {
  db_->set_bulk_writes(true);
  insert_rows(*db_, 0, 100);
  db_->begin();
  db_->prepare("INSERT INTO t (id) VALUES (?)").bind(1, 5000).execute();
  db_.reset();  // uncommitted: rolled back
  EXPECT_FALSE(std::filesystem::exists(path_ + "-wal"));
  db_ = open_sqlite(path_);
  auto& count = db_->prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.get_int(0), 100);
}

TEST(SqliteMemoryTest, BulkWritesInMemoryAreANoOp) {
  auto db = open_sqlite(":memory:");
  db->set_bulk_writes(true);
  db->exec_script("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);");
  db->set_bulk_writes(false);
  auto& count = db->prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.get_int(0), 1);
}

}  // namespace
}  // namespace klartext::store
