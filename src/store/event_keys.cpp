// The in-memory event key sets of the store's duplicate check.
#include "store/event_keys.hpp"

#include <xxhash.h>

#include <cstring>

namespace klartext::store::detail {
namespace {

constexpr std::int64_t kMicrosPerDay = 86'400'000'000;
constexpr std::size_t kInitialSlots = 1024;

std::size_t slot_of(std::uint64_t key, std::size_t mask) {
  // The keys are hashes already; the multiply spreads the bits a power-of-two mask keeps.
  return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> 20) & mask;
}

}  // namespace

bool KeySet::insert(std::uint64_t key) {
  if (key == 0) key = 1;
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = slot_of(key, mask);; i = (i + 1) & mask) {
    if (slots_[i] == key) return false;
    if (slots_[i] == 0) {
      slots_[i] = key;
      ++size_;
      return true;
    }
  }
}

bool KeySet::contains(std::uint64_t key) const {
  if (key == 0) key = 1;
  if (slots_.empty()) return false;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = slot_of(key, mask);; i = (i + 1) & mask) {
    if (slots_[i] == key) return true;
    if (slots_[i] == 0) return false;
  }
}

void KeySet::prefetch(std::uint64_t key) const {
  if (key == 0) key = 1;
  if (!slots_.empty()) __builtin_prefetch(&slots_[slot_of(key, slots_.size() - 1)]);
}

void KeySet::grow() {
  std::vector<std::uint64_t> old = std::move(slots_);
  slots_.assign(old.empty() ? kInitialSlots : old.size() * 2, 0);
  size_ = 0;
  for (auto k : old) {
    if (k != 0) insert(k);
  }
}

std::uint64_t EventKeys::key_of(std::string_view event_id) {
  return XXH3_64bits(event_id.data(), event_id.size());
}

std::int64_t EventKeys::day_of(std::int64_t micros) {
  auto d = micros / kMicrosPerDay;
  return (micros % kMicrosPerDay < 0) ? d - 1 : d;
}

void EventKeys::append_blob(std::string& out, const std::vector<std::uint64_t>& keys) {
  out.reserve(out.size() + keys.size() * 8);
  for (auto k : keys) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((k >> (8 * i)) & 0xFF);
    out.append(b, 8);
  }
}

void EventKeys::merge_blob(KeySet& into, std::string_view blob) {
  for (std::size_t off = 0; off + 8 <= blob.size(); off += 8) {
    std::uint64_t k = 0;
    for (int i = 7; i >= 0; --i) k = (k << 8) | static_cast<unsigned char>(blob[off + i]);
    into.insert(k);
  }
}

}  // namespace klartext::store::detail
