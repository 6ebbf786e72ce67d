// Delivery into a Maildir (the outbox): write to tmp/, fsync, rename into new/ under a unique name.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace klartext::delivery {

class Maildir {
 public:
  // Creates <root>/{tmp,new,cur} when missing. Throws std::runtime_error naming the path on failure.
  // With sync, a message is on disk (file and directory entry) before deliver()/commit() returns.
  explicit Maildir(std::filesystem::path root, bool sync = true);
  ~Maildir();  // removes staged messages that were not committed
  Maildir(const Maildir&) = delete;
  Maildir& operator=(const Maildir&) = delete;

  // Delivers one message; returns the path of the file in new/. Throws std::runtime_error on failure
  // (the partial file in tmp/ is removed).
  std::filesystem::path deliver(std::string_view message);

  // Many messages: stage() writes each into tmp/ (invisible to readers of new/); commit() makes all
  // staged messages durable with one file-system sync (syncfs), renames them into new/ and syncs new/
  // once, and returns their paths in staging order. Per message that spares an fsync and its journal
  // commit. A crash before commit() leaves only files in tmp/ (which Maildir readers ignore).
  // Both throw std::runtime_error; a failed commit() removes the messages still in tmp/.
  void stage(std::string_view message);
  std::vector<std::filesystem::path> commit();
  std::size_t staged() const { return staged_.size(); }

  const std::filesystem::path& root() const { return root_; }

 private:
  std::string unique_name();
  // False when the name is taken; throws on other failures.
  bool write_tmp(const std::string& name, std::string_view message, bool fsync_file);
  std::string write_new_tmp(std::string_view message, bool fsync_file);  // a fresh name in tmp/; its name
  std::string move_to_new(const std::string& name);                      // the name in new/ (another one if taken)
  void sync_new();
  void discard_staged();

  std::filesystem::path root_;
  bool sync_;
  std::string host_;
  long pid_;
  int tmp_fd_ = -1;
  int new_fd_ = -1;
  std::vector<std::string> staged_;  // names in tmp/
};

}  // namespace klartext::delivery
