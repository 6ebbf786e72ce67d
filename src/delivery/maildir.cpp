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

Maildir::Maildir(std::filesystem::path root, bool sync) : root_(std::move(root)), sync_(sync), host_(safe_host()) {
  for (const char* sub : {"tmp", "new", "cur"}) {
    std::error_code ec;
    std::filesystem::create_directories(root_ / sub, ec);
    if (ec) fail("cannot create", root_ / sub, ec.value());
  }
}

std::string Maildir::unique_name() {
  static std::atomic<std::uint64_t> counter{0};
  const std::int64_t us = core::Timestamp::now().micros();
  return fmt::format("{}.M{}P{}Q{}.{}", us / 1'000'000, us % 1'000'000, ::getpid(),
                     counter.fetch_add(1, std::memory_order_relaxed), host_);
}

std::filesystem::path Maildir::deliver(std::string_view message) {
  for (int attempt = 0; attempt < 10; ++attempt) {
    const std::string name = unique_name();
    const std::filesystem::path tmp = root_ / "tmp" / name;
    const std::filesystem::path dst = root_ / "new" / name;
    Fd f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
    if (f.fd < 0) {
      if (errno == EEXIST) continue;
      fail("cannot create", tmp, errno);
    }
    const char* p = message.data();
    std::size_t left = message.size();
    while (left > 0) {
      const ssize_t n = ::write(f.fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        fail("cannot write", tmp, err);
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    if ((sync_ && ::fsync(f.fd) != 0) || ::close(f.release()) != 0) {
      const int err = errno;
      ::unlink(tmp.c_str());
      fail("cannot write", tmp, err);
    }
    // Never replaces another letter: rename without replace where the file system supports it, else
    // the classic link() + unlink().
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dst.c_str(), RENAME_NOREPLACE) != 0) {
      int err = errno;
      if (err == EINVAL || err == ENOSYS) {
        err = ::link(tmp.c_str(), dst.c_str()) == 0 ? 0 : errno;
        ::unlink(tmp.c_str());
      } else {
        ::unlink(tmp.c_str());
      }
      if (err == EEXIST) continue;
      if (err != 0) fail("cannot deliver", dst, err);
    }
    return dst;
  }
  throw std::runtime_error("outbox: no unique file name in " + root_.string());
}

}  // namespace klartext::delivery
