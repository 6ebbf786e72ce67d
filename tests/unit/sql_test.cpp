// Tests for the SQL interface against both backends (SQLite, a throwaway PostgreSQL): binding, results, errors.
#include "store/sql.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace klartext::store
