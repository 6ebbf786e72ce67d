// Free-text reports: extracts addresses, ports, URLs, times and log lines, and classifies by rules (data).
#pragma once

#include <optional>
#include <string_view>

#include "core/timestamp.hpp"
#include "formats/format.hpp"

namespace klartext::formats::freetext {

// A report that has no structured part we understand: a mail body, or a plain text file.
struct TextReport {
  std::string_view subject;             // mail subject, may be empty
  std::string_view body;                // decoded text (UTF-8)
  std::string_view from;                // sender address, may be empty
  std::optional<core::Timestamp> sent;  // mail Date, if any
  std::string_view feed_provider;       // e.g. sender domain; becomes feed.provider
};

// Emits one event per reported address (classified when the rules are confident enough, else
// other/undetermined with the evidence). Returns the number of events emitted.
std::size_t parse_free_text(ParseContext& ctx, const TextReport& report);

}  // namespace klartext::formats::freetext
