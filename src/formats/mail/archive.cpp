// libarchive reader over an in-memory attachment, with bomb protection (size and ratio limits).
#include "formats/mail/archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <libdeflate.h>

#include <algorithm>
#include <cstring>
#include <memory>

// zlib's crc32, which libarchive calls on every decompressed byte of a zip member to check it,
// computed by libdeflate (carry-less multiplication, about ten times zlib 1.2.13's speed): the
// executable's definition takes the place of zlib's for the whole process. The same checksum
// (zlib's convention: start at 0, pre- and post-inverted), so nothing else can tell.
extern "C" unsigned long crc32(unsigned long crc, const unsigned char* buf, unsigned int len) {
  if (buf == nullptr) return 0;  // zlib: the initial value
  return libdeflate_crc32(static_cast<std::uint32_t>(crc), buf, len);
}

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

bool ArchiveMember::hint_within_limits() const {
  const std::uint64_t before = totals_.total - size_;
  return hint_ != 0 && hint_ <= ctx_.limits().max_attachment_bytes && before + hint_ <= totals_.max_total &&
         before + hint_ <= totals_.max_ratio_total;
}

std::size_t ArchiveMember::read_step(char* dst) {
  if (ended_) return 0;
  la_ssize_t n = archive_read_data(a_, dst, kStep);
  if (n == 0) {
    ended_ = true;
    return 0;
  }
  if (n < 0) {
    ctx_.issue("archive-unreadable", 0, 0, std::string("archive member damaged: ") + archive_error_string(a_), name_);
    ended_ = true;
    return 0;
  }
  totals_.total += static_cast<std::uint64_t>(n);
  size_ += static_cast<std::uint64_t>(n);
  if (totals_.total > totals_.max_total || totals_.total > totals_.max_ratio_total ||
      size_ > ctx_.limits().max_attachment_bytes) {
    ctx_.issue("decompression-limit", 0, 0,
               "archive expands beyond limits.max_decompressed_bytes, max_decompression_ratio or "
               "max_attachment_bytes; unpacking stopped",
               name_, "raise the [limits] if this archive is legitimate");
    over_ = true;
    ended_ = true;
    return 0;
  }
  return static_cast<std::size_t>(n);
}

bool ArchiveMember::read_all() {
  if (!ended_) {
    // One allocation instead of doubling (a 200 MB report would copy ~200 MB more and peak at
    // twice its size): the size the archive states (zip), else gzip's trailer (size mod 2^32), both
    // only hints and capped by the limits, so a lying header costs address space, not memory.
    const std::uint64_t before = totals_.total - size_;
    bytes_.reserve(static_cast<std::size_t>(std::min(
        {hint_, totals_.max_total - std::min(before, totals_.max_total),
         totals_.max_ratio_total - std::min(before, totals_.max_ratio_total), ctx_.limits().max_attachment_bytes})));
    bytes_.append(stage_.data() + stage_pos_, stage_len_ - stage_pos_);
    stage_pos_ = stage_len_ = 0;
    char buf[kStep];
    while (std::size_t n = read_step(buf)) bytes_.append(buf, n);
  }
  return !over_;
}

std::size_t ArchiveMember::read(char* buf, std::size_t size) {
  std::size_t got = 0;
  while (got < size) {
    if (stage_pos_ < stage_len_) {
      const std::size_t n = std::min(size - got, stage_len_ - stage_pos_);
      std::memcpy(buf + got, stage_.data() + stage_pos_, n);
      stage_pos_ += n;
      got += n;
      continue;
    }
    std::size_t n = 0;
    if (size - got >= kStep) {
      n = read_step(buf + got);  // straight into the caller's buffer
      got += n;
    } else {
      if (stage_.empty()) stage_.resize(kStep);
      stage_pos_ = 0;
      stage_len_ = n = read_step(stage_.data());
    }
    if (n == 0) break;
  }
  return got;
}

bool for_each_member(std::string_view data, const std::string& name, ParseContext& ctx,
                     const std::function<void(ArchiveMember&)>& fn, std::size_t head_bytes) {
  std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_zip(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_raw(a.get());  // a bare .gz: one unnamed member
  if (archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK) {
    ctx.issue("archive-unreadable", 0, 0, std::string("cannot open archive: ") + archive_error_string(a.get()), name);
    return false;
  }
  ArchiveMember::Totals totals;
  totals.max_total = ctx.limits().max_decompressed_bytes;
  totals.max_ratio_total = ctx.limits().max_decompression_ratio * std::max<std::uint64_t>(data.size(), 1);
  archive_entry* entry = nullptr;
  while (true) {
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      ctx.issue("archive-unreadable", 0, 0, std::string("archive damaged: ") + archive_error_string(a.get()), name);
      return totals.total > 0;
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
    std::uint64_t hint =
        archive_entry_size_is_set(entry) ? static_cast<std::uint64_t>(archive_entry_size(entry)) : gzip_size_hint(data);
    ArchiveMember member(a.get(), ctx, totals, std::move(mname), hint);
    // The head; a small member (as its stated size says) is read whole in it.
    const std::size_t head =
        static_cast<std::size_t>(hint != 0 && hint < head_bytes ? hint + 1 : std::max<std::size_t>(head_bytes, 1));
    member.bytes_.resize(head);
    member.bytes_.resize(member.read(member.bytes_.data(), head));
    if (member.over_) return true;
    fn(member);
    if (member.over_) return true;
    // A reader that stopped early (event limit) leaves the rest: it is read all the same, for the
    // limits and for damage, as when members were read whole first.
    char rest[ArchiveMember::kStep];
    while (member.read_step(rest) != 0) {
    }
    if (member.over_) return true;
  }
  return true;
}

bool for_each_member(std::string_view data, const std::string& name, ParseContext& ctx,
                     const std::function<void(const std::string&, std::string_view)>& fn) {
  return for_each_member(
      data, name, ctx,
      [&](ArchiveMember& m) {
        if (m.read_all()) fn(m.name(), m.bytes());
      },
      64 << 10);
}

}  // namespace klartext::formats::mail
