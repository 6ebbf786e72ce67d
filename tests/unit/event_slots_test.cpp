// Event field slots on reused events (the in-order fast path of Event::slot) against a plain model.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/event.hpp"

namespace klartext::core {
namespace {

// Fields in insertion order; setting a present key replaces its value in place.
struct Model {
  std::vector<std::pair<std::string, std::string>> fields;

  void set(const std::string& k, const std::string& v) {
    for (auto& f : fields) {
      if (f.first == k) {
        f.second = v;
        return;
      }
    }
    fields.emplace_back(k, v);
  }
  bool erase(const std::string& k) {
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      if (it->first == k) {
        fields.erase(it);
        return true;
      }
    }
    return false;
  }
};

void expect_same(const Event& e, const Model& m, int step) {
  ASSERT_EQ(e.size(), m.fields.size()) << step;
  std::size_t i = 0;
  for (const Field& f : e) {
    EXPECT_EQ(f.key, m.fields[i].first) << step << " at " << i;
    EXPECT_EQ(f.value, m.fields[i].second) << step << " at " << i;
    ++i;
  }
  for (const auto& [k, v] : m.fields) EXPECT_EQ(e.get(k).value_or("<none>"), v) << step << " " << k;
}

TEST(EventSlots, ReusedEventsMatchAModel) {
  std::mt19937 rng(11);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  // Interned keys (found by address) and copies of the same names (compared by bytes).
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) names.push_back("extra.slot" + std::to_string(i));
  std::vector<std::string_view> interned;
  for (const auto& n : names) interned.push_back(intern_key(n));
  Event e;
  Model m;
  // Rows set mostly the same keys in the same order, some skipped, repeated, erased or out of order.
  for (int row = 0; row < 3000; ++row) {
    e.clear();
    m.fields.clear();
    const std::size_t n = 5 + pick(35);
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t k = i;
      const std::size_t r = pick(40);
      if (r == 0) k = pick(names.size());  // out of order, maybe a repeat
      if (r == 1) continue;                // skipped
      const std::string value = std::to_string(row) + "/" + std::to_string(i);
      if (r == 2) {
        e.set(std::string_view(names[k]), value);  // not the interned view
      } else {
        e.set(interned[k], value);
      }
      m.set(names[k], value);
      if (pick(60) == 0) {
        const std::size_t x = pick(names.size());
        EXPECT_EQ(e.erase(names[x]), m.erase(names[x])) << row;
      }
    }
    expect_same(e, m, row);
    if (pick(20) == 0) {
      Event copy;
      copy = e;
      expect_same(copy, m, row);
      e = copy;
    }
  }
}

}  // namespace
}  // namespace klartext::core
