// Maildir and mbox intake: splitting, unescaping, and the new/ -> cur/ commit contract.
#include "intake/mail_source.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "intake/sources.hpp"

namespace klartext::intake {
namespace {

namespace fs = std::filesystem;

TEST(Mbox, SplitsAtFromLinesAfterBlankLines) {
  std::string mbox =
      "From a@example.org Fri Nov 27 00:00:00 2026\nSubject: one\n\nbody one\nFrom inside the body\n\n"
      "From b@example.org Fri Nov 27 00:00:01 2026\nSubject: two\n\nbody two\n";
  auto msgs = detail::split_mbox(mbox);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0], "Subject: one\n\nbody one\nFrom inside the body\n");
  EXPECT_EQ(msgs[1], "Subject: two\n\nbody two\n");
}

TEST(Mbox, KeepsBytesBeforeTheFirstFromLine) {
  auto msgs = detail::split_mbox("Subject: stray\n\nx\n\nFrom a Fri\nSubject: y\n\nz\n");
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0], "Subject: stray\n\nx\n");
}

TEST(Mbox, UnescapesFromLinesMboxrdStyle) {
  std::string out;
  EXPECT_TRUE(detail::unescape_mbox_from("a\n>From x\n>>From y\n> From z\n", out));
  EXPECT_EQ(out, "a\nFrom x\n>From y\n> From z\n");
  EXPECT_FALSE(detail::unescape_mbox_from("plain\n", out));
}

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("klartext-maildir-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    fs::create_directories(path_ / "new");
    fs::create_directories(path_ / "cur");
    fs::create_directories(path_ / "tmp");
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write(const fs::path& p, const std::string& s) {
  std::ofstream(p) << s;
}

TEST(Maildir, MovesToCurOnlyAfterTheCallbackReturned) {
  TempDir dir;
  write(dir.path() / "new" / "1.host", "Subject: a\n\nx\n");
  write(dir.path() / "new" / "2.host", "Subject: b\n\ny\n");
  write(dir.path() / "cur" / "0.host:2,S", "Subject: old\n\nz\n");
  std::vector<std::string> seen;
  std::size_t unreadable = 0;
  auto n = for_each_maildir_mail(
      dir.path().string(),
      [&](const formats::Input& in) {
        seen.push_back(fs::path(in.name).filename().string());
        // While the callback runs, the mail is still in new/ (not yet committed).
        if (in.name.find("/new/") != std::string::npos) {
          EXPECT_TRUE(fs::exists(in.name));
        }
        if (seen.back() == "2.host") throw std::runtime_error("store down");
      },
      [](const std::string&, const std::string&) {}, unreadable);
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(unreadable, 1u);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], "0.host:2,S");  // cur/ first
  EXPECT_TRUE(fs::exists(dir.path() / "cur" / "1.host:2,"));
  EXPECT_FALSE(fs::exists(dir.path() / "new" / "1.host"));
  EXPECT_TRUE(fs::exists(dir.path() / "new" / "2.host"));  // failed: read again next run
}

TEST(Maildir, RejectsADirectoryWithoutNewOrCur) {
  std::size_t unreadable = 0;
  std::string why;
  for_each_maildir_mail(
      "/nonexistent-maildir", [](const formats::Input&) {}, [&](const std::string&, const std::string& w) { why = w; },
      unreadable);
  EXPECT_EQ(unreadable, 1u);
  EXPECT_NE(why.find("not a Maildir"), std::string::npos);
}

TEST(Mbox, ForEachNamesMailsByIndex) {
  TempDir dir;
  fs::path p = dir.path() / "box.mbox";
  write(p, "From a Fri\nSubject: one\n\n>From quoted\n\nFrom b Fri\nSubject: two\n\nx\n");
  std::vector<std::string> names, bodies;
  std::size_t unreadable = 0;
  for_each_mbox_mail(
      p.string(),
      [&](const formats::Input& in) {
        names.push_back(in.name);
        bodies.emplace_back(in.data);
      },
      [](const std::string&, const std::string&) {}, unreadable);
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0], p.string() + "#1");
  EXPECT_EQ(bodies[0], "Subject: one\n\nFrom quoted\n");
}

}  // namespace
}  // namespace klartext::intake
