// Maildir delivery: files appear in new/ only, tmp/ stays empty, names are unique.
#include "delivery/maildir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

using namespace klartext;
namespace fs = std::filesystem;

TEST(Maildir, DeliversUniqueFilesIntoNew) {
  const fs::path root = fs::temp_directory_path() / ("klartext-maildir-test-" + std::to_string(::getpid()));
  fs::remove_all(root);
  delivery::Maildir md(root, /*sync=*/false);
  std::set<fs::path> paths;
  for (int i = 0; i < 50; ++i) paths.insert(md.deliver("Subject: " + std::to_string(i) + "\n\nx\n"));
  EXPECT_EQ(paths.size(), 50u);
  EXPECT_TRUE(fs::is_empty(root / "tmp"));
  EXPECT_TRUE(fs::is_directory(root / "cur"));
  for (const auto& p : paths) EXPECT_EQ(p.parent_path(), root / "new");
  std::ifstream in(*paths.begin());
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_TRUE(ss.str().starts_with("Subject: "));
  fs::remove_all(root);
}

TEST(Maildir, UnwritableRootThrows) {
  EXPECT_THROW(delivery::Maildir("/proc/klartext-no-such-dir/outbox"), std::runtime_error);
}

namespace {
std::size_t count_files(const fs::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& f : fs::directory_iterator(dir)) ++n;
  return n;
}
}  // namespace

// Staged letters stay in tmp/ until commit() moves them all into new/ (with one sync), in order.
TEST(Maildir, StagedLettersAppearInNewOnlyAfterCommit) {
  const fs::path root = fs::temp_directory_path() / ("klartext-maildir-stage-test-" + std::to_string(::getpid()));
  fs::remove_all(root);
  {
    delivery::Maildir md(root, /*sync=*/true);
    for (int i = 0; i < 20; ++i) md.stage("Subject: " + std::to_string(i) + "\n\nx\n");
    EXPECT_EQ(md.staged(), 20u);
    EXPECT_EQ(count_files(root / "tmp"), 20u);
    EXPECT_EQ(count_files(root / "new"), 0u);
    const auto paths = md.commit();
    ASSERT_EQ(paths.size(), 20u);
    EXPECT_EQ(md.staged(), 0u);
    EXPECT_EQ(count_files(root / "tmp"), 0u);
    EXPECT_EQ(count_files(root / "new"), 20u);
    for (int i = 0; i < 20; ++i) {
      EXPECT_EQ(paths[i].parent_path(), root / "new");
      std::ifstream in(paths[i]);
      std::stringstream ss;
      ss << in.rdbuf();
      EXPECT_EQ(ss.str(), "Subject: " + std::to_string(i) + "\n\nx\n");
    }
    EXPECT_TRUE(md.commit().empty());
    // Not committed: removed when the Maildir goes away (e.g. notify failed half-way).
    md.stage("Subject: lost\n\nx\n");
    EXPECT_EQ(count_files(root / "tmp"), 1u);
  }
  EXPECT_EQ(count_files(root / "tmp"), 0u);
  EXPECT_EQ(count_files(root / "new"), 20u);
  fs::remove_all(root);
}
