// The holder index: per-prefix-length hash tables over runs of time spans (rules in holder_index.hpp).
#include "customers/holder_index.hpp"

#include <algorithm>
#include <limits>

#include "store/store.hpp"

namespace klartext::customers {

namespace {

constexpr std::int64_t kMinTime = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMaxTime = std::numeric_limits<std::int64_t>::max();

struct Key128 {
  std::uint64_t hi = 0, lo = 0;
  bool operator==(const Key128&) const = default;
  auto operator<=>(const Key128&) const = default;
};

inline std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 31;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 29;
  return h;
}
inline std::uint64_t hash_key(std::uint32_t k) {
  return (static_cast<std::uint64_t>(k) * 0x9E3779B97F4A7C15ull) >> 20;
}
inline std::uint64_t hash_key(const Key128& k) {
  return mix(k.hi * 0x9E3779B97F4A7C15ull + k.lo);
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

// One way a candidate can end the search.
enum class Found : std::uint8_t { kNone, kHolder, kAmbiguous };

}  // namespace

namespace detail {

// A time span of one session or assignment; runs of spans for one masked address are sorted by
// (from, ordinal), and max_to is the running maximum of `to` within the run.
struct Span {
  std::int64_t from;
  std::int64_t to;
  std::int64_t max_to;
  std::uint32_t customer;
  std::uint32_t ordinal;
  std::uint16_t port_lo;
  std::uint16_t port_hi;
  bool has_ports;
};

template <class K>
struct Table {
  struct Slot {
    K key{};
    std::uint32_t begin = 0;
    std::uint32_t count = 0;  // 0: empty slot
  };
  int len = 0;
  std::uint64_t mask = 0;
  std::vector<Slot> slots;
  // One bit per 1/8 key, from other hash bits than the slot index: most misses are answered by
  // this small (cache-resident) bitset instead of a cache miss into the slots.
  std::uint64_t filter_mask = 0;
  std::vector<std::uint64_t> filter;

  void init(std::size_t n) {
    std::size_t cap = 16;
    while (cap < n * 2) cap <<= 1;  // load factor <= 0.5: short probe sequences
    slots.assign(cap, Slot{});
    mask = cap - 1;
    std::size_t bits = 64;
    while (bits < n * 8) bits <<= 1;
    filter.assign(bits / 64, 0);
    filter_mask = bits - 1;
  }
  void insert(const K& k, std::uint32_t begin, std::uint32_t count) {
    std::uint64_t h = hash_key(k);
    std::uint64_t b = (h >> 32) & filter_mask;
    filter[b >> 6] |= 1ull << (b & 63);
    std::size_t i = h & mask;
    while (slots[i].count != 0) i = (i + 1) & mask;
    slots[i] = Slot{k, begin, count};
  }
  // The slot to probe for k, or null when the filter rules k out; prefetches the slot's line so
  // that the probes of several lengths (and of sessions and statics) overlap their cache misses.
  const Slot* candidate(const K& k) const {
    std::uint64_t h = hash_key(k);
    std::uint64_t b = (h >> 32) & filter_mask;
    if ((filter[b >> 6] & (1ull << (b & 63))) == 0) return nullptr;
    const Slot* s = &slots[h & mask];
    __builtin_prefetch(s);
    return s;
  }
  const Slot* find_from(const Slot* s, const K& k) const {
    std::size_t i = static_cast<std::size_t>(s - slots.data());
    for (;;) {
      const Slot& slot = slots[i];
      if (slot.count == 0) return nullptr;
      if (slot.key == k) return &slot;
      i = (i + 1) & mask;
    }
  }
};

}  // namespace detail

using detail::Span;
using detail::Table;

struct HolderIndex::Impl {
  // [0] sessions, [1] statics; tables sorted by prefix length, longest first.
  std::vector<Table<std::uint32_t>> v4[2];
  std::vector<Table<Key128>> v6[2];
  std::vector<Span> spans;

  Found scan(const Span* b, std::uint32_t n, std::int64_t t, std::optional<std::uint16_t> port,
             const Span*& hit) const {
    std::uint32_t ub;
    if (n <= 8) {
      ub = n;
      while (ub > 0 && b[ub - 1].from > t) --ub;
    } else {
      ub = static_cast<std::uint32_t>(
          std::upper_bound(b, b + n, t, [](std::int64_t x, const Span& s) { return x < s.from; }) - b);
    }
    for (std::uint32_t i = ub; i-- > 0;) {
      const Span& s = b[i];
      if (s.max_to <= t) break;  // no span at or before i can still cover t
      if (s.to <= t) continue;
      if (!s.has_ports) {
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

  // Up to this many tables per class take part in the prefetching pass; more are probed plainly.
  static constexpr std::size_t kMaxPrefetch = 32;

  template <class K, class MaskFn>
  struct Candidates {
    const Table<K>* table[kMaxPrefetch];
    const typename Table<K>::Slot* slot[kMaxPrefetch];
    K key[kMaxPrefetch];
    std::size_t n = 0;
  };

  // Pass 1: per table (longest prefix first), the masked key and its slot if the filter lets it.
  template <class K, class MaskFn>
  void gather(const std::vector<Table<K>>& tables, const K& key, MaskFn mask_fn, Candidates<K, MaskFn>& c) const {
    for (std::size_t i = 0; i < tables.size() && i < kMaxPrefetch; ++i) {
      K k = mask_fn(key, tables[i].len);
      if (const auto* slot = tables[i].candidate(k)) {
        c.table[c.n] = &tables[i];
        c.slot[c.n] = slot;
        c.key[c.n] = k;
        ++c.n;
      }
    }
  }

  // Pass 2: the candidates in order, then any tables beyond kMaxPrefetch.
  template <class K, class MaskFn>
  Found search(const std::vector<Table<K>>& tables, const Candidates<K, MaskFn>& c, const K& key, MaskFn mask_fn,
               std::int64_t t, std::optional<std::uint16_t> port, const Span*& hit) const {
    for (std::size_t i = 0; i < c.n; ++i) {
      const auto* slot = c.table[i]->find_from(c.slot[i], c.key[i]);
      if (slot == nullptr) continue;
      Found f = scan(spans.data() + slot->begin, slot->count, t, port, hit);
      if (f != Found::kNone) return f;
    }
    for (std::size_t i = kMaxPrefetch; i < tables.size(); ++i) {
      K k = mask_fn(key, tables[i].len);
      const auto* first = tables[i].candidate(k);
      const auto* slot = first == nullptr ? nullptr : tables[i].find_from(first, k);
      if (slot == nullptr) continue;
      Found f = scan(spans.data() + slot->begin, slot->count, t, port, hit);
      if (f != Found::kNone) return f;
    }
    return Found::kNone;
  }

  template <class K, class MaskFn>
  std::optional<Holder> lookup(const std::vector<Table<K>> (&tables)[2], const K& key, MaskFn mask_fn, std::int64_t t,
                               std::optional<std::uint16_t> port) const {
    Candidates<K, MaskFn> c[2];
    gather(tables[0], key, mask_fn, c[0]);
    gather(tables[1], key, mask_fn, c[1]);
    for (int cls = 0; cls < 2; ++cls) {
      const Span* hit = nullptr;
      Found f = search(tables[cls], c[cls], key, mask_fn, t, port, hit);
      if (f == Found::kAmbiguous) return std::nullopt;
      if (f == Found::kHolder) {
        return Holder{hit->customer, cls == 0 ? HolderKind::kSession : HolderKind::kStatic, hit->ordinal};
      }
    }
    return std::nullopt;
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
  span.has_ports = port_from.has_value() || port_to.has_value();
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
  impl.spans.reserve(recs.size());
  for (auto& r : recs) impl.spans.push_back(r.span);

  std::size_t i = 0;
  while (i < recs.size()) {
    // One table per (class, family, length).
    std::size_t j = i;
    std::size_t keys = 0;
    while (j < recs.size() && recs[j].cls == recs[i].cls && recs[j].v6 == recs[i].v6 && recs[j].len == recs[i].len) {
      if (j == i || recs[j].key != recs[j - 1].key) ++keys;
      ++j;
    }
    auto fill = [&](auto& table, auto to_key) {
      table.len = recs[i].len;
      table.init(keys);
      std::size_t k = i;
      while (k < j) {
        std::size_t e = k;
        std::int64_t max_to = kMinTime;
        while (e < j && recs[e].key == recs[k].key) {
          max_to = std::max(max_to, impl.spans[e].to);
          impl.spans[e].max_to = max_to;
          ++e;
        }
        table.insert(to_key(recs[k].key), static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(e - k));
        k = e;
      }
    };
    if (recs[i].v6 != 0) {
      auto& t = impl.v6[recs[i].cls].emplace_back();
      fill(t, [](const Key128& k) { return k; });
    } else {
      auto& t = impl.v4[recs[i].cls].emplace_back();
      fill(t, [](const Key128& k) { return static_cast<std::uint32_t>(k.lo); });
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

HolderIndex HolderIndex::from_store(store::Store& store) {
  Builder b;
  auto statics = store.list_assignments();
  b.reserve(statics.size() + static_cast<std::size_t>(store.count_sessions()));
  for (const auto& a : statics) b.add_static(a);
  store.for_each_session_view([&](const store::Store::SessionView& s) {
    if (auto p = core::IpPrefix::parse(s.prefix))
      b.add_session(s.customer_id, *p, s.port_from, s.port_to, s.start, s.stop);
  });
  return b.build();
}

std::optional<Holder> HolderIndex::lookup(const core::IpAddress& ip, core::Timestamp t,
                                          std::optional<std::uint16_t> port) const {
  if (ip.is_v4()) {
    return impl_->lookup(
        impl_->v4, ip.v4_value(), [](std::uint32_t a, int len) { return mask4(a, len); }, t.micros(), port);
  }
  return impl_->lookup(
      impl_->v6, key6(ip), [](const Key128& k, int len) { return mask6(k, len); }, t.micros(), port);
}

std::size_t HolderIndex::memory_bytes() const {
  std::size_t n = impl_->spans.capacity() * sizeof(Span);
  for (int c = 0; c < 2; ++c) {
    for (const auto& t : impl_->v4[c]) n += t.slots.capacity() * sizeof(t.slots[0]) + t.filter.capacity() * 8;
    for (const auto& t : impl_->v6[c]) n += t.slots.capacity() * sizeof(t.slots[0]) + t.filter.capacity() * 8;
  }
  for (const auto& c : customers_) n += sizeof(std::string) + (c.size() > 15 ? c.capacity() : 0);
  return n;
}

}  // namespace klartext::customers
