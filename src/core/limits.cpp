// The table of named input limits (config keys and help).
#include "core/limits.hpp"

#include <array>

namespace klartext::core {

std::span<const LimitInfo> all_limits() {
  static constexpr std::array kInfo = {
      LimitInfo{"max_line_bytes", &Limits::max_line_bytes, "longest accepted CSV row or text line"},
      LimitInfo{"max_header_bytes", &Limits::max_header_bytes, "header bytes of one mail or MIME part"},
      LimitInfo{"max_mime_depth", &Limits::max_mime_depth, "nesting depth of multiparts and attached mails"},
      LimitInfo{"max_mime_parts", &Limits::max_mime_parts, "MIME parts in one mail"},
      LimitInfo{"max_mail_bytes", &Limits::max_mail_bytes, "size of one mail"},
      LimitInfo{"max_attachment_bytes", &Limits::max_attachment_bytes, "size of one decoded attachment"},
      LimitInfo{"max_decompressed_bytes", &Limits::max_decompressed_bytes, "decompressed size of one archive"},
      LimitInfo{"max_decompression_ratio", &Limits::max_decompression_ratio,
                "decompressed/compressed size ratio of an archive"},
      LimitInfo{"max_json_depth", &Limits::max_json_depth, "nesting depth of JSON documents"},
      LimitInfo{"max_events_per_input", &Limits::max_events_per_input, "events taken from one input"},
      LimitInfo{"max_excerpt_bytes", &Limits::max_excerpt_bytes, "bytes of input quoted in a parse issue"},
  };
  return kInfo;
}

}  // namespace klartext::core
