// Named limits on hostile input, declared once with their defaults and help text.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace klartext::core {

struct Limits {
  std::uint64_t max_line_bytes = 1 << 20;             // one CSV row / text line
  std::uint64_t max_header_bytes = 256 << 10;         // all header fields of one mail or MIME part
  std::uint64_t max_mime_depth = 16;                  // nesting of multiparts and message/rfc822
  std::uint64_t max_mime_parts = 2000;                // parts in one mail
  std::uint64_t max_mail_bytes = 64ull << 20;         // one mail
  std::uint64_t max_attachment_bytes = 256ull << 20;  // one decoded attachment
  std::uint64_t max_decompressed_bytes = 4ull << 30;  // all members of one archive, decompressed
  std::uint64_t max_decompression_ratio = 1000;       // decompressed / compressed
  std::uint64_t max_json_depth = 64;
  std::uint64_t max_events_per_input = 50'000'000;
  std::uint64_t max_excerpt_bytes = 200;  // excerpt stored with a parse issue
};

struct LimitInfo {
  std::string_view name;  // config key under [limits]
  std::uint64_t Limits::*member;
  std::string_view help;
};

std::span<const LimitInfo> all_limits();

}  // namespace klartext::core
