// Delivery into a Maildir (the outbox): write to tmp/, fsync, rename into new/ under a unique name.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace klartext::delivery {

class Maildir {
 public:
  // Creates <root>/{tmp,new,cur} when missing. Throws std::runtime_error naming the path on failure.
  explicit Maildir(std::filesystem::path root, bool sync = true);

  // Delivers one message; returns the path of the file in new/. Throws std::runtime_error on failure
  // (the partial file in tmp/ is removed).
  std::filesystem::path deliver(std::string_view message);

  const std::filesystem::path& root() const { return root_; }

 private:
  std::string unique_name();

  std::filesystem::path root_;
  bool sync_;
  std::string host_;
};

}  // namespace klartext::delivery
