// The case lifecycle: aggregates events into cases and applies every state transition (with reason).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cases/case.hpp"
#include "config/config.hpp"
#include "core/event.hpp"
#include "store/store.hpp"

namespace klartext::cases {

// Works on one Store inside the caller's transaction. For ingest the book keeps the key and
// counters of every active case in memory for its whole life (loaded once, then only cases created
// by others since are read), numbers new cases itself and writes the cases touched since the last
// flush() in one go (ingest calls it before each commit). record_letter/resolve/reopen/close/
// close_quiet go to the store directly and make the book reload on the next case_for().
// Cases changed by another process while a book is ingesting keep the book's view until it reloads.
//
// Lifecycle rules (every change is a Transition with time and reason):
//  - first event for (customer, classification, source ip) with no active case -> new case, kOpen;
//  - an event newer than the last letter on a kNotified case: recurring; once the case had
//    cfg.escalate_after_notifications letters it becomes kEscalated;
//  - an event newer than the resolution on a kResolved case: reopened, back to kOpen (or
//    kEscalated, same threshold): the customer said it was fixed, but it was seen again;
//  - reopen(): the same for other evidence (e.g. a probe still finds the service open);
//  - record_letter(): kOpen/kResolved -> kNotified (kEscalated stays kEscalated, noted in history);
//  - resolve(): customer says fixed -> kResolved;  close(): verified (e.g. a probe) -> kClosed;
//  - close_quiet(now): active cases whose last event is older than cfg.close_after_quiet_seconds
//    -> kClosed.
class CaseBook {
 public:
  CaseBook(store::Store& store, const config::Config& cfg);
  ~CaseBook();
  CaseBook(const CaseBook&) = delete;
  CaseBook& operator=(const CaseBook&) = delete;

  // The active case for this event's key (creating it when there is none) and its id. Call before
  // storing the event so the event row can carry the case id; then call add_event() only if the
  // event was really new. A case created here that gets no event is never written.
  std::int64_t case_for(std::string_view customer_id, const core::Event& event, core::Timestamp now);
  // The same with the book's number for the customer (customer_key()): a caller that sees the same
  // customers again and again (ingest: the holder index's customer numbers) skips hashing the id.
  // A number is valid while epoch() stays the same (a letter, resolve, reopen or close makes the
  // book reload and renumber).
  std::int64_t case_for(std::uint32_t customer_key, const core::Event& event, core::Timestamp now);
  // The same with the event's id (core::Event::id()) from a caller that has it already: a new case
  // records it in its opening reason, and computing it hashes the event's evidence again.
  std::int64_t case_for(std::uint32_t customer_key, const core::Event& event, std::string_view event_id,
                        core::Timestamp now);
  std::uint32_t customer_key(std::string_view customer_id);
  // Whether the next event added to `case_id` opens it: a case created by this book that has no
  // event yet (store::Store::add_event records that link with the block, schema version 10).
  bool opens(std::int64_t case_id) const;
  // A hint before case_for(customer_key, event, ...): starts loading the slot its lookup probes
  // first, so a caller with a batch of events overlaps their cache misses.
  void prefetch(std::uint32_t customer_key, const core::Event& event) const;
  std::uint64_t epoch() const { return epoch_; }
  // Counts a stored event into its case: count, first/last seen, severity, recurrence rules.
  void add_event(std::int64_t case_id, const core::Event& event, core::Timestamp event_time, core::Timestamp now);
  // Writes the cases (and their transitions) touched since the last flush.
  void flush();
  // Writes up to `max_rows` of the cases created since the last flush, oldest first, and returns
  // whether it wrote any: an ingest writes them while it waits for its parser instead of all at
  // once before its commit. A case written here that gets another event is updated by flush().
  bool flush_new(std::size_t max_rows);

  // A letter about these cases was written: stores the notification (store::Store::add_letter) and
  // moves each case to kNotified. Returns the notification id.
  std::int64_t record_letter(const store::Notification& letter);
  void resolve(std::int64_t case_id, std::string_view reason, core::Timestamp now);
  // A kResolved or kClosed case is active again (new evidence after the resolution): kOpen, or
  // kEscalated once it had cfg.escalate_after_notifications letters. Returns the new state (the
  // old one when the case was active already).
  CaseState reopen(std::int64_t case_id, std::string_view reason, core::Timestamp now);
  void close(std::int64_t case_id, std::string_view reason, core::Timestamp now);
  // Closes quiet cases; returns how many.
  std::size_t close_quiet(core::Timestamp now);

  // Number of cases created / transitions made since construction (for summaries).
  std::size_t cases_created() const { return created_; }

  struct Book;  // the in-memory cases (case_book.cpp)

 private:
  void transition(Case& c, CaseState to, std::string_view reason, core::Timestamp now);
  void forget();  // drop the in-memory cases: the store changed under them

  store::Store& store_;
  const config::Config& cfg_;
  std::unique_ptr<Book> book_;
  std::size_t created_ = 0;
  std::uint64_t epoch_ = 0;
};

// Whether a case should be in the customer's next letter: not closed/resolved, and either never
// notified, or its state changed since the last letter (e.g. escalated), or it has new events and
// its re-notification interval (cfg.renotify_seconds_<severity>) has passed since the last letter.
bool needs_letter(const Case& c, const config::Config& cfg, core::Timestamp now);

// The event time a case uses: time.source, else time.observation, else `fallback`.
core::Timestamp event_time(const core::Event& e, core::Timestamp fallback);

}  // namespace klartext::cases
