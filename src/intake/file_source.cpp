// Memory-mapped file input, directory expansion and stdin.
#include "intake/file_source.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <stdexcept>

namespace klartext::intake {

namespace fs = std::filesystem;

namespace {
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};
std::string sys_error(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}
}  // namespace

MappedFile::MappedFile(const std::string& path) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) throw std::runtime_error(sys_error("cannot open", path));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) throw std::runtime_error(sys_error("cannot stat", path));
  if (S_ISDIR(st.st_mode)) throw std::runtime_error("is a directory: " + path);
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ == 0) return;
  addr_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, f.fd, 0);
  if (addr_ == MAP_FAILED) {
    addr_ = nullptr;
    throw std::runtime_error(sys_error("cannot map", path));
  }
  ::madvise(addr_, size_, MADV_SEQUENTIAL);
}

MappedFile::~MappedFile() {
  if (addr_ != nullptr) ::munmap(addr_, size_);
}

void MappedFile::release_before(std::size_t offset) {
  static const std::size_t kPage = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  constexpr std::size_t kChunk = 8u << 20;  // drop in 8 MiB steps
  if (addr_ == nullptr || offset < released_ + kChunk) return;
  std::size_t upto = std::min(offset, size_) / kPage * kPage;
  if (upto <= released_) return;
  ::madvise(static_cast<char*>(addr_) + released_, upto - released_, MADV_DONTNEED);
  released_ = upto;
}

std::string read_stdin() {
  std::string s;
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(0, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("cannot read stdin: ") + std::strerror(errno));
    }
    if (n == 0) break;
    s.append(buf, static_cast<std::size_t>(n));
  }
  return s;
}

std::string read_file(const std::string& path) {
  MappedFile m(path);
  return std::string(m.data());
}

std::vector<std::string> expand_paths(const std::vector<std::string>& paths,
                                      const std::function<void(const std::string&, const std::string&)>& on_error) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    if (p == "-") {
      out.push_back(p);
      continue;
    }
    std::error_code ec;
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
      on_error(p, "no such file or directory");
      continue;
    }
    if (fs::is_directory(st)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (!name.empty() && name[0] == '.') {
          if (it->is_directory()) it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file()) found.push_back(it->path().string());
      }
      if (ec) on_error(p, ec.message());
      std::sort(found.begin(), found.end());
      out.insert(out.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
    } else {
      out.push_back(p);
    }
  }
  return out;
}

void with_file_input(const std::string& path, const std::function<void(const formats::Input&)>& fn) {
  formats::Input in;
  if (path == "-") {
    std::string data = read_stdin();
    in.name = "<stdin>";
    in.data = data;
    fn(in);
    return;
  }
  MappedFile m(path);
  in.name = path;
  in.filename_hint = fs::path(path).filename().string();
  in.data = m.data();
  in.release = [&m](std::size_t off) { m.release_before(off); };
  fn(in);
}

}  // namespace klartext::intake
