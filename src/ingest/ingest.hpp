// Ingest as a library: stores reports with their events and issues, finds holders, updates cases.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>

#include "config/config.hpp"
#include "core/timestamp.hpp"
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

// Below this input size the parser runs on the calling thread: starting a thread costs more than
// it saves on a mail of a few KB (a 256 KiB CSV is about 1,500 rows, some 15 ms of work).
inline constexpr std::size_t kPipelineMinBytes = 256 * 1024;
inline constexpr std::size_t kNeverPipeline = static_cast<std::size_t>(-1);

struct Options {
  formats::ParseOptions parse;  // data_dir empty: cfg.data_dir; limits are cfg.limits
  // A huge input is committed in slices of this many events; the report is marked complete after
  // its last slice (an interrupted ingest resumes it). Every commit writes each index page it
  // dirtied to the WAL again (new cases land all over the customer index), so small slices
  // multiply the bytes written: 1 M rows in 50 k slices wrote 2.8 GB, in one slice 1.4 GB
  // (SQLite spills dirty pages beyond its cache to the WAL within a transaction by itself).
  std::uint64_t events_per_commit = 1'000'000;
  // Inputs of at least this many bytes are parsed on a second thread while the calling thread
  // stores (kNeverPipeline: never; 0: always, for tests).
  std::size_t pipeline_min_bytes = kPipelineMinBytes;
  // The ingest's clock for received/created times (tests pin it); unset: the current time.
  std::optional<core::Timestamp> now;
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

namespace detail {
// Whether `in` is parsed on a second thread (options.pipeline_min_bytes).
bool use_pipeline(const formats::Input& in, const Options& options);
}  // namespace detail

// The total line `klartext ingest` prints: "ingest: N new reports, ...".
std::string summary_line(const Result& r);

}  // namespace klartext::ingest
