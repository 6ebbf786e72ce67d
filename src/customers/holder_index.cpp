// The holder index: per-prefix-length hash tables over runs of time spans (rules in holder_index.hpp).
#include "customers/holder_index.hpp"

#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <type_traits>

#include "core/hash.hpp"
#include "store/store.hpp"

namespace klartext::customers {

namespace {

// An image larger than this is not saved (SQLite and PostgreSQL values stop at 1 GB).
constexpr std::size_t kMaxSnapshotBytes = std::size_t{768} << 20;

constexpr std::int64_t kMinTime = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMaxTime = std::numeric_limits<std::int64_t>::max();

struct Key128 {
  std::uint64_t hi = 0, lo = 0;
  bool operator==(const Key128&) const = default;
  auto operator<=>(const Key128&) const = default;
};

inline std::uint64_t hash_key(std::uint32_t k) {
  return (static_cast<std::uint64_t>(k) * 0x9E3779B97F4A7C15ull) >> 20;
}
inline std::uint64_t hash_key(const Key128& k) {
  return core::mix64(k.hi * 0x9E3779B97F4A7C15ull + k.lo);
}

inline std::uint32_t mask4(std::uint32_t a, int len) {
  return len == 0 ? 0 : a & (~0u << (32 - len));
}
inline Key128 mask6(Key128 k, int len) {
  if (len <= 64) {
    k.hi = len == 0 ? 0 : k.hi & (~0ull << (64 - len));
    k.lo = 0;
  } else {
    k.lo &= ~0ull << (128 - len);
  }
  return k;
}
inline Key128 key6(const core::IpAddress& a) {
  Key128 k;
  const auto& b = a.bytes();
  for (int i = 0; i < 8; ++i) k.hi = (k.hi << 8) | b[i];
  for (int i = 8; i < 16; ++i) k.lo = (k.lo << 8) | b[i];
  return k;
}
// IpAddress::is_v4 without the out-of-line call: ::ffff:0:0/96.
inline bool v4_mapped(const core::IpAddress::Bytes& b) {
  std::uint64_t head;
  std::uint32_t mid;
  std::memcpy(&head, b.data(), 8);
  std::memcpy(&mid, b.data() + 8, 4);
  return head == 0 && mid == 0xFFFF0000u;
}

// One way a candidate can end the search.
enum class Found : std::uint8_t { kNone, kHolder, kAmbiguous };

}  // namespace

namespace detail {

// Large arrays are asked for on transparent huge pages: the lookups touch them at random, and
// on 4 KiB pages nearly every lookup also missed the TLB (a dearer page walk when virtualised).
template <class T>
struct HugeAlloc {
  using value_type = T;
  static constexpr std::size_t kHuge = std::size_t{2} << 20;
  HugeAlloc() = default;
  template <class U>
  HugeAlloc(const HugeAlloc<U>&) {}  // rebinding
  T* allocate(std::size_t n) {
    std::size_t bytes = n * sizeof(T);
    if (bytes < kHuge) return static_cast<T*>(::operator new (bytes, std::align_val_t{64}));
    std::size_t rounded = (bytes + kHuge - 1) & ~(kHuge - 1);
    void* p = std::aligned_alloc(kHuge, rounded);
    if (p == nullptr) throw std::bad_alloc();
    ::madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure just means small pages
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) {
    if (n * sizeof(T) < kHuge) {
      ::operator delete (p, std::align_val_t{64});
    } else {
      std::free(p);
    }
  }
  template <class U>
  bool operator==(const HugeAlloc<U>&) const {
    return true;
  }
};
template <class T>
using HugeVector = std::vector<T, HugeAlloc<T>>;

// A time span of one session or assignment, 32 bytes so that two share a cache line. A run of
// spans for one masked address is sorted by (from, ordinal) and stored contiguously. Tables refer
// to a run by its first index and, for runs up to kShortRun, its length (see kRefShift), so
// that all its cache lines are fetched at once; short runs are simply scanned whole. Longer runs
// are preceded by a header entry with the length and, in `from`, the index of the run's running
// maxima of `to` (Impl::max_to), so that a backwards scan stops as soon as no earlier span can
// still cover the instant.
struct Span {
  std::int64_t from;
  std::int64_t to;
  std::uint32_t customer;
  std::uint32_t ordinal;
  std::uint16_t port_lo;
  std::uint16_t port_hi;
  std::uint32_t info;  // kHasPorts, or in a long run's header kLongRun | length

  static constexpr std::uint32_t kHasPorts = 1u << 31;
  static constexpr std::uint32_t kLongRun = 1u << 30;
  static constexpr std::uint32_t kLengthMask = kLongRun - 1;
};
static_assert(sizeof(Span) == 32);
// A run reference: bits 29..31 the length of a short run (0: a long run's header), below them
// the index of the run's first entry in Impl::spans.
constexpr std::uint32_t kShortRun = 7;
constexpr int kRefShift = 29;
constexpr std::uint32_t kRefBegin = (1u << kRefShift) - 1;

// kInline: a slot also holds a copy of a run's span when the run is that one span (the usual
// case for static assignments), so that a lookup needs no second cache miss into the spans.
template <class K, bool kInline = false>
struct Table {
  static constexpr std::uint32_t kEmpty = ~0u;
  struct PlainSlot {
    K key{};
    std::uint32_t begin = kEmpty;  // run reference (kRefShift)
  };
  struct InlineSlot : PlainSlot {
    std::int64_t from = 0;
    std::int64_t to = 0;
    std::uint32_t customer = 0;
    std::uint32_t ordinal = 0;
  };
  using Slot = std::conditional_t<kInline, InlineSlot, PlainSlot>;
  std::uint64_t mask = 0;
  HugeVector<Slot> slots;
  // One bit per 1/8 key, from other hash bits than the slot index: most misses are answered by
  // this small (cache-resident) bitset instead of a cache miss into the slots.
  std::uint64_t filter_mask = 0;
  std::vector<std::uint64_t> filter;

  bool empty() const { return slots.empty(); }
  void init(std::size_t n) {
    std::size_t cap = 16;
    while (cap * 3 < n * 4) cap <<= 1;  // load factor <= 0.75: slots are small, probes stay in a line
    slots.assign(cap, Slot{});
    mask = cap - 1;
    std::size_t bits = 64;
    while (bits < n * 8) bits <<= 1;
    filter.assign(bits / 64, 0);
    filter_mask = bits - 1;
  }
  // `first`: the run's first entry (for kInline).
  void insert(const K& k, std::uint32_t begin, const Span& first) {
    std::uint64_t h = hash_key(k);
    std::uint64_t b = (h >> 32) & filter_mask;
    filter[b >> 6] |= 1ull << (b & 63);
    std::size_t i = h & mask;
    while (slots[i].begin != kEmpty) i = (i + 1) & mask;
    slots[i].key = k;
    slots[i].begin = begin;
    if constexpr (kInline) {
      slots[i].from = first.from;
      slots[i].to = first.to;
      slots[i].customer = first.customer;
      slots[i].ordinal = first.ordinal;
    }
  }
  // Whether the filter lets a key with hash h through (false: the key is certainly absent).
  bool admits(std::uint64_t h) const {
    std::uint64_t b = (h >> 32) & filter_mask;
    return (filter[b >> 6] & (1ull << (b & 63))) != 0;
  }
  // Where the probe for a key with hash h starts.
  const Slot* home(std::uint64_t h) const { return slots.data() + (h & mask); }
  // The filter word admits(h) reads.
  const std::uint64_t* filter_word(std::uint64_t h) const { return filter.data() + (((h >> 32) & filter_mask) >> 6); }
  // The slot of k, or null.
  const Slot* find_slot(const K& k) const {
    std::uint64_t h = hash_key(k);
    if (!admits(h)) return nullptr;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots[i];
      if (slot.begin == kEmpty) return nullptr;
      if (slot.key == k) return &slot;
    }
  }
  // The run of k, or kEmpty.
  std::uint32_t find(const K& k) const {
    const Slot* slot = find_slot(k);
    return slot == nullptr ? kEmpty : slot->begin;
  }
  std::size_t memory_bytes() const { return slots.capacity() * sizeof(Slot) + filter.capacity() * 8; }
};

}  // namespace detail

using detail::kShortRun;
using detail::Span;
using detail::Table;

struct HolderIndex::Impl {
  // [0] sessions, [1] statics. IPv4: one table per prefix length (index = length), and per /16
  // of the address space a mask of the lengths with a prefix overlapping it (bits 0..31: session
  // lengths 1..32, bits 32..63: static lengths 1..32), so a lookup probes only lengths that can
  // match there. Length 0 (a default route) is probed wherever it exists.
  Table<std::uint32_t> v4_sessions[33];
  Table<std::uint32_t, true> v4_statics[33];
  detail::HugeVector<std::uint64_t> v4_lengths;  // 65536 entries, or empty without IPv4 data
  // Dense /16s of IPv4 /32 sessions (dynamic pools) skip the hash table: per such /16 a block of
  // 65536 run indexes (kEmpty: none), found through v4_block (kNoBlock: hashed as usual).
  static constexpr std::uint32_t kNoBlock = ~0u;
  static constexpr std::size_t kDenseKeys = 16384;  // a block costs at most 16 bytes per address
  std::vector<std::uint32_t> v4_block;
  detail::HugeVector<std::uint32_t> v4_direct;
  // IPv6: the tables present, longest prefix first.
  std::vector<Table<Key128>> v6[2];
  std::vector<int> v6_len[2];
  detail::HugeVector<Span> spans;
  std::vector<std::int64_t> max_to;  // long runs only

  Found scan(std::uint32_t ref, std::int64_t t, std::optional<std::uint16_t> port, const Span*& hit) const {
    const Span* b = spans.data() + (ref & detail::kRefBegin);
    std::uint32_t n = ref >> detail::kRefShift;
    const std::int64_t* run_max = nullptr;
    std::uint32_t ub;
    if (n != 0) {
      ub = n;
      while (ub > 0 && b[ub - 1].from > t) --ub;
    } else {
      n = b->info & Span::kLengthMask;
      run_max = max_to.data() + b->from;
      ++b;
      ub = static_cast<std::uint32_t>(
          std::upper_bound(b, b + n, t, [](std::int64_t x, const Span& s) { return x < s.from; }) - b);
    }
    for (std::uint32_t i = ub; i-- > 0;) {
      if (run_max != nullptr && run_max[i] <= t) break;  // no span at or before i can still cover t
      const Span& s = b[i];
      if (s.to <= t) continue;
      if ((s.info & Span::kHasPorts) == 0) {
        hit = &s;
        return Found::kHolder;
      }
      if (!port) return Found::kAmbiguous;
      if (*port >= s.port_lo && *port <= s.port_hi) {
        hit = &s;
        return Found::kHolder;
      }
    }
    return Found::kNone;
  }

  static std::optional<Holder> holder(const Span* hit, int cls) {
    return Holder{hit->customer, cls == 0 ? HolderKind::kSession : HolderKind::kStatic, hit->ordinal};
  }

  // The run of a's length-len prefix in `tables`: a direct entry (dense session pools) or the hash
  // slot's, which `slot` then points at; kEmpty when there is none.
  template <class T>
  std::uint32_t run4(const T (&tables)[33], int len, std::uint32_t a, bool sessions,
                     const typename T::Slot*& slot) const {
    const std::uint32_t block = len == 32 && sessions && !v4_block.empty() ? v4_block[a >> 16] : kNoBlock;
    if (block != kNoBlock) return v4_direct[(std::size_t{block} << 16) | (a & 0xFFFF)];
    slot = tables[len].find_slot(mask4(a, len));
    return slot != nullptr ? slot->begin : Table<std::uint32_t>::kEmpty;
  }

  // The IPv4 tables of one class, longest prefix first among the lengths in m, then length 0.
  template <class T>
  Found search4(const T (&tables)[33], std::uint32_t m, std::uint32_t a, std::int64_t t,
                std::optional<std::uint16_t> port, bool sessions, Holder& out) const {
    constexpr bool kInline = std::is_same_v<T, Table<std::uint32_t, true>>;
    const HolderKind kind = sessions ? HolderKind::kSession : HolderKind::kStatic;
    auto probe = [&](int len) {
      const typename T::Slot* slot = nullptr;
      const std::uint32_t run = run4(tables, len, a, sessions, slot);
      if constexpr (kInline) {
        if (slot != nullptr && (run >> detail::kRefShift) == 1) {  // the one span, inline (statics have no ports)
          if (slot->from > t || slot->to <= t) return Found::kNone;
          out = Holder{slot->customer, kind, slot->ordinal};
          return Found::kHolder;
        }
      }
      if (run == Table<std::uint32_t>::kEmpty) return Found::kNone;
      const Span* hit = nullptr;
      Found f = scan(run, t, port, hit);
      if (f == Found::kHolder) out = Holder{hit->customer, kind, hit->ordinal};
      return f;
    };
    while (m != 0) {
      int bit = 31 - __builtin_clz(m);
      m &= ~(1u << bit);
      Found f = probe(bit + 1);
      if (f != Found::kNone) return f;
    }
    return tables[0].empty() ? Found::kNone : probe(0);
  }

  std::optional<Holder> lookup4(std::uint32_t a, std::int64_t t, std::optional<std::uint16_t> port) const {
    return lookup4(a, v4_lengths.empty() ? 0 : v4_lengths[a >> 16], t, port);
  }
  // lengths: the per-/16 word of a, or (lookup_batch) that word less lengths whose filter rejects a.
  std::optional<Holder> lookup4(std::uint32_t a, std::uint64_t lengths, std::int64_t t,
                                std::optional<std::uint16_t> port) const {
    Holder h;
    Found f = search4(v4_sessions, static_cast<std::uint32_t>(lengths), a, t, port, true, h);
    if (f == Found::kNone) f = search4(v4_statics, static_cast<std::uint32_t>(lengths >> 32), a, t, port, false, h);
    if (f == Found::kHolder) return h;
    return std::nullopt;
  }

  std::optional<Holder> lookup6(const Key128& key, std::int64_t t, std::optional<std::uint16_t> port) const {
    for (int cls = 0; cls < 2; ++cls) {
      for (std::size_t i = 0; i < v6[cls].size(); ++i) {
        std::uint32_t run = v6[cls][i].find(mask6(key, v6_len[cls][i]));
        if (run == Table<Key128>::kEmpty) continue;
        const Span* hit = nullptr;
        Found f = scan(run, t, port, hit);
        if (f == Found::kAmbiguous) return std::nullopt;
        if (f == Found::kHolder) return holder(hit, cls);
      }
    }
    return std::nullopt;
  }

  // lookup_batch's stages before the lookup itself only prefetch what the next stage reads; a wrong
  // guess costs a cache miss, never a different holder. IPv4: stage 1 the per-/16 words, stage 2
  // (admit4) the direct entry or hash slot of each length the filters admit, stage 3 (first_run4)
  // the spans of the first run found, stage 4 the lookup over the lengths that may hold a run. IPv6
  // (ahead6): the filter words, the admitted slots, the first run; stage 4 the lookup.
  //
  // An asm statement, not __builtin_prefetch: g++ 12's mod/ref analysis took functions that only
  // prefetch for free of side effects and dropped every call to them.
  static void prefetch(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
    asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
    __builtin_prefetch(p, 0, 3);
#endif
  }

  // The line of a key's home slot, and the next one if the slot after it starts there (at a load
  // factor of 3/4 a probe often goes on for a slot or two).
  template <class Tab>
  static void prefetch_home(const Tab& table, std::uint64_t h) {
    const auto* slot = table.home(h);
    prefetch(slot);
    auto next = reinterpret_cast<std::uintptr_t>(slot + 1);
    if ((h & table.mask) != table.mask && (next & 63) < sizeof(*slot)) prefetch(slot + 1);
  }

  // Every cache line of the run ref (a long run: its header).
  void prefetch_run(std::uint32_t ref) const {
    if (ref == Table<std::uint32_t>::kEmpty) return;
    const Span* b = spans.data() + (ref & detail::kRefBegin);
    std::uint32_t n = std::max<std::uint32_t>(ref >> detail::kRefShift, 1);
    auto line = reinterpret_cast<std::uintptr_t>(b) & ~std::uintptr_t{63};
    auto last = reinterpret_cast<std::uintptr_t>(b + n) - 1;
    for (; line <= last; line += 64) prefetch(reinterpret_cast<const void*>(line));
  }

  // The lengths in m whose probe in search4 can find something: a direct entry, or a filter that
  // admits a. Prefetches each one's direct entry or hash slot (the first admitted need not be the
  // match: with a handful of lengths a filter false positive at a longer one is common).
  template <class T>
  std::uint32_t admit4(const T (&tables)[33], std::uint32_t m, std::uint32_t a, bool sessions) const {
    std::uint32_t admitted = 0;
    if (sessions && (m >> 31) != 0 && !v4_block.empty() && v4_block[a >> 16] != kNoBlock) {
      prefetch(&v4_direct[(std::size_t{v4_block[a >> 16]} << 16) | (a & 0xFFFF)]);
      admitted = 1u << 31;
      m &= ~(1u << 31);
    }
    while (m != 0) {
      int bit = 31 - __builtin_clz(m);
      m &= ~(1u << bit);
      std::uint64_t h = hash_key(mask4(a, bit + 1));
      if (!tables[bit + 1].admits(h)) continue;
      prefetch_home(tables[bit + 1], h);
      admitted |= 1u << bit;
    }
    if (!tables[0].empty()) {
      std::uint64_t h = hash_key(std::uint32_t{0});
      if (tables[0].admits(h)) prefetch_home(tables[0], h);
    }
    return admitted;
  }

  // Reads the entries admit4 prefetched in search4's order and prefetches the first run found
  // (a static's only span sits in its slot). False if there is none. Takes the lengths found empty
  // (filter false positives, empty direct entries) out of m, so the lookup does not probe them again.
  template <class T>
  bool first_run4(const T (&tables)[33], std::uint32_t& m, std::uint32_t a, bool sessions) const {
    constexpr bool kInline = std::is_same_v<T, Table<std::uint32_t, true>>;
    auto probe = [&](int len) {
      const typename T::Slot* slot = nullptr;
      const std::uint32_t run = run4(tables, len, a, sessions, slot);
      if (kInline && slot != nullptr && (run >> detail::kRefShift) == 1) return true;
      if (run == Table<std::uint32_t>::kEmpty) return false;
      prefetch_run(run);
      return true;
    };
    for (std::uint32_t rest = m; rest != 0;) {
      int bit = 31 - __builtin_clz(rest);
      rest &= ~(1u << bit);
      if (probe(bit + 1)) return true;
      m &= ~(1u << bit);
    }
    return !tables[0].empty() && probe(0);
  }

  // lookup6's probes of class cls, a stage earlier than IPv4's (there is no per-/16 word to fetch
  // first): kFilter prefetches each table's filter word, kSlot the hash slots of the tables whose
  // filter admits the key, kRun reads those in lookup6's order and prefetches the first run found.
  enum class Ahead6 : std::uint8_t { kFilter, kSlot, kRun };
  // Filter words are prefetched for the longest few lengths only: an index with dozens of IPv6
  // prefix lengths would otherwise spend more on them than the misses cost.
  static constexpr std::size_t kFilterAhead = 4;
  bool ahead6(const Key128& key, int cls, Ahead6 what) const {
    bool any = false;
    const std::size_t tables = what == Ahead6::kFilter ? std::min(v6[cls].size(), kFilterAhead) : v6[cls].size();
    for (std::size_t i = 0; i < tables; ++i) {
      const auto& table = v6[cls][i];
      Key128 k = mask6(key, v6_len[cls][i]);
      std::uint64_t h = hash_key(k);
      if (what == Ahead6::kFilter) {
        prefetch(table.filter_word(h));
        continue;
      }
      if (!table.admits(h)) continue;
      if (what == Ahead6::kSlot) {
        prefetch_home(table, h);
        any = true;
        continue;
      }
      std::uint32_t run = table.find(k);
      if (run == Table<Key128>::kEmpty) continue;
      prefetch_run(run);
      return true;
    }
    return any;
  }

  // One query of lookup_batch between the stages.
  struct InFlight {
    Key128 key;                 // IPv6
    std::uint64_t lengths = 0;  // IPv4: the per-/16 word, less the lengths admit4 and first_run4 ruled out
    std::uint32_t a = 0;        // IPv4
    bool v4 = false;
  };

  void stage1(const HolderQuery& q, InFlight& f) const {
    const auto& b = q.ip.bytes();
    f.v4 = v4_mapped(b);
    if (f.v4) {
      std::memcpy(&f.a, b.data() + 12, 4);
      f.a = __builtin_bswap32(f.a);
      if (!v4_lengths.empty()) prefetch(&v4_lengths[f.a >> 16]);
      if (!v4_block.empty()) prefetch(&v4_block[f.a >> 16]);
      return;
    }
    f.key = key6(q.ip);
    ahead6(f.key, 0, Ahead6::kFilter);
    ahead6(f.key, 1, Ahead6::kFilter);
  }
  void stage2(InFlight& f) const {
    if (!f.v4) {
      ahead6(f.key, 0, Ahead6::kSlot);
      ahead6(f.key, 1, Ahead6::kSlot);
      return;
    }
    std::uint64_t lengths = v4_lengths.empty() ? 0 : v4_lengths[f.a >> 16];
    // Both classes: a session found in stage 3 may still not cover the instant.
    f.lengths = admit4(v4_sessions, static_cast<std::uint32_t>(lengths), f.a, true) |
                std::uint64_t{admit4(v4_statics, static_cast<std::uint32_t>(lengths >> 32), f.a, false)} << 32;
  }
  void stage3(InFlight& f) const {
    if (!f.v4) {
      if (!ahead6(f.key, 0, Ahead6::kRun)) ahead6(f.key, 1, Ahead6::kRun);
      return;
    }
    auto sessions = static_cast<std::uint32_t>(f.lengths);
    auto statics = static_cast<std::uint32_t>(f.lengths >> 32);
    if (!first_run4(v4_sessions, sessions, f.a, true)) first_run4(v4_statics, statics, f.a, false);
    f.lengths = sessions | std::uint64_t{statics} << 32;
  }
  std::optional<Holder> stage4(const HolderQuery& q, const InFlight& f) const {
    if (f.v4) return lookup4(f.a, f.lengths, q.t.micros(), q.port);
    return lookup6(f.key, q.t.micros(), q.port);
  }
};

struct HolderIndex::Builder::Pending {
  struct Rec {
    std::uint8_t cls;  // 0 session, 1 static
    std::uint8_t v6;
    std::uint8_t len;
    Key128 key;
    Span span;
  };
  std::vector<Rec> recs;
  std::vector<std::string> customers;
  // Customer id -> index: open addressing over indexes into `customers` (std::unordered_map's
  // node chasing dominated building from a million sessions).
  // Each slot: upper 32 bits a hash tag, lower 32 bits the index (so probing rarely touches the strings).
  std::vector<std::uint64_t> slots = std::vector<std::uint64_t>(1024, kEmpty);
  std::uint32_t sessions = 0, statics = 0;
  static constexpr std::uint64_t kEmpty = ~0ull;

  std::uint32_t customer(std::string_view id) {
    std::size_t mask = slots.size() - 1;
    std::uint64_t h = std::hash<std::string_view>{}(id);
    std::uint64_t tag = h >> 32;
    std::size_t i = h & mask;
    while (slots[i] != kEmpty) {
      if ((slots[i] >> 32) == tag && customers[slots[i] & 0xFFFFFFFFu] == id) {
        return static_cast<std::uint32_t>(slots[i]);
      }
      i = (i + 1) & mask;
    }
    auto index = static_cast<std::uint32_t>(customers.size());
    customers.emplace_back(id);
    slots[i] = (tag << 32) | index;
    if (customers.size() * 2 > slots.size()) grow();
    return index;
  }
  void grow() {
    std::vector<std::uint64_t> bigger(slots.size() * 2, kEmpty);
    std::size_t mask = bigger.size() - 1;
    for (std::uint32_t k = 0; k < customers.size(); ++k) {
      std::uint64_t h = std::hash<std::string_view>{}(customers[k]);
      std::size_t i = h & mask;
      while (bigger[i] != kEmpty) i = (i + 1) & mask;
      bigger[i] = ((h >> 32) << 32) | k;
    }
    slots.swap(bigger);
  }
  void add(std::uint8_t cls, const core::IpPrefix& p, Span span) {
    Rec r{};
    r.cls = cls;
    r.v6 = p.network().is_v4() ? 0 : 1;
    r.len = static_cast<std::uint8_t>(p.length());
    if (r.v6 != 0) {
      r.key = mask6(key6(p.network()), p.length());
    } else {
      r.key.lo = mask4(p.network().v4_value(), p.length());
    }
    r.span = span;
    recs.push_back(r);
  }
};

HolderIndex::Builder::Builder() : p_(std::make_unique<Pending>()) {}
HolderIndex::Builder::~Builder() = default;

void HolderIndex::Builder::reserve(std::size_t entries) {
  p_->recs.reserve(entries);
}

void HolderIndex::Builder::add_session(const Session& s) {
  add_session(s.customer_id, s.prefix, s.port_from, s.port_to, s.start, s.stop);
}

void HolderIndex::Builder::add_session(std::string_view customer_id, const core::IpPrefix& prefix,
                                       std::optional<std::uint16_t> port_from, std::optional<std::uint16_t> port_to,
                                       core::Timestamp start, std::optional<core::Timestamp> stop) {
  Span span{};
  span.from = start.micros();
  span.to = stop ? stop->micros() : kMaxTime;
  span.customer = p_->customer(customer_id);
  span.ordinal = p_->sessions++;
  if (port_from.has_value() || port_to.has_value()) span.info = Span::kHasPorts;
  span.port_lo = port_from.value_or(0);
  span.port_hi = port_to.value_or(65535);
  p_->add(0, prefix, span);
}

void HolderIndex::Builder::add_static(const StaticAssignment& a) {
  Span span{};
  span.from = a.valid_from ? a.valid_from->micros() : kMinTime;
  span.to = a.valid_to ? a.valid_to->micros() : kMaxTime;
  span.customer = p_->customer(a.customer_id);
  span.ordinal = p_->statics++;
  p_->add(1, a.prefix, span);
}

HolderIndex HolderIndex::Builder::build() {
  auto& recs = p_->recs;
  std::sort(recs.begin(), recs.end(), [](const Pending::Rec& a, const Pending::Rec& b) {
    if (a.cls != b.cls) return a.cls < b.cls;
    if (a.v6 != b.v6) return a.v6 < b.v6;
    if (a.len != b.len) return a.len > b.len;
    if (a.key != b.key) return a.key < b.key;
    if (a.span.from != b.span.from) return a.span.from < b.span.from;
    return a.span.ordinal < b.span.ordinal;
  });
  HolderIndex index;
  auto& impl = *index.impl_;
  auto same_prefix = [](const Pending::Rec& a, const Pending::Rec& b) {
    return a.cls == b.cls && a.v6 == b.v6 && a.len == b.len && a.key == b.key;
  };
  std::size_t headers = 0;
  for (std::size_t k = 0, e = 0; k < recs.size(); k = e) {
    for (e = k + 1; e < recs.size() && same_prefix(recs[e], recs[k]);) ++e;
    headers += e - k > kShortRun;
  }
  // Run references keep kRefShift bits for the index (and kEmpty stays distinct).
  if (recs.size() + headers >= detail::kRefBegin) throw std::length_error("holder index: too many entries");
  impl.spans.reserve(recs.size() + headers);
  bool any_v4 = std::any_of(recs.begin(), recs.end(), [](const Pending::Rec& r) { return r.v6 == 0; });
  if (any_v4) impl.v4_lengths.assign(std::size_t{1} << 16, 0);

  // Appends the run recs[k, e) to the spans; returns the index its table slot points at.
  auto emit_run = [&](std::size_t k, std::size_t e) {
    auto begin = static_cast<std::uint32_t>(impl.spans.size());
    auto n = static_cast<std::uint32_t>(e - k);
    if (n > kShortRun) {
      Span header{};
      header.from = static_cast<std::int64_t>(impl.max_to.size());
      header.info = Span::kLongRun | n;
      impl.spans.push_back(header);
      std::int64_t max_to = kMinTime;
      for (std::size_t x = k; x < e; ++x) {
        max_to = std::max(max_to, recs[x].span.to);
        impl.max_to.push_back(max_to);
        impl.spans.push_back(recs[x].span);
      }
      return begin;
    }
    for (std::size_t x = k; x < e; ++x) impl.spans.push_back(recs[x].span);
    return begin | (n << detail::kRefShift);
  };

  std::size_t i = 0;
  while (i < recs.size()) {
    // One table per (class, family, length).
    const std::uint8_t cls = recs[i].cls, len = recs[i].len;
    std::size_t j = i;
    std::size_t keys = 0;
    while (j < recs.size() && recs[j].cls == cls && recs[j].v6 == recs[i].v6 && recs[j].len == len) {
      if (j == i || recs[j].key != recs[j - 1].key) ++keys;
      ++j;
    }
    std::size_t dense = 0;  // keys that go to direct blocks
    if (cls == 0 && len == 32 && recs[i].v6 == 0) {
      std::vector<std::uint32_t> per16(std::size_t{1} << 16, 0);
      for (std::size_t k = i; k < j; ++k) {
        if (k == i || recs[k].key != recs[k - 1].key) ++per16[recs[k].key.lo >> 16];
      }
      std::uint32_t blocks = 0;
      for (std::size_t x = 0; x < per16.size(); ++x) {
        if (per16[x] < Impl::kDenseKeys) continue;
        if (impl.v4_block.empty()) impl.v4_block.assign(per16.size(), Impl::kNoBlock);
        impl.v4_block[x] = blocks++;
        dense += per16[x];
      }
      impl.v4_direct.assign(std::size_t{blocks} << 16, Table<std::uint32_t>::kEmpty);
    }
    auto fill = [&](auto& table, auto on_key) {
      table.init(keys - dense);
      std::size_t k = i;
      while (k < j) {
        std::size_t e = k;
        while (e < j && recs[e].key == recs[k].key) ++e;
        on_key(table, recs[k].key, emit_run(k, e));
        k = e;
      }
    };
    if (recs[i].v6 != 0) {
      impl.v6_len[cls].push_back(len);
      fill(impl.v6[cls].emplace_back(), [&](auto& table, const Key128& key, std::uint32_t begin) {
        table.insert(key, begin, impl.spans[begin & detail::kRefBegin]);
      });
    } else {
      // Lengths 1..32 are bits 0..31 of the session half and bits 32..63 of the static half.
      const std::uint64_t bit = len == 0 ? 0 : std::uint64_t{1} << ((len - 1) + (cls == 0 ? 0 : 32));
      auto on_key = [&](auto& table, const Key128& key, std::uint32_t begin) {
        auto a = static_cast<std::uint32_t>(key.lo);
        if (len == 32 && cls == 0 && !impl.v4_block.empty() && impl.v4_block[a >> 16] != Impl::kNoBlock) {
          impl.v4_direct[(std::size_t{impl.v4_block[a >> 16]} << 16) | (a & 0xFFFF)] = begin;
        } else {
          table.insert(a, begin, impl.spans[begin & detail::kRefBegin]);
        }
        std::uint32_t first = a >> 16;
        std::uint32_t count = len >= 16 ? 1 : 1u << (16 - len);
        for (std::uint32_t x = 0; x < count; ++x) impl.v4_lengths[first + x] |= bit;
      };
      if (cls == 0) {
        fill(impl.v4_sessions[len], on_key);
      } else {
        fill(impl.v4_statics[len], on_key);
      }
    }
    i = j;
  }
  index.customers_ = std::move(p_->customers);
  index.sessions_ = p_->sessions;
  index.statics_ = p_->statics;
  p_ = std::make_unique<Pending>();
  return index;
}

HolderIndex::HolderIndex() : impl_(std::make_unique<Impl>()) {}
HolderIndex::~HolderIndex() = default;
HolderIndex::HolderIndex(HolderIndex&&) noexcept = default;
HolderIndex& HolderIndex::operator=(HolderIndex&&) noexcept = default;

std::optional<HolderIndex> HolderIndex::from_snapshot(store::Store& store) {
  auto snapshot = store.holder_snapshot();
  if (!snapshot.image) return std::nullopt;
  return deserialize(*snapshot.image);
}

HolderIndex HolderIndex::from_store(store::Store& store) {
  auto snapshot = store.holder_snapshot();
  if (snapshot.image) {
    if (auto index = deserialize(*snapshot.image)) return std::move(*index);
    spdlog::warn("holder snapshot not usable, building the index from the tables bytes={}", snapshot.image->size());
  }
  Builder b;
  auto statics = store.list_assignments();
  b.reserve(statics.size() + static_cast<std::size_t>(store.count_sessions()));
  // Every kCheckEvery-th entry (and the first) becomes a check of the saved image: its own start.
  constexpr std::size_t kCheckEvery = 4096;
  std::vector<HolderQuery> checks;
  std::size_t n = 0;
  auto check = [&](const core::IpPrefix& p, std::optional<core::Timestamp> t, std::optional<std::uint16_t> port) {
    if (n++ % kCheckEvery == 0) checks.push_back({p.network(), t.value_or(core::Timestamp{}), port});
  };
  for (const auto& a : statics) {
    b.add_static(a);
    check(a.prefix, a.valid_from, std::nullopt);
  }
  store.for_each_session_view([&](const store::Store::SessionView& s) {
    if (auto p = core::IpPrefix::parse(s.prefix)) {
      b.add_session(s.customer_id, *p, s.port_from, s.port_to, s.start, s.stop);
      check(*p, s.start, s.port_from);
    }
  });
  auto index = b.build();
  if (store.in_transaction() && index.sessions() + index.statics() > 0) {
    auto image = index.serialize(checks);
    if (image.size() <= kMaxSnapshotBytes) {
      store.save_holder_snapshot(snapshot.generation, image);
    } else {
      spdlog::warn("holder snapshot too large, not saved bytes={} limit={}", image.size(), kMaxSnapshotBytes);
    }
  }
  return index;
}

namespace {

// The image: kSnapshotMagic, the layout word, then the arrays (each its element count and raw
// bytes), the customer ids, the checks with their answers, and an XXH3 checksum of all before it.
// Bump kSnapshotVersion whenever Impl's arrays or their meaning change.
constexpr std::string_view kSnapshotMagic = "klartext-holder-index";
constexpr std::uint64_t kSnapshotVersion = 1;
constexpr std::uint64_t kLayout = kSnapshotVersion << 48 | sizeof(Span) << 32 |
                                  sizeof(Table<std::uint32_t>::Slot) << 24 |
                                  sizeof(Table<std::uint32_t, true>::Slot) << 16 | sizeof(Table<Key128>::Slot) << 8 |
                                  static_cast<std::uint64_t>(detail::kRefShift);

class ImageWriter {
 public:
  void u64(std::uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }
  template <class V>
  void array(const V& v) {
    static_assert(std::is_trivially_copyable_v<typename V::value_type>);
    u64(v.size());
    if (!v.empty()) out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(typename V::value_type));
  }
  template <class T>
  void table(const T& t) {
    u64(t.mask);
    array(t.slots);
    u64(t.filter_mask);
    array(t.filter);
  }
  std::string out;
};

class ImageReader {
 public:
  explicit ImageReader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    if (in_.size() - pos_ < sizeof v) {
      ok_ = false;
      return 0;
    }
    std::memcpy(&v, in_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  template <class V>
  void array(V& v) {
    using T = typename V::value_type;
    std::uint64_t n = u64();
    if (!ok_ || n > (in_.size() - pos_) / sizeof(T)) {
      ok_ = false;
      return;
    }
    v.resize(n);
    if (n != 0) std::memcpy(v.data(), in_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
  }
  template <class T>
  void table(T& t) {
    t.mask = u64();
    array(t.slots);
    t.filter_mask = u64();
    array(t.filter);
    // The shapes lookups rely on: a power-of-two table with its mask, a filter of mask+1 bits.
    if (t.slots.empty() && t.filter.empty()) return;
    if (t.slots.size() != t.mask + 1 || (t.mask & (t.mask + 1)) != 0 || t.filter.size() * 64 != t.filter_mask + 1 ||
        (t.filter_mask & (t.filter_mask + 1)) != 0) {
      ok_ = false;
    }
  }
  std::string_view bytes(std::size_t n) {
    if (in_.size() - pos_ < n) {
      ok_ = false;
      return {};
    }
    auto v = in_.substr(pos_, n);
    pos_ += n;
    return v;
  }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// A lookup's answer as two words: found, kind and customer; the entry.
std::array<std::uint64_t, 2> answer_words(const std::optional<Holder>& h) {
  if (!h) return {0, 0};
  return {std::uint64_t{1} << 63 | std::uint64_t{h->kind == HolderKind::kStatic ? 1u : 0u} << 32 | h->customer,
          h->entry};
}

}  // namespace

std::string HolderIndex::serialize(std::span<const HolderQuery> checks) const {
  const Impl& m = *impl_;
  ImageWriter w;
  w.out.append(kSnapshotMagic);
  w.u64(kLayout);
  for (const auto& t : m.v4_sessions) w.table(t);
  for (const auto& t : m.v4_statics) w.table(t);
  w.array(m.v4_lengths);
  w.array(m.v4_block);
  w.array(m.v4_direct);
  for (int c = 0; c < 2; ++c) {
    w.u64(m.v6[c].size());
    for (const auto& t : m.v6[c]) w.table(t);
    w.array(m.v6_len[c]);
  }
  w.array(m.spans);
  w.array(m.max_to);
  w.u64(customers_.size());
  for (const auto& id : customers_) {
    w.u64(id.size());
    w.out.append(id);
  }
  w.u64(sessions_);
  w.u64(statics_);
  w.u64(checks.size());
  for (const auto& q : checks) {
    w.out.append(reinterpret_cast<const char*>(q.ip.bytes().data()), 16);
    w.u64(static_cast<std::uint64_t>(q.t.micros()));
    w.u64(q.port ? 0x10000u | *q.port : 0);
    for (auto word : answer_words(lookup(q.ip, q.t, q.port))) w.u64(word);
  }
  w.u64(XXH3_64bits(w.out.data(), w.out.size()));
  return std::move(w.out);
}

std::optional<HolderIndex> HolderIndex::deserialize(std::string_view image) {
  if (image.size() < kSnapshotMagic.size() + 16 || !image.starts_with(kSnapshotMagic)) return std::nullopt;
  std::uint64_t sum;
  std::memcpy(&sum, image.data() + image.size() - 8, 8);
  if (XXH3_64bits(image.data(), image.size() - 8) != sum) return std::nullopt;
  ImageReader r(image.substr(kSnapshotMagic.size(), image.size() - 8 - kSnapshotMagic.size()));
  if (r.u64() != kLayout) return std::nullopt;
  HolderIndex index;
  Impl& m = *index.impl_;
  for (auto& t : m.v4_sessions) r.table(t);
  for (auto& t : m.v4_statics) r.table(t);
  r.array(m.v4_lengths);
  r.array(m.v4_block);
  r.array(m.v4_direct);
  for (int c = 0; c < 2 && r.ok(); ++c) {
    std::uint64_t n = r.u64();
    if (n > 129) return std::nullopt;
    m.v6[c].resize(n);
    for (auto& t : m.v6[c]) r.table(t);
    r.array(m.v6_len[c]);
  }
  r.array(m.spans);
  r.array(m.max_to);
  std::uint64_t customers = r.u64();
  if (!r.ok() || customers > image.size() / 8) return std::nullopt;
  index.customers_.reserve(customers);
  for (std::uint64_t i = 0; i < customers && r.ok(); ++i) index.customers_.emplace_back(r.bytes(r.u64()));
  index.sessions_ = r.u64();
  index.statics_ = r.u64();
  std::uint64_t checks = r.u64();
  if (!r.ok() || checks > image.size() / 48) return std::nullopt;
  // The arrays as lookups use them: v4_lengths has an entry per /16 (or none), a block index
  // points into v4_direct, a run reference into spans.
  if (!m.v4_lengths.empty() && m.v4_lengths.size() != 65536) return std::nullopt;
  if (!m.v4_block.empty() && m.v4_block.size() != 65536) return std::nullopt;
  for (auto b : m.v4_block) {
    if (b != Impl::kNoBlock && (std::size_t{b} + 1) * 65536 > m.v4_direct.size()) return std::nullopt;
  }
  for (int c = 0; c < 2; ++c) {
    if (m.v6_len[c].size() != m.v6[c].size()) return std::nullopt;
  }
  for (std::uint64_t i = 0; i < checks && r.ok(); ++i) {
    core::IpAddress::Bytes ip{};
    auto raw = r.bytes(16);
    if (!r.ok()) break;
    std::memcpy(ip.data(), raw.data(), 16);
    auto t = core::Timestamp::from_micros(static_cast<std::int64_t>(r.u64()));
    std::uint64_t port = r.u64();
    std::array<std::uint64_t, 2> want{r.u64(), r.u64()};
    if (!r.ok()) break;
    std::optional<std::uint16_t> p;
    if (port != 0) p = static_cast<std::uint16_t>(port & 0xFFFF);
    auto got = index.lookup(core::IpAddress::v6(ip), t, p);
    if (answer_words(got) != want || (got && got->customer >= index.customers_.size())) return std::nullopt;
  }
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return index;
}

std::optional<Holder> HolderIndex::lookup(const core::IpAddress& ip, core::Timestamp t,
                                          std::optional<std::uint16_t> port) const {
  const auto& b = ip.bytes();
  if (v4_mapped(b)) {
    std::uint32_t a;
    std::memcpy(&a, b.data() + 12, 4);
    return impl_->lookup4(__builtin_bswap32(a), t.micros(), port);
  }
  return impl_->lookup6(key6(ip), t.micros(), port);
}

void HolderIndex::lookup_batch(std::span<const HolderQuery> queries, std::span<std::optional<Holder>> out) const {
  if (out.size() < queries.size()) throw std::invalid_argument("holder index: lookup_batch output too short");
  // A software pipeline: while query i is answered, the stages fetch ahead for queries i + kBatchDistance,
  // i + 2 * kBatchDistance and i + 3 * kBatchDistance, so their cache misses overlap instead of queueing.
  constexpr std::size_t d = kBatchDistance;
  constexpr std::size_t kRing = 4 * d;  // the queries between stage 1 and the answer
  static_assert((kRing & (kRing - 1)) == 0);
  const std::size_t n = queries.size();
  const Impl& impl = *impl_;
  std::array<Impl::InFlight, kRing> ring;
  for (std::size_t i = 0; i < n + 3 * d; ++i) {
    if (i < n) impl.stage1(queries[i], ring[i % kRing]);
    if (i >= d && i - d < n) impl.stage2(ring[(i - d) % kRing]);
    if (i >= 2 * d && i - 2 * d < n) impl.stage3(ring[(i - 2 * d) % kRing]);
    if (i >= 3 * d) out[i - 3 * d] = impl.stage4(queries[i - 3 * d], ring[(i - 3 * d) % kRing]);
  }
}

std::size_t HolderIndex::memory_bytes() const {
  std::size_t n = impl_->spans.capacity() * sizeof(Span) + impl_->max_to.capacity() * sizeof(std::int64_t) +
                  impl_->v4_lengths.capacity() * sizeof(std::uint64_t) +
                  impl_->v4_block.capacity() * sizeof(std::uint32_t) +
                  impl_->v4_direct.capacity() * sizeof(std::uint32_t);
  for (int c = 0; c < 2; ++c) {
    for (const auto& t : impl_->v4_sessions) n += c == 0 ? t.memory_bytes() : 0;
    for (const auto& t : impl_->v4_statics) n += c == 0 ? t.memory_bytes() : 0;
    for (const auto& t : impl_->v6[c]) n += t.memory_bytes();
  }
  for (const auto& c : customers_) n += sizeof(std::string) + (c.size() > 15 ? c.capacity() : 0);
  return n;
}

}  // namespace klartext::customers
