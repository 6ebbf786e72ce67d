// JSON string escaping and base64 encoding into caller-sized buffers (no capacity checks in the loops).
#include "core/json_text.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <tmmintrin.h>
#endif

namespace klartext::core {
namespace {

// Bytes that end a plain run in a JSON string: controls, '"', '\\' and non-ASCII (validated).
constexpr std::array<bool, 256> kJsonSpecial = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[static_cast<std::size_t>(c)] = c < 0x20 || c >= 0x80 || c == '"' || c == '\\';
  return t;
}();

#if defined(__x86_64__)
// Twelve input bytes -> sixteen characters per step (SSSE3): a shuffle gives every output byte the
// input bits it needs, two multiplies shift each 6-bit index into its own byte, and a 16-entry table
// maps each index's range (A-Z, a-z, 0-9, +, /) to the offset that turns it into its character.
// Reads 16 bytes per step, so it stops 4 bytes short of the end; returns the bytes it encoded.
__attribute__((target("ssse3"))) std::size_t base64_blocks_ssse3(char*& out, const unsigned char* p, std::size_t n) {
  const __m128i spread = _mm_set_epi8(10, 11, 9, 10, 7, 8, 6, 7, 4, 5, 3, 4, 1, 2, 0, 1);
  const __m128i offsets = _mm_setr_epi8(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 12) {
    __m128i in = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)), spread);
    // Per 3 input bytes s0 s1 s2 the 32-bit lane is (s1 s2)(s0 s1): indices 0 and 2 sit at the top
    // of their 16-bit halves, 1 and 3 at the bottom.
    __m128i high = _mm_mulhi_epu16(_mm_and_si128(in, _mm_set1_epi32(0x0fc0fc00)), _mm_set1_epi32(0x04000040));
    __m128i low = _mm_mullo_epi16(_mm_and_si128(in, _mm_set1_epi32(0x003f03f0)), _mm_set1_epi32(0x01000010));
    __m128i index = _mm_or_si128(high, low);
    // Range of each index: 13 for A-Z, 0 for a-z, 1-10 for digits, 11 for '+', 12 for '/'.
    __m128i range = _mm_subs_epu8(index, _mm_set1_epi8(51));
    range = _mm_or_si128(range, _mm_and_si128(_mm_cmpgt_epi8(_mm_set1_epi8(26), index), _mm_set1_epi8(13)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_add_epi8(index, _mm_shuffle_epi8(offsets, range)));
    out += 16;
  }
  return i;
}

bool have_ssse3() {
  static const bool kHave = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("ssse3") != 0;
  }();
  return kHave;
}
#endif

}  // namespace

std::size_t utf8_sequence(const unsigned char* p, const unsigned char* end) {
  const unsigned char c = *p;
  const int len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
  bool ok = len != 0 && end - p >= len;
  for (int k = 1; ok && k < len; ++k) ok = (p[k] & 0xc0) == 0x80;
  if (!ok) return 0;
  std::uint32_t cp = len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
  for (int k = 1; k < len; ++k) cp = (cp << 6) | (p[k] & 0x3fu);
  // Overlong forms, code points past U+10FFFF and surrogates are not UTF-8.
  ok = !((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
         (cp >= 0xd800 && cp <= 0xdfff));
  return ok ? static_cast<std::size_t>(len) : 0;
}

char* write_json_string(char* o, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  *o++ = '"';
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // Copy runs of plain ASCII 8 bytes at a time, stored before they are checked: the bound leaves
    // room, and what follows the run overwrites the bytes past its end.
    while (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      std::memcpy(o, &w, 8);
      constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
      auto zero_byte = [](std::uint64_t x) { return (x - kOnes) & ~x & kHigh; };
      std::uint64_t special = (w | (w - kOnes * 0x20)) & kHigh;  // >= 0x80 or < 0x20 (may over-report)
      special |= zero_byte(w ^ (kOnes * '"')) | zero_byte(w ^ (kOnes * '\\'));
      if (special != 0) {
        // The lowest flagged byte is exact (false positives only occur above a real one).
        if constexpr (std::endian::native == std::endian::little) {
          const int plain = std::countr_zero(special) >> 3;
          p += plain;
          o += plain;
        }
        break;
      }
      p += 8;
      o += 8;
    }
    while (p < end && !kJsonSpecial[*p]) *o++ = static_cast<char>(*p++);
    if (p == end) break;
    unsigned char c = *p;
    if (c < 0x80) {
      *o++ = '\\';
      switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
          *o++ = 'u';
          *o++ = '0';
          *o++ = '0';
          *o++ = kHex[c >> 4];
          *o++ = kHex[c & 0xf];
      }
      ++p;
      continue;
    }
    // Validate one UTF-8 sequence; replace invalid bytes with U+FFFD.
    const std::size_t len = utf8_sequence(p, end);
    if (len != 0) {
      std::memcpy(o, p, static_cast<std::size_t>(len));
      o += len;
      p += len;
    } else {
      std::memcpy(o, "\xEF\xBF\xBD", 3);
      o += 3;
      ++p;
    }
  }
  *o++ = '"';
  return o;
}

char* write_base64(char* o, std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  // 12 bits -> two output characters at once (as they lie in memory).
  static const std::array<std::uint16_t, 4096> kPairs = [] {
    std::array<std::uint16_t, 4096> t{};
    for (int i = 0; i < 4096; ++i) {
      const char two[2] = {kAlphabet[i >> 6], kAlphabet[i & 63]};
      std::memcpy(&t[static_cast<std::size_t>(i)], two, 2);
    }
    return t;
  }();
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size();
  std::size_t i = 0;
#if defined(__x86_64__)
  if (n >= 16 && have_ssse3()) i = base64_blocks_ssse3(o, p, n);
#endif
  // Six input bytes -> eight characters per step, from one 8-byte load.
  for (; i + 8 <= n; i += 6) {
    std::uint64_t v;
    std::memcpy(&v, p + i, 8);
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);  // big-endian view
    std::uint64_t out = std::uint64_t{kPairs[(v >> 52) & 0xfff]} | (std::uint64_t{kPairs[(v >> 40) & 0xfff]} << 16) |
                        (std::uint64_t{kPairs[(v >> 28) & 0xfff]} << 32) |
                        (std::uint64_t{kPairs[(v >> 16) & 0xfff]} << 48);
    std::memcpy(o, &out, 8);
    o += 8;
  }
  for (; i + 3 <= n; i += 3) {
    std::uint32_t v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8) | p[i + 2];
    std::memcpy(o, &kPairs[v >> 12], 2);
    std::memcpy(o + 2, &kPairs[v & 0xfff], 2);
    o += 4;
  }
  if (i < n) {
    std::uint32_t v = std::uint32_t{p[i]} << 16;
    if (i + 1 < n) v |= std::uint32_t{p[i + 1]} << 8;
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
    *o++ = '=';
  }
  return o;
}

}  // namespace klartext::core
