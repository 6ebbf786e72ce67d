// The 64-bit mixer behind klartext's own hash tables: every input bit reaches the low bits they mask.
#pragma once

#include <cstdint>

namespace klartext::core {

// A bijective finalizer (splitmix64's shift-multiply-shift): tables take the low bits of the result
// as the slot and may keep the high bits as a tag.
inline std::uint64_t mix64(std::uint64_t h) {
  h ^= h >> 31;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 29;
  return h;
}

}  // namespace klartext::core
