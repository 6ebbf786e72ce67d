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
