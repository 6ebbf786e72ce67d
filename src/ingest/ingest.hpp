// Ingest as a library: stores reports with their events and issues, finds holders, updates cases.
#pragma once

#include <cstdint>
#include <ostream>

#include "config/config.hpp"
#include "formats/format.hpp"
#include "intake/sources.hpp"
#include "store/store.hpp"

namespace klartext::ingest {

struct Counts {
  std::uint64_t events = 0;      // parsed
  std::uint64_t stored = 0;      // new events stored
  std::uint64_t duplicates = 0;  // events already stored (same event id)
  std::uint64_t assigned = 0;
  std::uint64_t unassigned = 0;
  std::uint64_t issues = 0;
  void add(const Counts& o);
};

struct Options {
  formats::ParseOptions parse;  // data_dir empty: cfg.data_dir; limits are cfg.limits
  // A huge input is committed in slices of this many events; the report is marked complete after
  // its last slice (an interrupted ingest resumes it). Every commit writes each index page it
  // dirtied to the WAL again (new cases land all over the customer index), so small slices
  // multiply the bytes written: 1 M rows in 50 k slices wrote 2.8 GB, in one slice 1.4 GB
  // (SQLite spills dirty pages beyond its cache to the WAL within a transaction by itself).
  std::uint64_t events_per_commit = 1'000'000;
};

struct Result {
  Counts total;
  std::size_t reports = 0;  // new (or resumed) reports
  std::size_t skipped = 0;  // inputs ingested before
  std::size_t cases_created = 0;
  intake::SourceStats sources;
};

// Ingests every input of `sources` into `store`: one report per input (idempotent by the bytes'
// sha256; an interrupted ingest resumes), each event with its holder at the event's time (holder
// index built from the store) and its case. Writes one line per input to `out` unless null, and
// unreadable inputs to `errors`.
Result ingest(store::Store& store, const config::Config& cfg, const intake::SourceSpec& sources, const Options& options,
              std::ostream* out, std::ostream& errors);

// The total line `klartext ingest` prints: "ingest: N new reports, ...".
std::string summary_line(const Result& r);

}  // namespace klartext::ingest
