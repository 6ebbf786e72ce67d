// Case aggregation and lifecycle transitions (rules in case_book.hpp).
#include "cases/case_book.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "core/hash.hpp"

namespace klartext::cases {
namespace {

constexpr std::array<std::string_view, 5> kStateNames = {"open", "notified", "resolved", "escalated", "closed"};

int rank(core::Severity s) {
  return static_cast<int>(s);
}

}  // namespace

std::string_view to_string(CaseState s) {
  return kStateNames[static_cast<std::size_t>(s)];
}

std::optional<CaseState> parse_case_state(std::string_view s) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == s) return static_cast<CaseState>(i);
  }
  return std::nullopt;
}

core::Timestamp event_time(const core::Event& e, core::Timestamp fallback) {
  if (auto t = e.time_source()) return *t;
  if (auto t = e.time_observation()) return *t;
  return fallback;
}

// The active cases of the store as the ingest needs them: key -> case, and the counters the
// lifecycle rules read and write. Entries are kept in id order (binary search by id).
struct CaseBook::Book {
  struct Entry {
    std::int64_t id = 0;
    std::uint32_t customer = 0;  // index into customers
    std::uint32_t cls = 0;       // index into classes
    core::IpAddress ip;
    CaseState state = CaseState::kOpen;
    CaseState stored_state = CaseState::kOpen;
    core::Severity severity = core::Severity::kUnknown;
    bool dirty = false;
    bool is_new = false;  // not in the store yet
    bool alive = true;    // false: a new case that got no event (never written)
    std::optional<std::uint16_t> source_port;
    std::int64_t event_count = 0;
    core::Timestamp first_seen, last_seen, created, updated;
    std::int64_t notifications = 0;
    std::optional<core::Timestamp> last_notified, resolved_at;
  };
  struct Key {
    std::uint32_t customer;
    std::uint32_t cls;
    core::IpAddress ip;
    bool operator==(const Key&) const = default;
  };
  // All 64 bits well mixed. Case keys: the high 32 bits are the slot's tag and pick the slot too.
  static std::uint64_t hash_of(const Key& k) {
    return core::mix64(std::hash<core::IpAddress>{}(k.ip) ^
                       ((static_cast<std::uint64_t>(k.customer) << 32 | k.cls) * 0x9E3779B97F4A7C15ULL));
  }

  std::vector<Entry> entries;  // by id
  // Key -> index into entries, open addressing over the entries' own keys: no node per case. A slot
  // holds the entry index (low 32 bits) and the top 32 bits of the key's hash, so a probe touches
  // an entry only when the tags match: among a million active cases a lookup costs about one
  // cache miss in the slots and one in the entry it finds. The slot is picked by the tag's low
  // bits, so growing the table moves the slots without reading a million entries again.
  static constexpr std::uint32_t kGone = 0xFFFFFFFE;
  static constexpr std::uint64_t kEmptySlot = ~std::uint64_t{0};
  std::vector<std::uint64_t> slots;
  std::size_t slots_used = 0;  // live and gone

  static std::uint32_t index_of(std::uint64_t slot) { return static_cast<std::uint32_t>(slot); }
  static std::uint64_t make_slot(std::uint64_t hash, std::uint32_t index) {
    return (hash & 0xFFFFFFFF00000000ULL) | index;
  }
  Key key_of(std::uint32_t index) const {
    const auto& e = entries[index];
    return Key{e.customer, e.cls, e.ip};
  }
  // The slot holding this key's entry index, or the empty slot that ends its probe (where the key
  // goes). Needs a free slot: call make_room() first.
  std::uint64_t* probe(const Key& k, std::uint64_t h) {
    const std::size_t mask = slots.size() - 1;
    const std::uint64_t tag = h & 0xFFFFFFFF00000000ULL;
    for (std::size_t i = (h >> 32) & mask;; i = (i + 1) & mask) {
      const std::uint64_t s = slots[i];
      if (s == kEmptySlot) return &slots[i];
      if ((s & 0xFFFFFFFF00000000ULL) == tag && index_of(s) != kGone && key_of(index_of(s)) == k) return &slots[i];
    }
  }
  // The slot holding this key's entry index, or nullptr.
  std::uint64_t* find_key(const Key& k) {
    if (slots.empty()) return nullptr;
    auto* s = probe(k, hash_of(k));
    return *s == kEmptySlot ? nullptr : s;
  }
  // Points this slot at entries[index] (which has the slot's key).
  static void set_index(std::uint64_t& slot, std::uint32_t index) { slot = (slot & 0xFFFFFFFF00000000ULL) | index; }
  // Room for one more key (at most half the slots used).
  void make_room() {
    if ((slots_used + 1) * 2 <= slots.size()) return;
    std::vector<std::uint64_t> old = std::move(slots);
    slots.assign(std::max<std::size_t>(1024, old.size() * 2), kEmptySlot);
    slots_used = 0;
    const std::size_t mask = slots.size() - 1;
    for (auto v : old) {
      if (v == kEmptySlot || index_of(v) == kGone) continue;
      std::size_t i = (v >> 32) & mask;
      while (slots[i] != kEmptySlot) i = (i + 1) & mask;
      slots[i] = v;
      ++slots_used;
    }
  }
  // Maps `k` (the key of entries[index]) to index, replacing what it mapped to. `slot` is probe()'s
  // answer for k with hash h.
  void put_key_at(std::uint64_t* slot, std::uint64_t h, std::uint32_t index) {
    if (*slot == kEmptySlot) {
      *slot = make_slot(h, index);
      ++slots_used;
    } else {
      set_index(*slot, index);
    }
  }
  // Maps the key of entries[index] (already in entries) to index, replacing what it mapped to.
  void put_key(std::uint32_t index) {
    make_room();
    const Key k = key_of(index);
    const std::uint64_t h = hash_of(k);
    put_key_at(probe(k, h), h, index);
  }
  // Marks entries[index] as changed since the last flush.
  void touch(std::uint32_t index) {
    auto& e = entries[index];
    if (e.dirty) return;
    e.dirty = true;
    dirty.push_back(index);
  }
  std::uint32_t index_in_entries(const Entry& e) const { return static_cast<std::uint32_t>(&e - entries.data()); }
  // Customer id -> index into customers, open addressing as for the keys (tag | index).
  std::vector<std::uint64_t> customer_slots;
  std::vector<std::string> customers;
  std::vector<core::Classification> classes;
  std::vector<std::string> class_texts;  // as the case rows store them (Store::classification_text)
  std::vector<Transition> pending;       // transitions of this batch, written by flush()
  std::vector<std::uint32_t> dirty;      // the entries changed since the last flush (touch())
  // Why each case opened in this batch was opened (by case id, ascending), written with the case
  // row: the texts one after the other in opening_texts (no string per case).
  struct Opening {
    std::int64_t id;
    std::uint32_t offset, size;  // in opening_texts
  };
  std::vector<Opening> openings;
  std::string opening_texts;
  // flush()'s and flush_new()'s rows, kept for their capacity.
  std::vector<store::Store::NewCase> rows;
  std::vector<std::uint32_t> row_entries;  // the entry of each row

  bool new_case_row(const Entry& e, std::string_view reason, store::Store::NewCase& r) const;
  std::string_view opening_reason(std::int64_t id, std::size_t& from) const;
  void drop_unused(std::uint32_t index);
  void written(std::uint32_t index);
  // flush_new() has looked at the entries before new_from, and at the openings before opening_from.
  std::size_t new_from = 0;
  std::size_t opening_from = 0;
  std::int64_t loaded_up_to = 0;  // cases of the store up to this id are known
  std::int64_t next_id = 0;       // 0: ask the store at the next new case
  bool synced = false;            // cases created by others since the last flush are read
  std::size_t last = 0;           // the entry case_for returned last (add_event follows it)

  std::uint32_t customer(std::string_view id) {
    const std::uint64_t h = hash_of(id);
    const std::uint64_t tag = h & 0xFFFFFFFF00000000ULL;
    if (!customer_slots.empty()) {
      const std::size_t mask = customer_slots.size() - 1;
      for (std::size_t i = h & mask; customer_slots[i] != kEmptySlot; i = (i + 1) & mask) {
        const std::uint64_t s = customer_slots[i];
        if ((s & 0xFFFFFFFF00000000ULL) == tag && customers[index_of(s)] == id) return index_of(s);
      }
    }
    auto n = static_cast<std::uint32_t>(customers.size());
    customers.emplace_back(id);
    if ((customers.size() + 1) * 2 > customer_slots.size()) {
      customer_slots.assign(std::max<std::size_t>(256, customer_slots.size() * 2), kEmptySlot);
      for (std::uint32_t c = 0; c < customers.size(); ++c) put_customer(hash_of(customers[c]), c);
    } else {
      put_customer(h, n);
    }
    return n;
  }
  static std::uint64_t hash_of(std::string_view s) { return core::mix64(std::hash<std::string_view>{}(s)); }
  void put_customer(std::uint64_t h, std::uint32_t index) {
    const std::size_t mask = customer_slots.size() - 1;
    std::size_t i = h & mask;
    while (customer_slots[i] != kEmptySlot) i = (i + 1) & mask;
    customer_slots[i] = make_slot(h, index);
  }
  std::uint32_t classification(const core::Classification& c) {
    // A report's events share one classification, so the search usually ends at once.
    for (std::size_t i = classes.size(); i-- > 0;) {
      if (classes[i] == c) return static_cast<std::uint32_t>(i);
    }
    classes.push_back(c);
    class_texts.push_back(store::Store::classification_text(c));
    return static_cast<std::uint32_t>(classes.size() - 1);
  }
  Entry* find(std::int64_t id) {
    if (last < entries.size() && entries[last].id == id) return &entries[last];
    auto it =
        std::lower_bound(entries.begin(), entries.end(), id, [](const Entry& e, std::int64_t v) { return e.id < v; });
    if (it == entries.end() || it->id != id) return nullptr;
    return &*it;
  }
  void add(Case c) {
    Entry e;
    e.id = c.id;
    e.customer = customer(c.customer_id);
    e.cls = classification(c.classification);
    e.ip = c.source_ip;
    e.state = e.stored_state = c.state;
    e.severity = c.severity;
    e.source_port = c.source_port;
    e.event_count = c.event_count;
    e.first_seen = c.first_seen;
    e.last_seen = c.last_seen;
    e.created = c.created;
    e.updated = c.updated;
    e.notifications = c.notifications;
    e.last_notified = c.last_notified;
    e.resolved_at = c.resolved_at;
    loaded_up_to = std::max(loaded_up_to, e.id);
    auto index = static_cast<std::uint32_t>(entries.size());
    entries.push_back(std::move(e));
    // The latest active case per key wins, as in Store::find_active_case.
    auto* slot = find_key(key_of(index));
    if (slot == nullptr) {
      put_key(index);
    } else if (entries[index_of(*slot)].id < entries[index].id) {
      set_index(*slot, index);
    }
  }
  Case to_case(const Entry& e) const {
    Case c;
    c.id = e.id;
    c.customer_id = customers[e.customer];
    c.classification = classes[e.cls];
    c.source_ip = e.ip;
    c.state = e.state;
    c.event_count = e.event_count;
    c.first_seen = e.first_seen;
    c.last_seen = e.last_seen;
    c.severity = e.severity;
    c.source_port = e.source_port;
    c.created = e.created;
    c.updated = e.updated;
    c.notifications = e.notifications;
    c.last_notified = e.last_notified;
    c.resolved_at = e.resolved_at;
    return c;
  }
};

CaseBook::CaseBook(store::Store& store, const config::Config& cfg) : store_(store), cfg_(cfg) {}
CaseBook::~CaseBook() = default;

void CaseBook::forget() {
  book_.reset();
  ++epoch_;
}

void CaseBook::transition(Case& c, CaseState to, std::string_view reason, core::Timestamp now) {
  if (c.state == to) return;
  store_.add_transition({c.id, c.state, to, now, std::string(reason)});
  spdlog::debug("case transition case={} from={} to={} reason={}", c.id, to_string(c.state), to_string(to), reason);
  c.state = to;
  c.updated = now;
}

std::uint32_t CaseBook::customer_key(std::string_view customer_id) {
  if (!book_) book_ = std::make_unique<Book>();
  return book_->customer(customer_id);
}

bool CaseBook::opens(std::int64_t case_id) const {
  if (!book_) return false;
  const auto* e = book_->find(case_id);
  return e != nullptr && e->is_new && e->event_count == 0;
}

void CaseBook::prefetch(std::uint32_t customer_key, const core::Event& event) const {
  if (!book_ || book_->slots.empty()) return;
  const auto& b = *book_;
  // Only a hint: a classification the book has not seen yet is left for case_for to add.
  const auto& classes = b.classes;
  const auto cls = std::find(classes.rbegin(), classes.rend(), event.classification());
  if (cls == classes.rend()) return;
  const Book::Key key{customer_key, static_cast<std::uint32_t>(classes.rend() - cls - 1),
                      event.source_ip().value_or(core::IpAddress{})};
  const std::uint64_t h = Book::hash_of(key);
  __builtin_prefetch(&b.slots[(h >> 32) & (b.slots.size() - 1)]);
}

std::int64_t CaseBook::case_for(std::string_view customer_id, const core::Event& event, core::Timestamp now) {
  return case_for(customer_key(customer_id), event, now);
}

std::int64_t CaseBook::case_for(std::uint32_t customer_key, const core::Event& event, core::Timestamp now) {
  return case_for(customer_key, event, event.id(), now);
}

std::int64_t CaseBook::case_for(std::uint32_t customer_key, const core::Event& event, std::string_view event_id,
                                core::Timestamp now) {
  if (!book_) book_ = std::make_unique<Book>();
  auto& b = *book_;
  if (!b.synced) {
    // Once per batch: the active cases the book does not know yet (all of them the first time; then
    // those another process created since), and where our numbering of new cases starts.
    for (auto& c : store_.active_cases_after(b.loaded_up_to)) b.add(std::move(c));
    b.next_id = std::max(store_.max_case_id(), b.loaded_up_to) + 1;
    b.synced = true;
  }
  Book::Key key{customer_key, b.classification(event.classification()), event.source_ip().value_or(core::IpAddress{})};
  // One probe finds the case or the slot for a new one (a new case is the common answer of a first
  // import, and each probe is a cache miss among a million slots).
  b.make_room();
  const std::uint64_t h = Book::hash_of(key);
  std::uint64_t* slot = b.probe(key, h);
  if (*slot != Book::kEmptySlot) {
    const auto& e = b.entries[Book::index_of(*slot)];
    if (e.alive && e.state != CaseState::kClosed) {
      b.last = Book::index_of(*slot);
      return e.id;
    }
  }
  auto index = static_cast<std::uint32_t>(b.entries.size());
  auto& e = b.entries.emplace_back();
  e.id = b.next_id++;
  e.customer = key.customer;
  e.cls = key.cls;
  e.ip = key.ip;
  e.first_seen = e.last_seen = event_time(event, now);
  e.created = e.updated = now;
  e.is_new = true;
  b.touch(index);
  b.loaded_up_to = e.id;
  constexpr std::string_view kFirstEvent = "first event ";
  const auto offset = static_cast<std::uint32_t>(b.opening_texts.size());
  b.opening_texts.append(kFirstEvent).append(event_id);
  b.openings.push_back({e.id, offset, static_cast<std::uint32_t>(b.opening_texts.size() - offset)});
  b.put_key_at(slot, h, index);
  b.last = index;
  ++created_;
  return e.id;
}

void CaseBook::add_event(std::int64_t case_id, const core::Event& event, core::Timestamp t, core::Timestamp now) {
  Book::Entry* e = book_ ? book_->find(case_id) : nullptr;
  if (e == nullptr) {
    // Not from case_for of this book: load it (the book's numbering is left alone).
    flush();
    auto c = store_.get_case(case_id);
    if (!c) throw std::runtime_error("no case with id " + std::to_string(case_id));
    if (!book_) book_ = std::make_unique<Book>();
    if (!book_->entries.empty() && book_->entries.back().id >= case_id) {
      forget();  // keep the entries in id order: start over, the store has everything
      book_ = std::make_unique<Book>();
    }
    book_->add(std::move(*c));
    book_->synced = false;
    e = &book_->entries.back();
  }
  book_->touch(book_->index_in_entries(*e));
  if (e->event_count == 0 || t < e->first_seen) e->first_seen = t;
  bool newest = e->event_count == 0 || t >= e->last_seen;
  if (newest) {
    e->last_seen = t;
    if (auto p = event.source_port()) e->source_port = *p;
  }
  ++e->event_count;
  if (rank(event.severity()) > rank(e->severity)) e->severity = event.severity();
  e->updated = now;

  // Recurrence: seen again after a letter (or after the customer said it was fixed).
  bool escalate = e->notifications >= cfg_.escalate_after_notifications;
  std::optional<CaseState> to;
  std::string reason;
  if (e->state == CaseState::kNotified && e->last_notified && t > *e->last_notified && escalate) {
    to = CaseState::kEscalated;
    reason = "recurring after " + std::to_string(e->notifications) + " notifications (event " + event.id() + ")";
  } else if (e->state == CaseState::kResolved && e->resolved_at && t > *e->resolved_at) {
    to = escalate ? CaseState::kEscalated : CaseState::kOpen;
    reason = "seen again after the customer reported it fixed (event " + event.id() + ")";
  }
  if (to && *to != e->state) {
    spdlog::debug("case transition case={} from={} to={} reason={}", e->id, to_string(e->state), to_string(*to),
                  reason);
    book_->pending.push_back({e->id, e->state, *to, now, std::move(reason)});
    e->state = *to;
  }
}

// A new case as insert_new_cases writes it; false: the entry is not what a new case looks like (no
// rule makes one) and takes the general insert.
bool CaseBook::Book::new_case_row(const Entry& e, std::string_view reason, store::Store::NewCase& r) const {
  if (e.state != CaseState::kOpen || e.notifications != 0 || e.last_notified || e.resolved_at) return false;
  r.id = e.id;
  r.customer_id = customers[e.customer];
  r.classification = class_texts[e.cls];
  r.source_ip = e.ip;
  r.event_count = e.event_count;
  r.first_seen = e.first_seen;
  r.last_seen = e.last_seen;
  r.severity = e.severity;
  r.source_port = e.source_port;
  r.created = e.created;
  r.updated = e.updated;
  r.opened_reason = reason;
  return true;
}

// Why the new case `id` was opened, from the openings at or after `from` (ids ascending); advances `from`.
std::string_view CaseBook::Book::opening_reason(std::int64_t id, std::size_t& from) const {
  while (from < openings.size() && openings[from].id < id) ++from;
  if (from < openings.size() && openings[from].id == id) {
    return std::string_view(opening_texts).substr(openings[from].offset, openings[from].size);
  }
  return {};
}

// A new case that got no event (created for an event that turned out to be stored already): never written.
void CaseBook::Book::drop_unused(std::uint32_t index) {
  auto& e = entries[index];
  e.dirty = false;
  e.alive = false;
  auto* slot = find_key(Key{e.customer, e.cls, e.ip});
  if (slot != nullptr && index_of(*slot) == index) set_index(*slot, kGone);
}

// The entry's row is in the store as it is now.
void CaseBook::Book::written(std::uint32_t index) {
  auto& e = entries[index];
  e.dirty = false;
  e.is_new = false;
  e.stored_state = e.state;
}

void CaseBook::flush() {
  if (!book_) return;
  auto& b = *book_;
  // Cases first: the history rows refer to them. Only the entries touched since the last flush, in
  // id order as before (a flush per commit must not walk a million untouched cases). An entry is
  // marked clean once its row is written: after a failed write the rest stays dirty, as before.
  if (!std::is_sorted(b.dirty.begin(), b.dirty.end())) std::sort(b.dirty.begin(), b.dirty.end());
  auto& rows = b.rows;
  auto& row_entries = b.row_entries;
  rows.clear();
  row_entries.clear();
  auto write_rows = [&] {
    store_.insert_new_cases(rows);
    for (const std::uint32_t index : row_entries) b.written(index);
    rows.clear();
    row_entries.clear();
  };
  constexpr std::size_t kRowsPerCall = 4096;
  std::size_t opening = 0;
  for (const std::uint32_t index : b.dirty) {
    auto& e = b.entries[index];
    if (!e.dirty) continue;  // listed twice, or written before a failed flush or by flush_new()
    if (!e.is_new) {
      store::Store::CaseEvents u;
      u.id = e.id;
      u.event_count = e.event_count;
      u.first_seen = e.first_seen;
      u.last_seen = e.last_seen;
      u.severity = e.severity;
      u.source_port = e.source_port;
      u.updated = e.updated;
      if (e.state != e.stored_state) u.state = e.state;
      store_.update_case_events(u);
      b.written(index);
      continue;
    }
    if (e.event_count == 0) {
      b.drop_unused(index);
      --created_;
      continue;
    }
    // New cases are numbered in order, so their openings come in the entries' (id) order.
    const std::string_view reason = b.opening_reason(e.id, opening);
    if (!b.new_case_row(e, reason, rows.emplace_back())) {
      rows.pop_back();
      store_.insert_case_with_id(b.to_case(e), reason);
      b.written(index);
      continue;
    }
    row_entries.push_back(index);
    if (rows.size() == kRowsPerCall) write_rows();
  }
  write_rows();
  b.dirty.clear();
  for (const auto& t : b.pending) {
    const auto* e = b.find(t.case_id);
    if (e != nullptr && e->alive) store_.add_transition(t);
  }
  b.pending.clear();
  b.openings.clear();
  b.opening_texts.clear();
  b.opening_from = 0;
  b.new_from = b.entries.size();
  b.synced = false;
}

bool CaseBook::flush_new(std::size_t max_rows) {
  if (!book_) return false;
  auto& b = *book_;
  auto& rows = b.rows;
  auto& row_entries = b.row_entries;
  rows.clear();
  row_entries.clear();
  std::size_t i = b.new_from;
  std::size_t opening = b.opening_from;
  for (; i < b.entries.size() && rows.size() < max_rows; ++i) {
    auto& e = b.entries[i];
    if (!e.dirty || !e.is_new) continue;
    const auto index = static_cast<std::uint32_t>(i);
    if (e.event_count == 0) {
      b.drop_unused(index);
      --created_;
      continue;
    }
    if (!b.new_case_row(e, b.opening_reason(e.id, opening), rows.emplace_back())) {
      rows.pop_back();  // flush() writes it
      continue;
    }
    row_entries.push_back(index);
  }
  if (rows.empty()) {
    b.new_from = i;
    return false;
  }
  store_.insert_new_cases(rows);  // all or nothing: on a throw everything stays for flush()
  for (const std::uint32_t index : row_entries) b.written(index);
  b.new_from = i;
  b.opening_from = opening;
  return true;
}

std::int64_t CaseBook::record_letter(const store::Notification& letter) {
  flush();
  forget();
  // kOpen/kResolved -> kNotified, kEscalated stays (noted in history): applied by the store in the
  // letter's own statements, from the case rows as they are inside this transaction.
  std::string reason;
  reason.reserve(16 + letter.message_id.size() + letter.customer_id.size());
  reason.append("letter ").append(letter.message_id).append(" to ").append(letter.customer_id);
  return store_.add_letter(letter, reason, "escalation " + reason);
}

void CaseBook::resolve(std::int64_t case_id, std::string_view reason, core::Timestamp now) {
  flush();
  forget();
  auto c = store_.get_case(case_id);
  if (!c) throw std::runtime_error("no case with id " + std::to_string(case_id));
  if (c->state == CaseState::kClosed || c->state == CaseState::kResolved) return;
  transition(*c, CaseState::kResolved, reason, now);
  c->resolved_at = now;
  store_.update_case(*c);
}

CaseState CaseBook::reopen(std::int64_t case_id, std::string_view reason, core::Timestamp now) {
  flush();
  forget();
  auto c = store_.get_case(case_id);
  if (!c) throw std::runtime_error("no case with id " + std::to_string(case_id));
  if (c->state != CaseState::kClosed && c->state != CaseState::kResolved) return c->state;
  bool escalate = c->notifications >= cfg_.escalate_after_notifications;
  transition(*c, escalate ? CaseState::kEscalated : CaseState::kOpen, reason, now);
  c->resolved_at.reset();
  store_.update_case(*c);
  return c->state;
}

void CaseBook::close(std::int64_t case_id, std::string_view reason, core::Timestamp now) {
  flush();
  forget();
  auto c = store_.get_case(case_id);
  if (!c) throw std::runtime_error("no case with id " + std::to_string(case_id));
  if (c->state == CaseState::kClosed) return;
  transition(*c, CaseState::kClosed, reason, now);
  store_.update_case(*c);
}

std::size_t CaseBook::close_quiet(core::Timestamp now) {
  flush();
  forget();
  auto limit = core::Timestamp::from_micros(now.micros() - cfg_.close_after_quiet_seconds * 1'000'000);
  store::CaseFilter f;
  f.active_only = true;
  std::size_t n = 0;
  for (auto& c : store_.list_cases(f)) {
    if (c.last_seen >= limit) continue;
    if (c.state != CaseState::kNotified && c.state != CaseState::kResolved) continue;
    transition(c, CaseState::kClosed,
               "quiet: no event for " + std::to_string(cfg_.close_after_quiet_seconds / 86400) + " days", now);
    store_.update_case(c);
    ++n;
  }
  return n;
}

bool needs_letter(const Case& c, const config::Config& cfg, core::Timestamp now) {
  if (c.state == CaseState::kClosed || c.state == CaseState::kResolved) return false;
  if (c.notifications == 0 || !c.last_notified) return true;
  if (c.notified_state != c.state) return true;               // e.g. escalated since the last letter
  if (c.event_count <= c.notified_event_count) return false;  // nothing new: nothing to say
  std::int64_t interval = cfg.renotify_seconds_medium;
  switch (c.severity) {
    case core::Severity::kCritical: interval = cfg.renotify_seconds_critical; break;
    case core::Severity::kHigh: interval = cfg.renotify_seconds_high; break;
    case core::Severity::kLow: interval = cfg.renotify_seconds_low; break;
    case core::Severity::kInfo: interval = cfg.renotify_seconds_info; break;
    default: break;
  }
  return now.micros() - c.last_notified->micros() >= interval * 1'000'000;
}

}  // namespace klartext::cases
