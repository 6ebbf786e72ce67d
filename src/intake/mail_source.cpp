// Maildir and mbox intake: one Input per mail, Maildir mails committed by moving new/ -> cur/.
#include "intake/mail_source.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "intake/file_source.hpp"

namespace klartext::intake {

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> list_files(const fs::path& dir, const SourceErrorFn& on_error, std::size_t& unreadable) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;  // Maildir temp/dot files
    std::error_code fec;
    if (it->is_regular_file(fec)) out.push_back(it->path());
  }
  if (ec) {
    ++unreadable;
    on_error(dir.string(), ec.message());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Maildir file name after delivery into cur/: keep flags already present, else add ":2,".
std::string cur_name(const std::string& name) {
  if (name.find(":2,") != std::string::npos) return name;
  return name + ":2,";
}

}  // namespace

std::size_t for_each_maildir_mail(const std::string& dir, const InputFn& fn, const SourceErrorFn& on_error,
                                  std::size_t& unreadable) {
  fs::path root(dir);
  std::error_code ec;
  if (!fs::is_directory(root / "new", ec) && !fs::is_directory(root / "cur", ec)) {
    ++unreadable;
    on_error(dir, "not a Maildir (no new/ or cur/)");
    return 0;
  }
  std::size_t count = 0;
  for (const auto& p : list_files(root / "cur", on_error, unreadable)) {
    try {
      with_file_input(p.string(), [&](const formats::Input& in) {
        ++count;
        fn(in);
      });
    } catch (const std::exception& e) {
      ++unreadable;
      on_error(p.string(), e.what());
    }
  }
  for (const auto& p : list_files(root / "new", on_error, unreadable)) {
    bool done = false;
    try {
      with_file_input(p.string(), [&](const formats::Input& in) {
        ++count;
        fn(in);
      });
      done = true;
    } catch (const std::exception& e) {
      ++unreadable;
      on_error(p.string(), e.what());
    }
    if (!done) continue;  // stays in new/: the next run reads it again
    fs::create_directories(root / "cur", ec);
    fs::rename(p, root / "cur" / cur_name(p.filename().string()), ec);
    if (ec) on_error(p.string(), "processed but cannot move to cur/: " + ec.message());
  }
  return count;
}

namespace detail {

std::vector<std::string_view> split_mbox(std::string_view data) {
  std::vector<std::string_view> out;
  // A message starts at a "From " line at the start of the file or after an empty line.
  std::size_t start = std::string_view::npos;
  std::size_t pos = 0;
  bool prev_blank = true;
  while (pos < data.size()) {
    std::size_t eol = data.find('\n', pos);
    std::size_t next = eol == std::string_view::npos ? data.size() : eol + 1;
    std::string_view line = data.substr(pos, next - pos);
    if (prev_blank && line.starts_with("From ")) {
      if (start != std::string_view::npos) out.push_back(data.substr(start, pos - start));
      start = next;
    } else if (start == std::string_view::npos && !line.empty() && line != "\n" && line != "\r\n") {
      // Bytes before the first From_ line: treat them as a message of their own (not an mbox
      // separator, but nothing may be dropped silently).
      start = pos;
    }
    prev_blank = line == "\n" || line == "\r\n";
    pos = next;
  }
  if (start != std::string_view::npos && start < data.size()) out.push_back(data.substr(start));
  // The blank line before the next From_ belongs to the separator.
  for (auto& m : out) {
    if (m.ends_with("\r\n\r\n")) {
      m.remove_suffix(2);
    } else if (m.ends_with("\n\n")) {
      m.remove_suffix(1);
    }
  }
  return out;
}

bool unescape_mbox_from(std::string_view message, std::string& out) {
  out.clear();
  bool changed = false;
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t eol = message.find('\n', pos);
    std::size_t next = eol == std::string_view::npos ? message.size() : eol + 1;
    std::string_view line = message.substr(pos, next - pos);
    std::size_t gt = 0;
    while (gt < line.size() && line[gt] == '>') ++gt;
    if (gt > 0 && line.substr(gt).starts_with("From ")) {
      line.remove_prefix(1);
      changed = true;
    }
    out.append(line);
    pos = next;
  }
  return changed;
}

}  // namespace detail

std::size_t for_each_mbox_mail(const std::string& path, const InputFn& fn, const SourceErrorFn& on_error,
                               std::size_t& unreadable) {
  std::size_t count = 0;
  try {
    MappedFile file(path);
    auto messages = detail::split_mbox(file.data());
    std::string unescaped;
    std::string base = fs::path(path).filename().string();
    for (std::size_t i = 0; i < messages.size(); ++i) {
      formats::Input in;
      in.name = path + "#" + std::to_string(i + 1);
      in.filename_hint = base + "#" + std::to_string(i + 1) + ".eml";
      in.data = detail::unescape_mbox_from(messages[i], unescaped) ? std::string_view(unescaped) : messages[i];
      ++count;
      try {
        fn(in);
      } catch (const std::exception& e) {
        ++unreadable;
        on_error(in.name, e.what());
      }
      std::size_t done = static_cast<std::size_t>(messages[i].data() + messages[i].size() - file.data().data());
      file.release_before(done);
    }
  } catch (const std::exception& e) {
    ++unreadable;
    on_error(path, e.what());
  }
  return count;
}

}  // namespace klartext::intake
