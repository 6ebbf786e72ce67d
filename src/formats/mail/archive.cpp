// libarchive reader over an in-memory attachment, with bomb protection (size and ratio limits).
#include "formats/mail/archive.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <memory>

namespace klartext::formats::mail {

namespace {
struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
}  // namespace

bool looks_compressed(std::string_view d) {
  auto b = [&](std::size_t i) { return i < d.size() ? static_cast<unsigned char>(d[i]) : 0u; };
  if (d.starts_with("PK\x03\x04") || d.starts_with("PK\x05\x06")) return true;
  if (b(0) == 0x1f && b(1) == 0x8b) return true;  // gzip
  if (d.starts_with("BZh")) return true;
  if (b(0) == 0xfd && d.substr(1, 4) == "7zXZ") return true;
  return false;
}

namespace {
// A bare gzip stream ends with its uncompressed size modulo 2^32 (RFC 1952 ISIZE).
std::uint64_t gzip_size_hint(std::string_view d) {
  if (d.size() < 18 || static_cast<unsigned char>(d[0]) != 0x1f || static_cast<unsigned char>(d[1]) != 0x8b) return 0;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 4; ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(d[d.size() - 4 + i])) << (8 * i);
  return v;
}
}  // namespace

bool for_each_member(std::string_view data, const std::string& name, ParseContext& ctx,
                     const std::function<void(const std::string&, std::string_view)>& fn) {
  std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_zip(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_raw(a.get());  // a bare .gz: one unnamed member
  if (archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK) {
    ctx.issue("archive-unreadable", 0, 0, std::string("cannot open archive: ") + archive_error_string(a.get()), name);
    return false;
  }
  const std::uint64_t max_total = ctx.limits().max_decompressed_bytes;
  const std::uint64_t max_ratio_total = ctx.limits().max_decompression_ratio * std::max<std::uint64_t>(data.size(), 1);
  std::uint64_t total = 0;
  std::string member;
  archive_entry* entry = nullptr;
  while (true) {
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      ctx.issue("archive-unreadable", 0, 0, std::string("archive damaged: ") + archive_error_string(a.get()), name);
      return total > 0;
    }
    if (archive_entry_filetype(entry) != 0 && archive_entry_filetype(entry) != AE_IFREG) continue;
    std::string mname;
    if (const char* p = archive_entry_pathname(entry); p != nullptr && std::string_view(p) != "data") {
      mname = p;
    } else {
      mname = name;
      for (std::string_view ext : {".gz", ".gzip", ".bz2", ".xz"}) {
        if (mname.size() > ext.size() && mname.ends_with(ext)) {
          mname.resize(mname.size() - ext.size());
          break;
        }
      }
    }
    member.clear();
    // One allocation instead of doubling (a 200 MB report would copy ~200 MB more and peak at
    // twice its size): the size the archive states (zip), else gzip's trailer (size mod 2^32), both
    // only hints and capped by the limits, so a lying header costs address space, not memory.
    std::uint64_t hint =
        archive_entry_size_is_set(entry) ? static_cast<std::uint64_t>(archive_entry_size(entry)) : gzip_size_hint(data);
    member.reserve(static_cast<std::size_t>(
        std::min({hint, max_total - std::min(total, max_total), max_ratio_total - std::min(total, max_ratio_total),
                  ctx.limits().max_attachment_bytes})));
    char buf[64 << 10];
    bool over = false;
    while (true) {
      la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
      if (n == 0) break;
      if (n < 0) {
        ctx.issue("archive-unreadable", 0, 0, std::string("archive member damaged: ") + archive_error_string(a.get()),
                  mname);
        break;
      }
      total += static_cast<std::uint64_t>(n);
      if (total > max_total || total > max_ratio_total) {
        over = true;
        break;
      }
      if (member.size() + static_cast<std::size_t>(n) > ctx.limits().max_attachment_bytes) {
        over = true;
        break;
      }
      member.append(buf, static_cast<std::size_t>(n));
    }
    if (over) {
      ctx.issue("decompression-limit", 0, 0,
                "archive expands beyond limits.max_decompressed_bytes, max_decompression_ratio or "
                "max_attachment_bytes; unpacking stopped",
                mname, "raise the [limits] if this archive is legitimate");
      return true;
    }
    fn(mname, member);
  }
  return true;
}

}  // namespace klartext::formats::mail
