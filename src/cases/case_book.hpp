// The case lifecycle: aggregates events into cases and applies every state transition (with reason).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cases/case.hpp"
#include "config/config.hpp"
#include "core/event.hpp"
#include "store/store.hpp"

namespace klartext::cases {

// Works on one Store inside the caller's transaction. Cases touched by add_event() are kept in
// memory and written by flush() (ingest calls it once per input, before commit).
//
// Lifecycle rules (every change is a Transition with time and reason):
//  - first event for (customer, classification, source ip) with no active case -> new case, kOpen;
//  - an event newer than the last letter on a kNotified case: recurring; once the case had
//    cfg.escalate_after_notifications letters it becomes kEscalated;
//  - an event newer than the resolution on a kResolved case: back to kOpen (or kEscalated, same
//    threshold): the customer said it was fixed, but it was seen again;
//  - record_letter(): kOpen/kResolved -> kNotified (kEscalated stays kEscalated, noted in history);
//  - resolve(): customer says fixed -> kResolved;  close(): verified (e.g. a probe) -> kClosed;
//  - close_quiet(now): active cases whose last event is older than cfg.close_after_quiet_seconds
//    -> kClosed.
class CaseBook {
 public:
  CaseBook(store::Store& store, const config::Config& cfg);

  // The active case for this event's key (creating it when there is none) and its id. Call before
  // storing the event so the event row can carry the case id; then call add_event() only if the
  // event was really new. A case created here that gets no event is removed by flush().
  std::int64_t case_for(std::string_view customer_id, const core::Event& event, core::Timestamp now);
  // Counts a stored event into its case: count, first/last seen, severity, recurrence rules.
  void add_event(std::int64_t case_id, const core::Event& event, core::Timestamp event_time, core::Timestamp now);
  // Writes the cases touched since the last flush.
  void flush();

  // A letter about these cases was written: stores the notification (store::add_notification) and
  // moves each case to kNotified. Returns the notification id.
  std::int64_t record_letter(const store::Notification& letter);
  void resolve(std::int64_t case_id, std::string_view reason, core::Timestamp now);
  void close(std::int64_t case_id, std::string_view reason, core::Timestamp now);
  // Closes quiet cases; returns how many.
  std::size_t close_quiet(core::Timestamp now);

  // Number of cases created / transitions made since construction (for summaries).
  std::size_t cases_created() const { return created_; }

 private:
  struct Key {
    std::string customer;
    std::string classification;
    core::IpAddress ip;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const;
  };
  struct Cached {
    Cached(Case case_, bool dirty_, bool is_new_)
        : c(std::move(case_)), dirty(dirty_), is_new(is_new_), stored_state(c.state) {}
    Case c;
    bool dirty = false;
    bool is_new = false;
    CaseState stored_state;  // the state in the store: unchanged -> the cheaper update
  };
  Cached& load(std::int64_t id);
  void load_active_keys();
  void transition(Case& c, CaseState to, std::string_view reason, core::Timestamp now);

  store::Store& store_;
  const config::Config& cfg_;
  std::unordered_map<Key, std::int64_t, KeyHash> by_key_;
  std::unordered_map<std::int64_t, Cached> cache_;
  std::size_t created_ = 0;
  bool keys_loaded_ = false;
  std::int64_t loaded_up_to_ = 0;  // active cases up to this id are in by_key_
};

// Whether a case should be in the customer's next letter: not closed/resolved, and either never
// notified, or its state changed since the last letter (e.g. escalated), or it has new events and
// its re-notification interval (cfg.renotify_seconds_<severity>) has passed since the last letter.
bool needs_letter(const Case& c, const config::Config& cfg, core::Timestamp now);

// The event time a case uses: time.source, else time.observation, else `fallback`.
core::Timestamp event_time(const core::Event& e, core::Timestamp fallback);

}  // namespace klartext::cases
