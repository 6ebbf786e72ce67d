// Case aggregation and lifecycle transitions (rules in case_book.hpp).
#include "cases/case_book.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

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

std::size_t CaseBook::KeyHash::operator()(const Key& k) const {
  std::size_t h = std::hash<std::string>{}(k.customer);
  h = h * 31 + std::hash<std::string>{}(k.classification);
  return h * 31 + std::hash<core::IpAddress>{}(k.ip);
}

CaseBook::CaseBook(store::Store& store, const config::Config& cfg) : store_(store), cfg_(cfg) {}

void CaseBook::load_active_keys() {
  // One query instead of a lookup per new key (the ingest of a big report opens many cases); after
  // a flush only cases created since (by us or another process) are read. The latest active case
  // per key wins, as in Store::find_active_case.
  for (auto& c : store_.active_cases_after(loaded_up_to_)) {
    auto id = c.id;
    loaded_up_to_ = std::max(loaded_up_to_, id);
    Key key{std::move(c.customer_id), c.classification.to_string(), c.source_ip};
    auto [it, inserted] = by_key_.try_emplace(std::move(key), id);
    if (!inserted && it->second < id) it->second = id;
  }
  keys_loaded_ = true;
}

CaseBook::Cached& CaseBook::load(std::int64_t id) {
  auto it = cache_.find(id);
  if (it != cache_.end()) return it->second;
  auto c = store_.get_case(id);
  if (!c) throw std::runtime_error("no case with id " + std::to_string(id));
  return cache_.emplace(id, Cached{std::move(*c), false, false}).first->second;
}

void CaseBook::transition(Case& c, CaseState to, std::string_view reason, core::Timestamp now) {
  if (c.state == to) return;
  store_.add_transition({c.id, c.state, to, now, std::string(reason)});
  spdlog::debug("case transition case={} from={} to={} reason={}", c.id, to_string(c.state), to_string(to), reason);
  c.state = to;
  c.updated = now;
}

std::int64_t CaseBook::case_for(std::string_view customer_id, const core::Event& event, core::Timestamp now) {
  Key key{std::string(customer_id), event.classification().to_string(), event.source_ip().value_or(core::IpAddress{})};
  if (!keys_loaded_) load_active_keys();
  auto it = by_key_.find(key);
  bool known = it != by_key_.end();
  if (known) {
    auto cached = cache_.find(it->second);
    if (cached == cache_.end()) {
      // Re-read after a flush; gone means another process removed it: ask the store below.
      if (auto c = store_.get_case(it->second)) {
        cached = cache_.emplace(it->second, Cached{std::move(*c), false, false}).first;
      }
    }
    if (cached != cache_.end() && cached->second.c.state != CaseState::kClosed) return it->second;
  }
  // All active cases of the store are in by_key_, so an unknown key has none: only a key whose
  // case was closed meanwhile needs the store (another active case for it is not expected).
  if (known) {
    if (auto existing = store_.find_active_case(key.customer, event.classification(), key.ip)) {
      auto id = existing->id;
      cache_.insert_or_assign(id, Cached{std::move(*existing), false, false});
      by_key_.insert_or_assign(std::move(key), id);
      return id;
    }
  }
  Case c;
  c.customer_id = key.customer;
  c.classification = event.classification();
  c.source_ip = key.ip;
  c.state = CaseState::kOpen;
  c.first_seen = c.last_seen = event_time(event, now);
  c.created = c.updated = now;
  c.id = store_.insert_case(c);
  store_.add_transition({c.id, std::nullopt, CaseState::kOpen, now, "first event " + event.id()});
  auto id = c.id;
  cache_.insert_or_assign(id, Cached{std::move(c), true, true});
  by_key_.insert_or_assign(std::move(key), id);
  ++created_;
  return id;
}

void CaseBook::add_event(std::int64_t case_id, const core::Event& event, core::Timestamp t, core::Timestamp now) {
  auto& cached = load(case_id);
  auto& c = cached.c;
  cached.dirty = true;
  if (c.event_count == 0 || t < c.first_seen) c.first_seen = t;
  bool newest = c.event_count == 0 || t >= c.last_seen;
  if (newest) {
    c.last_seen = t;
    if (auto p = event.source_port()) c.source_port = *p;
  }
  ++c.event_count;
  if (rank(event.severity()) > rank(c.severity)) c.severity = event.severity();
  c.updated = now;

  // Recurrence: seen again after a letter (or after the customer said it was fixed).
  bool escalate = c.notifications >= cfg_.escalate_after_notifications;
  if (c.state == CaseState::kNotified && c.last_notified && t > *c.last_notified && escalate) {
    transition(c, CaseState::kEscalated,
               "recurring after " + std::to_string(c.notifications) + " notifications (event " + event.id() + ")", now);
  } else if (c.state == CaseState::kResolved && c.resolved_at && t > *c.resolved_at) {
    transition(c, escalate ? CaseState::kEscalated : CaseState::kOpen,
               "seen again after the customer reported it fixed (event " + event.id() + ")", now);
  }
}

void CaseBook::flush() {
  for (auto it = cache_.begin(); it != cache_.end();) {
    auto& cached = it->second;
    if (cached.is_new && cached.c.event_count == 0) {
      // Created for an event that turned out to be stored already.
      store_.delete_case(cached.c.id);
      --created_;
      by_key_.erase(Key{cached.c.customer_id, cached.c.classification.to_string(), cached.c.source_ip});
      it = cache_.erase(it);
      continue;
    }
    if (cached.dirty) {
      if (cached.c.state == cached.stored_state) {
        store_.update_case_activity(cached.c);
      } else {
        store_.update_case(cached.c);
      }
    }
    cached.dirty = false;
    cached.is_new = false;
    ++it;
  }
  // The case cache only lives for one batch: another process may change cases between batches. The
  // key map stays: a case closed meanwhile is re-read (load) and falls back to the store lookup,
  // and cases created meanwhile are read before the next case_for.
  cache_.clear();
  keys_loaded_ = false;
}

std::int64_t CaseBook::record_letter(const store::Notification& letter) {
  flush();
  auto id = store_.add_notification(letter);
  for (auto case_id : letter.case_ids) {
    auto c = store_.get_case(case_id);
    if (!c) continue;
    if (c->state == CaseState::kOpen || c->state == CaseState::kResolved) {
      store_.add_transition({c->id, c->state, CaseState::kNotified, letter.time,
                             "letter " + letter.message_id + " to " + letter.customer_id});
      c->state = CaseState::kNotified;
      c->notified_state = CaseState::kNotified;
      c->updated = letter.time;
      store_.update_case(*c);
    } else if (c->state == CaseState::kEscalated) {
      store_.add_transition({c->id, c->state, CaseState::kEscalated, letter.time,
                             "escalation letter " + letter.message_id + " to " + letter.customer_id});
    }
  }
  return id;
}

void CaseBook::resolve(std::int64_t case_id, std::string_view reason, core::Timestamp now) {
  flush();
  auto c = store_.get_case(case_id);
  if (!c) throw std::runtime_error("no case with id " + std::to_string(case_id));
  if (c->state == CaseState::kClosed || c->state == CaseState::kResolved) return;
  transition(*c, CaseState::kResolved, reason, now);
  c->resolved_at = now;
  store_.update_case(*c);
}

void CaseBook::close(std::int64_t case_id, std::string_view reason, core::Timestamp now) {
  flush();
  auto c = store_.get_case(case_id);
  if (!c) throw std::runtime_error("no case with id " + std::to_string(case_id));
  if (c->state == CaseState::kClosed) return;
  transition(*c, CaseState::kClosed, reason, now);
  store_.update_case(*c);
}

std::size_t CaseBook::close_quiet(core::Timestamp now) {
  flush();
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
