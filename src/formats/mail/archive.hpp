// Unpacks zip/gzip/tar attachments with libarchive under the decompression limits.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "formats/format.hpp"

struct archive;

namespace klartext::formats::mail {

// True when the bytes start like a zip, gzip, bzip2 or xz container.
bool looks_compressed(std::string_view data);

// One regular member of an archive as for_each_member hands it out: its first bytes are read;
// the rest is read into memory (read_all) or streamed (as a ByteSource), under the limits.
class ArchiveMember final : public ByteSource {
 public:
  static constexpr std::size_t kStep = 64 << 10;

  const std::string& name() const { return name_; }
  // The bytes read so far and kept: the head, or the whole member after read_all().
  std::string_view bytes() const { return bytes_; }
  // True when bytes() is the whole member (it ended, was damaged or hit a limit).
  bool complete() const { return ended_; }
  // The size the archive states (zip, tar) or gzip's trailer gives (mod 2^32), 0 when unknown;
  // a hint only.
  std::uint64_t size_hint() const { return hint_; }
  // True when the stated size keeps the archive within the limits (a lying one can still be caught
  // by them while the member is streamed).
  bool hint_within_limits() const;
  // Reads the rest into bytes(). False when a limit stopped it (issue recorded).
  bool read_all();
  // Streams the rest (after bytes()); each call reads in the same steps as read_all.
  std::size_t read(char* buf, std::size_t size) override;
  bool aborted() const override { return over_; }

 private:
  friend bool for_each_member(std::string_view, const std::string&, ParseContext&,
                              const std::function<void(ArchiveMember&)>&, std::size_t);
  struct Totals {
    std::uint64_t total = 0;  // decompressed bytes of all members so far
    std::uint64_t max_total = 0;
    std::uint64_t max_ratio_total = 0;
  };
  ArchiveMember(archive* a, ParseContext& ctx, Totals& totals, std::string name, std::uint64_t hint)
      : a_(a), ctx_(ctx), totals_(totals), name_(std::move(name)), hint_(hint) {}
  // One libarchive read of kStep bytes into `dst` (libarchive drops the bytes of a call that ends
  // in an error, and the limits are checked per call, so every read asks for the same kStep as
  // members read whole always did). 0 once the member ended, was damaged or went over a limit
  // (issue recorded).
  std::size_t read_step(char* dst);

  archive* a_;
  ParseContext& ctx_;
  Totals& totals_;
  std::string name_;
  std::uint64_t hint_ = 0;
  std::string bytes_;
  std::string stage_;  // a step's bytes that did not fit the caller's buffer
  std::size_t stage_pos_ = 0;
  std::size_t stage_len_ = 0;
  std::uint64_t size_ = 0;  // decompressed bytes of this member so far
  bool ended_ = false;
  bool over_ = false;
};

// Calls `fn(member)` for every regular member (a bare .gz yields one member named after `name`
// without ".gz") with its first `head_bytes` read. Stops with an issue on `ctx` when the total
// decompressed size exceeds limits.max_decompressed_bytes, the ratio exceeds
// limits.max_decompression_ratio or a member exceeds limits.max_attachment_bytes.
// Returns false when the archive could not be read at all (an issue was recorded).
bool for_each_member(std::string_view data, const std::string& name, ParseContext& ctx,
                     const std::function<void(ArchiveMember&)>& fn, std::size_t head_bytes);

// The same with every member read whole (a member stopped by a limit is not passed on).
bool for_each_member(std::string_view data, const std::string& name, ParseContext& ctx,
                     const std::function<void(const std::string&, std::string_view)>& fn);

}  // namespace klartext::formats::mail
