// Ingest on two cores: the parser runs on a second thread and hands prepared events in batches to the store thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/event.hpp"
#include "core/timestamp.hpp"
#include "customers/holder_index.hpp"
#include "formats/format.hpp"
#include "store/store.hpp"

namespace klartext::ingest::detail {

// Events per batch and batches in flight: the parse thread waits when all of them are full, so an
// input of any size holds at most kPipeBatches * kPipeBatchEvents events (about 1 MB) in memory.
// Small on purpose: what the parse thread writes should still be in a cache when the store thread
// reads it. Batches of 1,024 or 2,048 events (16-32 MB in flight) cost the parse thread 30-60 %
// more CPU than batches of 64 (bench/ingest_pipe_bench.cpp); 64 events are still ~40 µs of
// parsing against a hand-over of a lock and a wake-up.
inline constexpr std::size_t kPipeBatchEvents = 64;
inline constexpr std::size_t kPipeBatches = 8;
// A batch is handed over early once it holds this many issues (an input that is all issues).
inline constexpr std::size_t kPipeBatchIssues = 256;

// One event as the store thread takes it, with what the parse thread worked out for it. Slots are
// recycled: copy-assigning the parser's event keeps their capacity, so no event allocates.
struct PreparedEvent {
  core::Event event;
  std::string id;               // event.id()
  store::PreparedEvent stored;  // what Store::add_event keeps of it (JSON delta, texts, key)
  core::Timestamp time;
  // The holder at `time`, when the parse thread had the holder index (looked_up); else the store
  // thread asks the index itself.
  bool looked_up = false;
  std::optional<customers::Holder> holder;
};

// What the store thread does with the parser's output, in the order the parser emitted it.
class PipeConsumer {
 public:
  virtual ~PipeConsumer() = default;
  virtual void on_event(const PreparedEvent& event) = 0;
  virtual void on_issue(const formats::ParseIssue& issue) = 0;
  // Before the events of a batch are passed on: a chance to start their cache misses together.
  virtual void on_batch(const PreparedEvent* /*events*/, std::size_t /*count*/) {}
  // Called instead of waiting when no batch is ready: a bounded piece of work that would otherwise
  // wait for the end of the input. Returns false when there is nothing left to do; run() then waits
  // for the parse thread.
  virtual bool on_idle() { return false; }
};

// Per-thread CPU and waiting, for the debug log and the tests.
struct PipeStats {
  double parse_cpu_seconds = 0;
  double store_cpu_seconds = 0;
  double parse_wait_seconds = 0;       // parse thread waiting for a free batch (store thread behind)
  double store_wait_seconds = 0;       // store thread waiting for a full batch (parse thread behind)
  double store_idle_work_seconds = 0;  // of the store thread's CPU: PipeConsumer::on_idle()
  // Runnable but without a CPU (other processes on the machine), from /proc/thread-self/schedstat.
  double parse_runqueue_seconds = 0;
  double store_runqueue_seconds = 0;
  double wall_seconds = 0;  // run() from start to end
  std::size_t batches = 0;
};

// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), for the debug log.
double thread_cpu_seconds();

// Runs `produce` (formats::parse_input with the sink it is given) on a second thread; the sink
// prepares each event there (JSON, id, event time, and the holder once publish_holders() gave the
// index) and hands batches to run(), which feeds them to the consumer on the calling thread.
//
// Failures: an exception from `produce` (or its sink) ends the parse thread; run() first feeds
// what was handed over before it, then rethrows it. An exception from the consumer stops the
// parse thread at its next event or issue (the sink throws a private type that is no
// std::exception, so parse_input does not record it as a parser failure), joins it and propagates.
class EventPipe {
 public:
  using Producer = std::function<formats::InputSummary(formats::Sink& sink)>;

  EventPipe(Producer produce, core::Timestamp now, std::size_t batch_events = kPipeBatchEvents,
            std::size_t batches = kPipeBatches);
  ~EventPipe();
  EventPipe(const EventPipe&) = delete;
  EventPipe& operator=(const EventPipe&) = delete;

  // The holder index the parse thread may use from its next batch on (it must outlive the pipe).
  // Callable from the store thread at any time.
  void publish_holders(const customers::HolderIndex* index) { holders_.store(index, std::memory_order_release); }

  // Starts the parse thread and consumes on the calling thread until the parser ends; returns its
  // summary. Call once.
  formats::InputSummary run(PipeConsumer& consumer);

  const PipeStats& stats() const { return stats_; }

 private:
  struct Batch {
    std::vector<PreparedEvent> events;  // the first `size` are in use
    std::size_t size = 0;
    std::vector<std::pair<std::size_t, formats::ParseIssue>> issues;  // issue before events[first]
  };
  class ParseSink;
  void parse_main(std::stop_token stop);
  static void consume(const Batch& batch, PipeConsumer& consumer);

  Producer produce_;
  core::Timestamp now_;
  std::size_t batch_events_;
  std::vector<std::unique_ptr<Batch>> pool_;
  std::atomic<const customers::HolderIndex*> holders_{nullptr};

  std::mutex mu_;
  std::condition_variable full_cv_;      // store thread: a batch is full, or the parser ended
  std::condition_variable_any free_cv_;  // parse thread: a batch is free (or stop requested)
  std::vector<Batch*> free_;             // under mu_
  std::vector<Batch*> full_;             // under mu_, oldest first (a ring would save nothing at 4)
  bool done_ = false;                    // under mu_: the parse thread has handed over everything
  formats::InputSummary summary_;        // written by the parse thread before done_
  std::exception_ptr error_;             // likewise
  PipeStats stats_;

  std::jthread thread_;  // last: joined before anything it uses is destroyed
};

}  // namespace klartext::ingest::detail
