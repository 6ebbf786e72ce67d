// `notify`: one letter per customer covering its due cases (new, changed, or due again), written to
// the outbox and recorded in the store.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/timestamp.hpp"
#include "letters/resend.hpp"

namespace klartext::store {
class Store;
}

namespace klartext::notify {

struct Options {
  bool dry_run = false;  // print the letters instead of writing and recording them
  core::Timestamp now = core::Timestamp::now();
  std::ostream* dry_run_out = nullptr;     // where --dry-run prints (required with dry_run)
  std::size_t max_evidence_events = 1000;  // stored events read per case for the evidence
  bool sync = true;  // letters are on disk before they are recorded (one file-system sync per batch)
  // Letters made durable, moved into new/ and recorded per batch (one sync, one store transaction).
  std::size_t record_batch = 1000;
};

struct CaseLine {
  std::int64_t case_id = 0;
  std::string classification;
  std::string address;
  std::int64_t event_count = 0;
  letters::Due due = letters::Due::kNew;
  bool has_text = true;  // false: the knowledge base has no text for its identifier
};

struct LetterLine {
  std::string customer_id;
  std::string customer_name;
  std::string language;
  std::vector<std::string> to;
  std::string subject;
  std::string message_id;
  std::string path;  // file in the outbox; empty with --dry-run
  std::vector<CaseLine> cases;
};

struct Result {
  std::vector<LetterLine> letters;
  std::size_t cases_active = 0;       // active cases looked at
  std::size_t cases_not_due = 0;      // unchanged and notified recently
  std::vector<std::string> warnings;  // cases without specific text, customers without address, ...
};

// Decides, renders, builds MIME, delivers to cfg.outbox_dir and records each letter (notification +
// open->notified transitions), a batch of letters per sync and store transaction. Throws on store or
// outbox failures.
Result run(store::Store& store, const config::Config& cfg, const Options& options);

// The human summary `notify` and `run` print: per customer what was found and where the letter is.
void print_summary(const Result& r, std::ostream& out, bool dry_run);

}  // namespace klartext::notify
