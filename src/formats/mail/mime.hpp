// MIME walking with GMime 3 under named limits: a mail becomes a flat list of decoded parts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/timestamp.hpp"
#include "formats/format.hpp"

namespace klartext::formats::mail {

// One header field, unfolded; name as written.
struct HeaderField {
  std::string name;
  std::string value;
};
using HeaderFields = std::vector<HeaderField>;

// Parses a header-style block ("Name: value" lines, folded continuation lines) until the first
// empty line or the end. Lines that are not fields are skipped. Used for mail headers, the ARF
// feedback-report fields and X-ARF key/value reports.
HeaderFields parse_header_block(std::string_view text);
// First value of `name` (case-insensitive), trimmed; empty when absent.
std::string_view header(const HeaderFields& fields, std::string_view name);
std::vector<std::string_view> headers(const HeaderFields& fields, std::string_view name);
// Length of the header block of a mail (up to and including the empty line), npos when no empty
// line is found within `max` bytes.
std::size_t header_block_length(std::string_view data, std::size_t max);

struct MimePart {
  std::size_t index = 0;     // position in tree order, from 0
  int depth = 0;             // 0 = top-level body
  std::string content_type;  // lowercased "type/subtype"
  std::string filename;      // from Content-Disposition filename or Content-Type name
  bool attachment = false;   // Content-Disposition: attachment
  bool is_message = false;   // message/rfc822 container: body holds the whole embedded mail
  std::string body;          // decoded content; text/* converted to UTF-8
  // An attached image or PDF whose first bytes are that format's signature: not decoded (body
  // empty), since no report format reads one; decoding them was the largest cost of a mail.
  bool content_skipped = false;
  bool is_text() const { return content_type.starts_with("text/"); }
};

struct ParsedMail {
  std::string header_text;  // top-level header block, as received
  HeaderFields fields;      // top-level header fields
  std::string subject;      // decoded (RFC 2047)
  std::string from_address;
  std::string from_domain;
  std::string message_id;
  std::optional<core::Timestamp> date;
  std::string content_type;  // top-level, lowercased
  std::vector<MimePart> parts;
  bool parsed = false;  // GMime could build a message
  // mail_text() with and without attached messages, built on first use: several detectors read it.
  mutable std::optional<std::string> text_cache[2];
};

// Parses a mail with GMime. Limit hits and structural problems become issues on `ctx`; the mail
// is still returned with what could be read.
ParsedMail parse_mime(std::string_view data, ParseContext& ctx);

// Lowercase ASCII copy.
std::string lower(std::string_view s);
std::string_view trim(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool icontains(std::string_view hay, std::string_view needle);

}  // namespace klartext::formats::mail
