// Pointer-level JSON and base64 writers for serializers that size their buffer once per record.
#pragma once

#include <cstddef>
#include <string_view>

namespace klartext::core {

// Room write_json_string needs for `n` input bytes (quotes and worst-case escapes).
constexpr std::size_t json_string_bound(std::size_t n) {
  return 2 + 6 * n;
}
// Exact length of the padded base64 of `n` bytes.
constexpr std::size_t base64_size(std::size_t n) {
  return (n + 2) / 3 * 4;
}

// Length of the valid UTF-8 sequence that starts at `p` (before `end`), or 0 when the bytes there
// are not one (stray continuation byte, truncated, overlong, surrogate, past U+10FFFF).
std::size_t utf8_sequence(const unsigned char* p, const unsigned char* end);

// Writes `s` as a quoted JSON string (invalid UTF-8 becomes U+FFFD) at `out`, which must have
// json_string_bound(s.size()) bytes of room; returns the end of what was written.
char* write_json_string(char* out, std::string_view s);
// Writes padded base64 of `bytes` at `out` (base64_size(bytes.size()) bytes); returns the end.
char* write_base64(char* out, std::string_view bytes);

}  // namespace klartext::core
