// Tests for the PostgreSQL backend's `?` -> `$n` translation (no server needed).
#include "store/postgres_sql.hpp"

#include <gtest/gtest.h>

namespace klartext::store::detail {
namespace {

std::string translate(std::string_view sql, int expected_count) {
  int count = -1;
  auto out = postgres_placeholders(sql, count);
  EXPECT_EQ(count, expected_count) << sql;
  return out;
}

TEST(PostgresPlaceholders, NumbersParametersInOrder) {
  EXPECT_EQ(translate("SELECT 1", 0), "SELECT 1");
  EXPECT_EQ(translate("INSERT INTO t (a, b) VALUES (?, ?)", 2), "INSERT INTO t (a, b) VALUES ($1, $2)");
  EXPECT_EQ(translate("?,?,?,?,?,?,?,?,?,?,?", 11), "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11");
}

TEST(PostgresPlaceholders, LeavesQuotedAndCommentedQuestionMarksAlone) {
  EXPECT_EQ(translate("SELECT '?', ? FROM t WHERE a = 'it''s?' AND b = ?", 2),
            "SELECT '?', $1 FROM t WHERE a = 'it''s?' AND b = $2");
  EXPECT_EQ(translate(R"(SELECT "we?ird" FROM t WHERE x = ?)", 1), R"(SELECT "we?ird" FROM t WHERE x = $1)");
  EXPECT_EQ(translate("SELECT ? -- why?\n, ? /* what? */ , ?", 3), "SELECT $1 -- why?\n, $2 /* what? */ , $3");
  EXPECT_EQ(translate(R"(SELECT E'a\'?', ?)", 1), R"(SELECT E'a\'?', $1)");
  // A backslash in a standard string is an ordinary character.
  EXPECT_EQ(translate(R"(SELECT 'a\', ?)", 1), R"(SELECT 'a\', $1)");
  EXPECT_EQ(translate("SELECT $$?$$, $tag$ ? $$ ? $tag$, ?", 1), "SELECT $$?$$, $tag$ ? $$ ? $tag$, $1");
  EXPECT_EQ(translate("SELECT $1, ?", 1), "SELECT $1, $1");  // mixing styles is the caller's problem
}

TEST(PostgresPlaceholders, UnterminatedQuotesDoNotRunPastTheEnd) {
  EXPECT_EQ(translate("SELECT 'abc ?", 0), "SELECT 'abc ?");
  EXPECT_EQ(translate("SELECT E'abc\\", 0), "SELECT E'abc\\");
  EXPECT_EQ(translate("SELECT \"abc ?", 0), "SELECT \"abc ?");
  EXPECT_EQ(translate("SELECT /* ?", 0), "SELECT /* ?");
  EXPECT_EQ(translate("SELECT $x$ ?", 0), "SELECT $x$ ?");
  EXPECT_EQ(translate("?--", 1), "$1--");
  EXPECT_EQ(translate("$", 0), "$");
}

}  // namespace
}  // namespace klartext::store::detail
