// Maildir delivery following the classic qmail protocol (unique name, tmp/ then rename into new/).
#include "delivery/maildir.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "core/timestamp.hpp"

namespace klartext::delivery {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  int release() {
    int f = fd;
    fd = -1;
    return f;
  }
};

[[noreturn]] void fail(std::string_view what, const std::filesystem::path& p, int err) {
  throw std::runtime_error(fmt::format("outbox: {} {}: {}", what, p.string(), std::strerror(err)));
}

// Host names may not contain '/' or ':' in Maildir file names.
std::string safe_host() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  std::string h;
  for (const char* c = buf; *c; ++c) {
    if (*c == '/') {
      h += "\\057";
    } else if (*c == ':') {
      h += "\\072";
    } else {
      h += *c;
    }
  }
  return h.empty() ? "localhost" : h;
}

}  // namespace

Maildir::Maildir(std::filesystem::path root, bool sync)
    : root_(std::move(root)), sync_(sync), host_(safe_host()), pid_(::getpid()) {
  for (const char* sub : {"tmp", "new", "cur"}) {
    std::error_code ec;
    std::filesystem::create_directories(root_ / sub, ec);
    if (ec) fail("cannot create", root_ / sub, ec.value());
  }
  // Files are created and renamed relative to the directories: no path lookup per letter.
  Fd tmp{::open((root_ / "tmp").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (tmp.fd < 0) fail("cannot open", root_ / "tmp", errno);
  Fd dst{::open((root_ / "new").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dst.fd < 0) fail("cannot open", root_ / "new", errno);
  tmp_fd_ = tmp.release();
  new_fd_ = dst.release();
}

Maildir::~Maildir() {
  discard_staged();
  if (tmp_fd_ >= 0) ::close(tmp_fd_);
  if (new_fd_ >= 0) ::close(new_fd_);
}

std::string Maildir::unique_name() {
  static std::atomic<std::uint64_t> counter{0};
  const std::int64_t us = core::Timestamp::now().micros();
  return fmt::format("{}.M{}P{}Q{}.{}", us / 1'000'000, us % 1'000'000, pid_,
                     counter.fetch_add(1, std::memory_order_relaxed), host_);
}

bool Maildir::write_tmp(const std::string& name, std::string_view message, bool fsync_file) {
  const std::filesystem::path tmp = root_ / "tmp" / name;
  Fd f{::openat(tmp_fd_, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (f.fd < 0 && errno == EEXIST) return false;
  if (f.fd < 0) fail("cannot create", tmp, errno);
  const char* p = message.data();
  std::size_t left = message.size();
  while (left > 0) {
    const ssize_t n = ::write(f.fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n == 0 ? EIO : errno;
      ::unlinkat(tmp_fd_, name.c_str(), 0);
      fail("cannot write", tmp, err);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if ((fsync_file && ::fsync(f.fd) != 0) || ::close(f.release()) != 0) {
    const int err = errno;
    ::unlinkat(tmp_fd_, name.c_str(), 0);
    fail("cannot write", tmp, err);
  }
  return true;
}

std::string Maildir::move_to_new(const std::string& name) {
  std::string dst = name;
  for (int attempt = 0; attempt < 10; ++attempt) {
    // Never replaces another letter: rename without replace where the file system supports it, else
    // the classic link() + unlink().
    int err = ::renameat2(tmp_fd_, name.c_str(), new_fd_, dst.c_str(), RENAME_NOREPLACE) == 0 ? 0 : errno;
    if (err == EINVAL || err == ENOSYS) {
      err = ::linkat(tmp_fd_, name.c_str(), new_fd_, dst.c_str(), 0) == 0 ? 0 : errno;
      if (err == 0) ::unlinkat(tmp_fd_, name.c_str(), 0);
    }
    if (err == 0) return dst;
    if (err != EEXIST) {
      ::unlinkat(tmp_fd_, name.c_str(), 0);
      fail("cannot deliver", root_ / "new" / dst, err);
    }
    dst = unique_name();
  }
  ::unlinkat(tmp_fd_, name.c_str(), 0);
  throw std::runtime_error("outbox: no unique file name in " + root_.string());
}

void Maildir::sync_new() {
  if (sync_ && ::fsync(new_fd_) != 0) fail("cannot sync", root_ / "new", errno);
}

std::string Maildir::write_new_tmp(std::string_view message, bool fsync_file) {
  for (int attempt = 0; attempt < 10; ++attempt) {
    std::string name = unique_name();
    if (write_tmp(name, message, fsync_file)) return name;  // else another process's file of that name
  }
  throw std::runtime_error("outbox: no unique file name in " + root_.string());
}

std::filesystem::path Maildir::deliver(std::string_view message) {
  const std::string dst = move_to_new(write_new_tmp(message, sync_));
  sync_new();
  return root_ / "new" / dst;
}

void Maildir::stage(std::string_view message) {
  staged_.push_back(write_new_tmp(message, /*fsync_file=*/false));
}

std::vector<std::filesystem::path> Maildir::commit() {
  std::vector<std::filesystem::path> paths;
  if (staged_.empty()) return paths;
  // One sync of the file system writes every staged file (data and inode) at once; then the
  // renames, and one sync of new/ for their directory entries.
  if (sync_ && ::syncfs(tmp_fd_) != 0) {
    const int err = errno;
    discard_staged();
    fail("cannot sync", root_ / "tmp", err);
  }
  paths.reserve(staged_.size());
  try {
    for (std::size_t i = 0; i < staged_.size(); ++i) {
      paths.push_back(root_ / "new" / move_to_new(staged_[i]));
      staged_[i].clear();  // moved
    }
    sync_new();
  } catch (...) {
    discard_staged();
    throw;
  }
  staged_.clear();
  return paths;
}

void Maildir::discard_staged() {
  for (const std::string& name : staged_) {
    if (!name.empty()) ::unlinkat(tmp_fd_, name.c_str(), 0);
  }
  staged_.clear();
}

}  // namespace klartext::delivery
