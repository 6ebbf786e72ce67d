// Extraction from free text: addresses (also defanged), ports, URLs, timestamps with zones, and log lines.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip.hpp"
#include "core/timestamp.hpp"

namespace klartext::formats::freetext {

// What the text says an address does on one line.
// kRelay: the sending host of a quoted Received header; only the first hop (bottom-most) counts.
enum class Role : std::uint8_t { kNeutral, kSource, kDestination, kRelay };

// One timestamp found in the text, normalized to UTC.
struct FoundTime {
  core::Timestamp time;
  bool zone_known = false;  // the text gave the zone (explicit, or a statement in the body)
};

struct TextLine {
  std::string_view text;      // original bytes, without the line break
  std::size_t offset = 0;     // byte offset in the body
  std::size_t paragraph = 0;  // lines separated by blank lines share a paragraph number
  std::optional<FoundTime> time;
};

struct Mention {
  core::IpAddress ip;
  std::size_t line = 0;  // index into Extraction::lines; kSubjectLine for the subject
  Role role = Role::kNeutral;
  std::optional<std::uint16_t> port;              // port written next to this address
  std::optional<std::uint16_t> destination_port;  // DPT= or "port N" on a line where this is the source
  std::optional<core::IpAddress> peer;            // DST= on a line where this is the source
};

struct FoundUrl {
  std::string url;                 // refanged
  std::vector<std::size_t> lines;  // where it is named (kSubjectLine for the subject)
  bool defanged = false;           // the reporter defanged it: a reported URL, not a reference
};

inline constexpr std::size_t kSubjectLine = static_cast<std::size_t>(-1);

struct Extraction {
  std::vector<TextLine> lines;
  std::vector<Mention> mentions;
  std::vector<FoundUrl> urls;  // refanged, in order of appearance, deduplicated
  std::string zone_note;       // how times without a zone were read, e.g. "UTC+01:00 (stated in text)"
};

struct ExtractOptions {
  std::optional<core::Timestamp> sent;  // mail date: the year for syslog times, sanity bound
  std::size_t max_lines = 200'000;      // lines scanned in one body
};

// Turns defanged text back into its plain form: 192.0.2[.]1, [dot], hxxp://, 2001:db8[:]:1.
std::string refang(std::string_view line);
bool looks_defanged(std::string_view line);

// Finds all IPv4/IPv6 literals in a (refanged) line. Rejects version strings and MAC addresses.
struct IpHit {
  core::IpAddress ip;
  std::size_t begin = 0, end = 0;  // byte range in the searched text
  std::optional<std::uint16_t> port;
};
std::vector<IpHit> find_ips(std::string_view text);

// First timestamp on a line. `year_hint` completes syslog dates; `default_offset_min` applies to
// times written without a zone (nullopt: UTC, zone unknown).
std::optional<FoundTime> find_time(std::string_view text, std::optional<core::Timestamp> sent,
                                   std::optional<int> default_offset_min);

// A sentence in the body that says which zone its times are in ("Timezone: GMT +8", "all times
// are CET"); minutes east of UTC.
std::optional<int> find_zone_statement(std::string_view body);

// A line of WHOIS output (inetnum:, remarks:, % comments): names networks, never the reported host.
bool is_registry_line(std::string_view line);

// Offset of a zone abbreviation ("CET", "PDT", "MESZ"), minutes east of UTC.
std::optional<int> zone_offset(std::string_view name);

Extraction extract(std::string_view subject, std::string_view body, const ExtractOptions& options);

}  // namespace klartext::formats::freetext
