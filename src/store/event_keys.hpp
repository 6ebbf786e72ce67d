// The identities of stored events, per UTC day, in memory: the duplicate check of Store::add_event.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace klartext::store::detail {

// A set of 64-bit keys (open addressing, linear probing). Key 0 is stored as 1: keys are hashes,
// and a hash that differs from another only there would be a collision at 2^-64 anyway.
class KeySet {
 public:
  // True when the key was not in the set (and is now).
  bool insert(std::uint64_t key);
  bool contains(std::uint64_t key) const;
  // Starts loading the slot insert(key) probes first (a cache miss among a million keys).
  void prefetch(std::uint64_t key) const;
  std::size_t size() const { return size_; }

 private:
  void grow();
  std::vector<std::uint64_t> slots_;  // 0: empty
  std::size_t size_ = 0;
};

// What the writer knows of the stored event keys: the days it touched, each loaded once, plus the
// keys added since the last commit (written as one event_keys row per day by the store).
struct EventKeys {
  struct Day {
    KeySet keys;
    std::vector<std::uint64_t> added;  // not in event_keys yet
  };
  std::unordered_map<std::int64_t, Day> days;
  std::int64_t synced_id = -1;  // highest event_keys.id merged into the loaded days; -1: not started
  bool sync_needed = false;     // a new transaction began: rows other writers added may be new
  // The event_keys rows this writer added at its last commit: their keys are in `days` already, so
  // the next sync skips them (else the first event after a commit slice merged every key again).
  std::vector<std::int64_t> own_rows;

  static std::uint64_t key_of(std::string_view event_id);
  static std::int64_t day_of(std::int64_t micros);
  // Keys as stored in event_keys.keys (8 bytes each, little-endian) and back.
  static void append_blob(std::string& out, const std::vector<std::uint64_t>& keys);
  static void merge_blob(KeySet& into, std::string_view blob);
};

}  // namespace klartext::store::detail
