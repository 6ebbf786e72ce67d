// In-memory index answering "who held this address at that instant (and port)?" for ingest.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/ip.hpp"
#include "core/timestamp.hpp"
#include "customers/customer.hpp"

namespace klartext::store {
class Store;
}

namespace klartext::customers {

enum class HolderKind : std::uint8_t { kSession, kStatic };

struct Holder {
  std::uint32_t customer = 0;  // index for HolderIndex::customer_id()
  HolderKind kind = HolderKind::kStatic;
  std::uint32_t entry = 0;  // ordinal of the session / assignment in the order they were added
};

// One question for HolderIndex::lookup_batch: who held ip at t (and port)?
struct HolderQuery {
  core::IpAddress ip;
  core::Timestamp t;
  std::optional<std::uint16_t> port;
};

// The rules (also what the brute-force oracle in tests/unit/holder_index_test.cpp implements):
//  1. Sessions covering the instant (start <= t < stop; open sessions never stop) beat static
//     assignments. Among them the longest prefix wins, then the latest start, then the one added
//     last. A CGNAT session (port range) matches only a port inside its range; if the best
//     covering session has a port range and no port was given, the holder is unknown (a shared
//     address must not be pinned on one of its users).
//  2. Otherwise static assignments valid at t (valid_from <= t < valid_to, open ends unbounded):
//     the longest prefix wins, then the latest valid_from, then the one added last.
// IPv4 addresses match IPv4 prefixes only, IPv6 addresses IPv6 prefixes only.
//
// Layout: per (sessions|statics, family, prefix length) an open-addressing hash table from the
// masked address to a run of 32-byte time spans sorted by start (long runs are binary searched
// and carry running maxima of the ends, so a backwards scan stops as soon as no earlier span can
// still cover the instant). For IPv4 a per-/16 bitmask of the prefix lengths present there
// limits the probes to lengths that can match (sessions are nearly all /32: one probe; addresses
// outside the customer ranges: none); /32 sessions of a densely used /16 (a dynamic pool) are
// found through a direct array instead of hashing; an IPv4 static held by one span sits in its
// hash slot. The big arrays sit on transparent huge pages.
class HolderIndex {
 public:
  class Builder {
   public:
    Builder();
    ~Builder();
    void reserve(std::size_t entries);  // sessions + assignments expected (optional)
    void add_session(const Session& s);
    void add_session(std::string_view customer_id, const core::IpPrefix& prefix, std::optional<std::uint16_t> port_from,
                     std::optional<std::uint16_t> port_to, core::Timestamp start, std::optional<core::Timestamp> stop);
    void add_static(const StaticAssignment& a);
    HolderIndex build();

   private:
    friend class HolderIndex;
    struct Pending;
    std::unique_ptr<Pending> p_;
  };

  HolderIndex();
  ~HolderIndex();
  HolderIndex(HolderIndex&&) noexcept;
  HolderIndex& operator=(HolderIndex&&) noexcept;

  // All sessions and static assignments of the store: the store's snapshot image when it is
  // current (store::Store::holder_snapshot), else built from its tables and, inside a write
  // transaction, saved as the new image (`customers import` does that once after importing).
  static HolderIndex from_store(store::Store& store);
  // The index saved in `store` when there is a current, intact one; nullopt otherwise (from_store
  // then builds it). Only reads: any connection, any thread.
  static std::optional<HolderIndex> from_snapshot(store::Store& store);

  // The index as bytes and back (the store's snapshot): a million sessions' index loads in
  // milliseconds instead of a second of building. `checks` are lookups whose answers go into the
  // image; deserialize() asks them again and refuses an image whose answers differ (one written by
  // a build with another layout or hash), as well as one that is damaged or not well formed.
  std::string serialize(std::span<const HolderQuery> checks) const;
  static std::optional<HolderIndex> deserialize(std::string_view image);

  std::optional<Holder> lookup(const core::IpAddress& ip, core::Timestamp t,
                               std::optional<std::uint16_t> port = std::nullopt) const;
  // out[i] = lookup(queries[i]...) for every i (out must be at least as long as queries). Faster
  // than one lookup after another: the cache misses of neighbouring queries overlap.
  void lookup_batch(std::span<const HolderQuery> queries, std::span<std::optional<Holder>> out) const;
  // How far ahead lookup_batch's stages fetch (tests use batch sizes around its multiples).
  static constexpr std::size_t kBatchDistance = 8;
  const std::string& customer_id(std::uint32_t index) const { return customers_[index]; }
  std::size_t customers() const { return customers_.size(); }
  std::size_t sessions() const { return sessions_; }
  std::size_t statics() const { return statics_; }
  // Bytes held by the index (tables and spans), for the benchmark's memory report.
  std::size_t memory_bytes() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::vector<std::string> customers_;
  std::size_t sessions_ = 0;
  std::size_t statics_ = 0;
};

}  // namespace klartext::customers
