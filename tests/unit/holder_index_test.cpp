// Tests for the holder index: fixed cases (dynamic IP changing hands, CGNAT) and a brute-force oracle.
#include "customers/holder_index.hpp"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <random>
#include <span>
#include <stdexcept>
#include <unordered_map>

namespace klartext::customers {
namespace {

core::Timestamp ts(const char* s) {
  return *core::Timestamp::parse(s);
}
core::IpAddress ip(const char* s) {
  return *core::IpAddress::parse(s);
}
core::IpPrefix pfx(const char* s) {
  return *core::IpPrefix::parse(s);
}

std::string holder_of(const HolderIndex& idx, const char* a, const char* t,
                      std::optional<std::uint16_t> port = std::nullopt) {
  auto h = idx.lookup(ip(a), ts(t), port);
  return h ? idx.customer_id(h->customer) : "-";
}

TEST(HolderIndex, DynamicAddressChangesHands) {
  HolderIndex::Builder b;
  b.add_static({"POOL", pfx("203.0.113.0/24"), std::nullopt, std::nullopt});
  b.add_session({"K-2001", pfx("203.0.113.77"), {}, {}, ts("2026-11-26 22:00"), ts("2026-11-27 11:58"), "s1", ""});
  b.add_session({"K-2002", pfx("203.0.113.77"), {}, {}, ts("2026-11-27 12:03"), std::nullopt, "s2", ""});
  auto idx = b.build();
  EXPECT_EQ(holder_of(idx, "203.0.113.77", "2026-11-27 03:10:00"), "K-2001");
  EXPECT_EQ(holder_of(idx, "203.0.113.77", "2026-11-27 18:40:00"), "K-2002");
  // Between the sessions the pool prefix is the holder; a session beats the pool.
  EXPECT_EQ(holder_of(idx, "203.0.113.77", "2026-11-27 12:00:00"), "POOL");
  EXPECT_EQ(holder_of(idx, "203.0.113.77", "2026-11-27 11:58:00"), "POOL");  // stop is exclusive
  EXPECT_EQ(holder_of(idx, "203.0.113.78", "2026-11-27 03:10:00"), "POOL");
  EXPECT_EQ(holder_of(idx, "198.51.100.1", "2026-11-27 03:10:00"), "-");
  EXPECT_EQ(idx.lookup(ip("203.0.113.77"), ts("2026-11-27 03:10"))->kind, HolderKind::kSession);
}

TEST(HolderIndex, MostSpecificValidPrefixWins) {
  HolderIndex::Builder b;
  b.add_static({"BIG", pfx("198.51.100.0/24"), std::nullopt, std::nullopt});
  b.add_static({"SMALL", pfx("198.51.100.0/28"), ts("2026-01-01"), ts("2027-01-01")});
  b.add_static({"V6", pfx("2001:db8:100::/48"), std::nullopt, std::nullopt});
  b.add_session({"PD", pfx("2001:db8:100:5500::/56"), {}, {}, ts("2026-11-27"), std::nullopt, "", ""});
  auto idx = b.build();
  EXPECT_EQ(holder_of(idx, "198.51.100.7", "2026-11-27"), "SMALL");
  EXPECT_EQ(holder_of(idx, "198.51.100.7", "2025-11-27"), "BIG");
  EXPECT_EQ(holder_of(idx, "198.51.100.7", "2027-01-01"), "BIG");
  EXPECT_EQ(holder_of(idx, "198.51.100.20", "2026-11-27"), "BIG");
  EXPECT_EQ(holder_of(idx, "2001:db8:100::7", "2026-11-27"), "V6");
  EXPECT_EQ(holder_of(idx, "2001:db8:100:55ff::1", "2026-11-27 01:00"), "PD");
  EXPECT_EQ(holder_of(idx, "2001:db8:100:55ff::1", "2026-11-26"), "V6");
  EXPECT_EQ(holder_of(idx, "::ffff:198.51.100.7", "2026-11-27"), "SMALL");  // v4-mapped is IPv4
}

TEST(HolderIndex, CgnatPortRanges) {
  HolderIndex::Builder b;
  b.add_session({"K-2004", pfx("203.0.113.10"), 1024, 33279, ts("2026-11-01"), std::nullopt, "", ""});
  b.add_session({"K-2005", pfx("203.0.113.10"), 33280, 65535, ts("2026-11-01"), std::nullopt, "", ""});
  auto idx = b.build();
  EXPECT_EQ(holder_of(idx, "203.0.113.10", "2026-11-27", 2000), "K-2004");
  EXPECT_EQ(holder_of(idx, "203.0.113.10", "2026-11-27", 40000), "K-2005");
  EXPECT_EQ(holder_of(idx, "203.0.113.10", "2026-11-27", 123), "-");
  EXPECT_EQ(holder_of(idx, "203.0.113.10", "2026-11-27"), "-");  // shared address, no port: unknown
}

// The rules of holder_index.hpp, written the slow and obvious way.
struct Oracle {
  std::vector<Session> sessions;
  std::vector<StaticAssignment> statics;

  std::string lookup(const core::IpAddress& a, core::Timestamp t, std::optional<std::uint16_t> port) const {
    const Session* best = nullptr;
    std::size_t best_i = 0;
    for (std::size_t i = 0; i < sessions.size(); ++i) {
      const auto& s = sessions[i];
      if (s.prefix.network().is_v4() != a.is_v4() || !s.prefix.contains(a)) continue;
      if (t < s.start || (s.stop && t >= *s.stop)) continue;
      bool ported = s.port_from.has_value();
      if (ported && port && (*port < *s.port_from || *port > *s.port_to)) continue;
      bool better = best == nullptr || s.prefix.length() > best->prefix.length() ||
                    (s.prefix.length() == best->prefix.length() &&
                     (s.start > best->start || (s.start == best->start && i > best_i)));
      if (better) best = &s, best_i = i;
    }
    if (best != nullptr) return best->port_from && !port ? "-" : best->customer_id;
    const StaticAssignment* sb = nullptr;
    std::size_t sb_i = 0;
    auto from = [](const StaticAssignment& x) { return x.valid_from ? x.valid_from->micros() : INT64_MIN; };
    for (std::size_t i = 0; i < statics.size(); ++i) {
      const auto& s = statics[i];
      if (s.prefix.network().is_v4() != a.is_v4() || !s.prefix.contains(a)) continue;
      if ((s.valid_from && t < *s.valid_from) || (s.valid_to && t >= *s.valid_to)) continue;
      bool better =
          sb == nullptr || s.prefix.length() > sb->prefix.length() ||
          (s.prefix.length() == sb->prefix.length() && (from(s) > from(*sb) || (from(s) == from(*sb) && i > sb_i)));
      if (better) sb = &s, sb_i = i;
    }
    return sb != nullptr ? sb->customer_id : "-";
  }
};

std::string describe(const std::optional<Holder>& h) {
  if (!h) return "-";
  return std::to_string(h->customer) + (h->kind == HolderKind::kSession ? " session " : " static ") +
         std::to_string(h->entry);
}

// The index saved as an image (the store's snapshot) and loaded again answers every query as the
// original does, with the same customer ids.
void expect_image_answers_alike(const HolderIndex& idx, const std::vector<HolderQuery>& queries) {
  auto checks = std::span(queries).first(std::min<std::size_t>(queries.size(), 16));
  auto image = idx.serialize(checks);
  auto copy = HolderIndex::deserialize(image);
  ASSERT_TRUE(copy.has_value());
  EXPECT_EQ(copy->sessions(), idx.sessions());
  EXPECT_EQ(copy->statics(), idx.statics());
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const auto& q = queries[i];
    auto a = idx.lookup(q.ip, q.t, q.port);
    auto b = copy->lookup(q.ip, q.t, q.port);
    ASSERT_EQ(describe(a), describe(b)) << "query " << i << " ip " << q.ip.to_string();
    if (a) {
      ASSERT_EQ(idx.customer_id(a->customer), copy->customer_id(b->customer));
    }
  }
}

// lookup_batch must answer exactly as lookup: asks the queries in batches of sizes around the
// multiples of the pipeline distance (and empty ones), ending with the whole set at once.
void expect_batches_match(const HolderIndex& idx, const std::vector<HolderQuery>& queries) {
  constexpr std::size_t d = HolderIndex::kBatchDistance;
  const std::size_t sizes[] = {0, 1, 2, d - 1, d, d + 1, 2 * d + 1, 3 * d - 1, 3 * d, 3 * d + 1, 4 * d + 3, 61, 200};
  std::vector<std::optional<Holder>> out(queries.size() + 1, Holder{99, HolderKind::kStatic, 99});
  std::size_t at = 0;
  for (std::size_t k = 0; at < queries.size(); ++k) {
    std::size_t n = std::min(sizes[k % std::size(sizes)], queries.size() - at);
    auto batch = std::span(queries).subspan(at, n);
    idx.lookup_batch(batch, std::span(out).first(n));
    for (std::size_t i = 0; i < n; ++i) {
      const auto& q = batch[i];
      ASSERT_EQ(describe(out[i]), describe(idx.lookup(q.ip, q.t, q.port)))
          << "batch of " << n << " at " << at + i << " ip " << q.ip.to_string() << " t " << q.t.to_iso();
    }
    at += n;
  }
  idx.lookup_batch(queries, out);  // all at once; the extra output entry stays untouched
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const auto& q = queries[i];
    ASSERT_EQ(describe(out[i]), describe(idx.lookup(q.ip, q.t, q.port))) << "whole batch at " << i;
  }
  expect_image_answers_alike(idx, queries);
  ASSERT_EQ(describe(out.back()), describe(Holder{99, HolderKind::kStatic, 99}));
}

// Asks the index (one at a time and in batches) and the oracle the same random questions (a v6
// address one time in three, times on and between whole seconds, a port half of the time) and
// expects the same holder.
template <class Pick, class V4, class V6, class Time>
void expect_same_answers(const HolderIndex& idx, const Oracle& o, int round, int queries, Pick& pick, V4& rand_v4,
                         V6& rand_v6, Time& rand_time) {
  std::vector<HolderQuery> asked;
  for (int q = 0; q < queries; ++q) {
    auto a = pick(3) == 0 ? rand_v6() : rand_v4();
    auto t = core::Timestamp::from_micros(rand_time().micros() + pick(2) * 500'000);
    std::optional<std::uint16_t> port;
    if (pick(2) != 0) port = static_cast<std::uint16_t>(pick(160));
    auto h = idx.lookup(a, t, port);
    std::string got = h ? idx.customer_id(h->customer) : "-";
    ASSERT_EQ(got, o.lookup(a, t, port)) << "round " << round << " ip " << a.to_string() << " t " << t.to_iso()
                                         << " port " << (port ? *port : -1);
    asked.push_back({a, t, port});
  }
  expect_batches_match(idx, asked);
}

TEST(HolderIndex, MatchesBruteForceOracleOnRandomData) {
  std::mt19937_64 rng(20261127);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  // A small address space so that prefixes, sessions and queries collide often.
  auto rand_v4 = [&] { return core::IpAddress::v4(0xC6336400u | static_cast<std::uint32_t>(pick(64))); };
  auto rand_v6 = [&] {
    core::IpAddress::Bytes b{0x20, 0x01, 0x0d, 0xb8};
    b[6] = static_cast<std::uint8_t>(pick(4));
    b[7] = static_cast<std::uint8_t>(pick(4) << 6);
    b[15] = static_cast<std::uint8_t>(pick(8));
    return core::IpAddress::v6(b);
  };
  auto rand_time = [&] { return core::Timestamp::from_seconds(pick(100)); };
  for (int round = 0; round < 20; ++round) {
    Oracle o;
    HolderIndex::Builder b;
    int n_static = pick(30), n_sess = pick(60);
    for (int i = 0; i < n_static; ++i) {
      bool v6 = pick(3) == 0;
      auto a = v6 ? rand_v6() : rand_v4();
      int len = v6 ? 32 + pick(97) : 24 + pick(9);
      StaticAssignment s{"S" + std::to_string(pick(10)), core::IpPrefix(a.masked(len), len), {}, {}};
      if (pick(2) != 0) s.valid_from = rand_time();
      if (pick(2) != 0) s.valid_to = rand_time();
      if (pick(4) == 0 && !s.valid_to && s.valid_from) s.valid_to = s.valid_from;  // empty interval
      o.statics.push_back(s);
      b.add_static(s);
    }
    for (int i = 0; i < n_sess; ++i) {
      bool v6 = pick(3) == 0;
      auto a = v6 ? rand_v6() : rand_v4();
      int len = v6 ? (pick(2) != 0 ? 128 : 56 + pick(9)) : (pick(5) != 0 ? 32 : 28 + pick(5));
      Session s;
      s.customer_id = "D" + std::to_string(pick(10));
      s.prefix = core::IpPrefix(a.masked(len), len);
      s.start = rand_time();
      if (pick(3) != 0) s.stop = core::Timestamp::from_micros(s.start.micros() + pick(40) * 1'000'000);
      if (pick(5) == 0) {
        auto lo = static_cast<std::uint16_t>(pick(100));
        s.port_from = lo;
        s.port_to = static_cast<std::uint16_t>(lo + pick(50));
      }
      o.sessions.push_back(s);
      b.add_session(s);
    }
    expect_same_answers(b.build(), o, round, 2000, pick, rand_v4, rand_v6, rand_time);
  }
}

// The paths the random test above rarely takes: long runs of sessions on one prefix (binary
// search and running maxima), prefixes shorter than /16 and default routes (the per-/16 length
// masks), addresses on both sides of a /16 boundary.
TEST(HolderIndex, MatchesBruteForceOracleOnLongRunsAndShortPrefixes) {
  std::mt19937_64 rng(20261128);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  // 198.18.255.248 .. 198.19.0.7 (RFC 2544 test range): sixteen addresses straddling a /16 boundary.
  auto rand_v4 = [&] { return core::IpAddress::v4(0xC612FFF8u + static_cast<std::uint32_t>(pick(16))); };
  auto rand_v6 = [&] {
    core::IpAddress::Bytes b{0x20, 0x01, 0x0d, 0xb8};
    b[7] = static_cast<std::uint8_t>(pick(2));
    b[15] = static_cast<std::uint8_t>(pick(4));
    return core::IpAddress::v6(b);
  };
  auto rand_time = [&] { return core::Timestamp::from_seconds(pick(200)); };
  for (int round = 0; round < 12; ++round) {
    Oracle o;
    HolderIndex::Builder b;
    int n_static = pick(40), n_sess = pick(120);
    for (int i = 0; i < n_static; ++i) {
      bool v6 = pick(3) == 0;
      auto a = v6 ? rand_v6() : rand_v4();
      int len = v6 ? pick(129) : pick(33);
      StaticAssignment s{"S" + std::to_string(pick(10)), core::IpPrefix(a.masked(len), len), {}, {}};
      if (pick(2) != 0) s.valid_from = rand_time();
      if (pick(2) != 0) s.valid_to = rand_time();
      o.statics.push_back(s);
      b.add_static(s);
    }
    for (int i = 0; i < n_sess; ++i) {
      bool v6 = pick(4) == 0;
      // Few distinct addresses: runs of many sessions per prefix.
      auto a = v6 ? rand_v6() : core::IpAddress::v4(0xC612FFFEu + static_cast<std::uint32_t>(pick(4)));
      int len = pick(4) != 0 ? (v6 ? 128 : 32) : (v6 ? pick(129) : pick(33));
      Session s;
      s.customer_id = "D" + std::to_string(pick(10));
      s.prefix = core::IpPrefix(a.masked(len), len);
      s.start = rand_time();
      if (pick(4) != 0) s.stop = core::Timestamp::from_micros(s.start.micros() + pick(30) * 1'000'000);
      if (pick(6) == 0) {
        auto lo = static_cast<std::uint16_t>(pick(100));
        s.port_from = lo;
        s.port_to = static_cast<std::uint16_t>(lo + pick(50));
      }
      o.sessions.push_back(s);
      b.add_session(s);
    }
    expect_same_answers(b.build(), o, round, 1500, pick, rand_v4, rand_v6, rand_time);
  }
}

// A /16 full of /32 sessions (a dynamic pool) is looked up through a direct block instead of the
// hash table; pool statics, port ranges, empty addresses and the sparse neighbour /16 around it.
TEST(HolderIndex, MatchesBruteForceOracleOnDensePool) {
  std::mt19937_64 rng(20261129);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  auto rand_time = [&] { return core::Timestamp::from_seconds(pick(100)); };
  // The sessions are all /32: the oracle for an address needs only that address's sessions.
  Oracle o;
  std::unordered_map<std::uint32_t, std::vector<Session>> sessions_at;
  HolderIndex::Builder b;
  auto add_static = [&](const char* customer, const char* prefix, std::optional<core::Timestamp> from) {
    StaticAssignment s{customer, pfx(prefix), from, std::nullopt};
    o.statics.push_back(s);
    b.add_static(s);
  };
  add_static("POOL", "198.18.0.0/16", std::nullopt);
  add_static("BIZ", "198.18.7.0/24", ts("1970-01-01 00:00:50"));
  add_static("NEXT", "198.19.0.0/24", std::nullopt);
  // 198.18.0.0/16: 20,000 addresses with sessions (more than the block threshold), up to 3 each.
  for (std::uint32_t i = 0; i < 20'000; ++i) {
    auto a = core::IpAddress::v4(0xC6120000u + i * 3);
    for (int k = pick(3) + 1; k > 0; --k) {
      Session s;
      s.customer_id = "D" + std::to_string(pick(50));
      s.prefix = core::IpPrefix(a, 32);
      s.start = rand_time();
      if (pick(4) != 0) s.stop = core::Timestamp::from_micros(s.start.micros() + pick(30) * 1'000'000);
      if (pick(10) == 0) {
        s.port_from = static_cast<std::uint16_t>(pick(100));
        s.port_to = static_cast<std::uint16_t>(*s.port_from + pick(50));
      }
      sessions_at[s.prefix.network().v4_value()].push_back(s);
      b.add_session(s);
    }
  }
  // The sparse neighbour: a few sessions, hashed.
  for (int i = 0; i < 20; ++i) {
    Session s{"N" + std::to_string(i),
              core::IpPrefix(core::IpAddress::v4(0xC6130000u + static_cast<std::uint32_t>(i)), 32),
              {},
              {},
              rand_time(),
              std::nullopt,
              "",
              ""};
    sessions_at[s.prefix.network().v4_value()].push_back(s);
    b.add_session(s);
  }
  auto idx = b.build();
  std::vector<HolderQuery> asked;
  for (int q = 0; q < 4000; ++q) {
    auto a = core::IpAddress::v4(pick(4) == 0 ? 0xC6130000u + static_cast<std::uint32_t>(pick(40))
                                              : 0xC6120000u + static_cast<std::uint32_t>(pick(65536)));
    auto t = core::Timestamp::from_micros(rand_time().micros() + pick(2) * 500'000);
    std::optional<std::uint16_t> port;
    if (pick(2) != 0) port = static_cast<std::uint16_t>(pick(160));
    auto h = idx.lookup(a, t, port);
    std::string got = h ? idx.customer_id(h->customer) : "-";
    auto it = sessions_at.find(a.v4_value());
    o.sessions = it == sessions_at.end() ? std::vector<Session>{} : it->second;
    ASSERT_EQ(got, o.lookup(a, t, port)) << "ip " << a.to_string() << " t " << t.to_iso();
    asked.push_back({a, t, port});
  }
  expect_batches_match(idx, asked);
}

TEST(HolderIndex, BatchOfFixedCases) {
  HolderIndex::Builder b;
  b.add_static({"DEFAULT4", pfx("0.0.0.0/0"), std::nullopt, std::nullopt});
  b.add_static({"DEFAULT6", pfx("::/0"), std::nullopt, ts("2026-11-27")});
  b.add_static({"POOL", pfx("203.0.113.0/24"), std::nullopt, std::nullopt});
  b.add_session({"K-2004", pfx("203.0.113.10"), 1024, 33279, ts("2026-11-01"), std::nullopt, "", ""});
  b.add_session({"K-2005", pfx("203.0.113.10"), 33280, 65535, ts("2026-11-01"), std::nullopt, "", ""});
  b.add_session({"PD", pfx("2001:db8:100:5500::/56"), {}, {}, ts("2026-11-27"), std::nullopt, "", ""});
  auto idx = b.build();
  std::vector<HolderQuery> qs = {
      {ip("203.0.113.10"), ts("2026-11-27"), 2000},
      {ip("203.0.113.10"), ts("2026-11-27"), 40000},
      {ip("203.0.113.10"), ts("2026-11-27"), std::nullopt},
      {ip("203.0.113.10"), ts("2026-10-27"), std::nullopt},
      {ip("198.51.100.1"), ts("2026-11-27"), std::nullopt},
      {ip("2001:db8:100:55ff::1"), ts("2026-11-27"), 80},
      {ip("2001:db8:200::1"), ts("2026-11-26"), std::nullopt},
      {ip("2001:db8:200::1"), ts("2026-11-27"), std::nullopt},
  };
  std::vector<std::optional<Holder>> out(qs.size());
  idx.lookup_batch(qs, out);
  std::vector<std::string> got;
  for (const auto& h : out) got.push_back(h ? idx.customer_id(h->customer) : "-");
  EXPECT_EQ(got, (std::vector<std::string>{"K-2004", "K-2005", "-", "POOL", "DEFAULT4", "PD", "DEFAULT6", "-"}));
  idx.lookup_batch({}, {});  // an empty batch is fine
  EXPECT_THROW(idx.lookup_batch(qs, std::span(out).first(qs.size() - 1)), std::invalid_argument);
  expect_batches_match(idx, qs);
  expect_batches_match(HolderIndex::Builder().build(), qs);  // an empty index
}

// A damaged, cut or foreign image is refused, never read out of bounds (ASan watches): every byte
// flipped in turn, every length cut, and an image whose recorded answers no longer agree.
TEST(HolderIndex, DamagedImageIsRefused) {
  HolderIndex::Builder b;
  b.add_static({"BIZ", pfx("192.0.2.0/24"), std::nullopt, std::nullopt});
  b.add_session({"DYN", pfx("198.51.100.7/32"), {}, {}, ts("2026-11-27 08:00:00"), ts("2026-11-27 12:00:00"), "", ""});
  b.add_session({"V6", pfx("2001:db8:1::/56"), {}, {}, ts("2026-11-27 00:00:00"), std::nullopt, "", ""});
  auto idx = b.build();
  std::vector<HolderQuery> checks{{ip("192.0.2.9"), ts("2026-11-27 09:00:00"), std::nullopt},
                                  {ip("198.51.100.7"), ts("2026-11-27 09:00:00"), std::nullopt},
                                  {ip("2001:db8:1::5"), ts("2026-11-27 09:00:00"), std::nullopt}};
  const auto image = idx.serialize(checks);
  ASSERT_TRUE(HolderIndex::deserialize(image).has_value());
  EXPECT_EQ(HolderIndex::deserialize(image)->customer_id(
                HolderIndex::deserialize(image)->lookup(ip("198.51.100.7"), ts("2026-11-27 09:00:00"))->customer),
            "DYN");
  for (std::size_t i = 0; i < image.size(); i += 1 + i / 64) {
    auto bad = image;
    bad[i] = static_cast<char>(bad[i] ^ 0x5A);
    EXPECT_FALSE(HolderIndex::deserialize(bad).has_value()) << "byte " << i;
  }
  for (std::size_t n = 0; n < image.size(); n += 1 + n / 16) {
    EXPECT_FALSE(HolderIndex::deserialize(std::string_view(image).substr(0, n)).has_value()) << "cut at " << n;
  }
  EXPECT_FALSE(HolderIndex::deserialize("").has_value());
  // The first check's answer changed and the checksum made right again: the check refuses it.
  auto forged = image.substr(0, image.size() - 8);
  const std::size_t answer = forged.size() - 3 * 48 + 32;  // checks: 16 address, 8 time, 8 port, 16 answer
  forged[answer] = static_cast<char>(forged[answer] ^ 1);
  std::uint64_t sum = XXH3_64bits(forged.data(), forged.size());
  forged.append(reinterpret_cast<const char*>(&sum), 8);
  EXPECT_FALSE(HolderIndex::deserialize(forged).has_value());
}

}  // namespace
}  // namespace klartext::customers
