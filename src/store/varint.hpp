// LEB128 varints for the store's compact encodings (JSON deltas, event blocks).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace klartext::store::detail {

inline void put_varint(std::string& out, std::uint64_t n) {
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7F) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
}

// Reads a varint at `pos` (advanced past it). False when `s` ends inside it or it is longer than
// ten bytes.
inline bool get_varint(std::string_view s, std::size_t& pos, std::uint64_t& n) {
  n = 0;
  for (int shift = 0; pos < s.size() && shift < 64; shift += 7) {
    auto b = static_cast<unsigned char>(s[pos++]);
    n |= static_cast<std::uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// Signed values (differences) zigzag-encoded: small magnitudes stay short.
inline void put_svarint(std::string& out, std::int64_t v) {
  put_varint(out, (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}
inline bool get_svarint(std::string_view s, std::size_t& pos, std::int64_t& v) {
  std::uint64_t n = 0;
  if (!get_varint(s, pos, n)) return false;
  v = static_cast<std::int64_t>(n >> 1) ^ -static_cast<std::int64_t>(n & 1);
  return true;
}

}  // namespace klartext::store::detail
