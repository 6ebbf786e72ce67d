// The parse thread of a pipelined ingest and the hand-over of its batches to the store thread.
#include "ingest/event_pipe.hpp"

#include <spdlog/spdlog.h>
#include <time.h>

#include <cstdio>

#include "cases/case_book.hpp"

namespace klartext::ingest::detail {
namespace {

// Thrown on the parse thread once the store thread gave up: not a std::exception, so that
// parse_input's catch (which records a parser's failure as an issue) lets it pass straight through.
struct Stopped {};

// Time this thread was runnable but waited for a CPU (the second field of
// /proc/thread-self/schedstat), to tell a busy machine from a slow thread; 0 where unavailable.
double runqueue_wait_seconds() {
  std::FILE* f = std::fopen("/proc/thread-self/schedstat", "r");
  if (f == nullptr) return 0;
  unsigned long long run = 0, wait = 0;
  int n = std::fscanf(f, "%llu %llu", &run, &wait);
  std::fclose(f);
  return n == 2 ? static_cast<double>(wait) * 1e-9 : 0;
}

double mono_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The parser's sink on the parse thread: fills the current batch and hands it over when full.
class EventPipe::ParseSink : public formats::Sink {
 public:
  ParseSink(EventPipe& pipe, std::stop_token stop) : pipe_(pipe), stop_(std::move(stop)) {}

  void on_event(const core::Event& e) override {
    Batch& b = current();
    PreparedEvent& p = b.events[b.size++];
    p.event = e;
    // The JSON with the evidence left out and its member ends, so that the preparer neither cuts the
    // base64 out again nor scans the members; unusual keys or values take the general path.
    json_.clear();
    e.append_json_parts(json_, parts_);
    p.id.assign(parts_.id, sizeof parts_.id);
    if (parts_.plain) {
      preparer_.prepare(e, parts_, json_, p.stored);
    } else {
      json_.clear();
      e.append_json(json_);
      preparer_.prepare(e, p.id, json_, p.stored);
    }
    p.time = cases::event_time(e, pipe_.now_);
    p.looked_up = false;
    p.holder.reset();
    if (b.size == b.events.size()) hand_over();
  }

  void on_issue(const formats::ParseIssue& issue) override {
    Batch& b = current();
    b.issues.emplace_back(b.size, issue);
    if (b.issues.size() >= kPipeBatchIssues) hand_over();
  }

  // Hands over the last, partly filled batch.
  void finish() {
    if (batch_ != nullptr) hand_over();
  }

  double wait_seconds = 0;
  std::size_t batches = 0;

 private:
  Batch& current() {
    if (stop_.stop_requested()) throw Stopped{};
    if (batch_ == nullptr) {
      std::unique_lock lock(pipe_.mu_);
      if (pipe_.free_.empty()) {
        double t0 = mono_seconds();
        if (!pipe_.free_cv_.wait(lock, stop_, [&] { return !pipe_.free_.empty(); })) throw Stopped{};
        wait_seconds += mono_seconds() - t0;
      }
      batch_ = pipe_.free_.back();
      pipe_.free_.pop_back();
    }
    return *batch_;
  }

  void hand_over() {
    look_up_holders(*batch_);
    {
      std::lock_guard lock(pipe_.mu_);
      pipe_.full_.push_back(batch_);
    }
    pipe_.full_cv_.notify_one();
    batch_ = nullptr;
    ++batches;
  }

  // The holders of the batch's events in one lookup_batch (its prefetching overlaps the cache
  // misses), once the store thread has published the index.
  void look_up_holders(Batch& b) {
    const customers::HolderIndex* index = pipe_.holders_.load(std::memory_order_acquire);
    if (index == nullptr) return;
    queries_.clear();
    at_.clear();
    for (std::size_t i = 0; i < b.size; ++i) {
      const core::Event& e = b.events[i].event;
      if (auto ip = e.source_ip()) {
        queries_.push_back({*ip, b.events[i].time, e.source_port()});
        at_.push_back(i);
      }
    }
    answers_.resize(queries_.size());
    index->lookup_batch(queries_, answers_);
    for (std::size_t k = 0; k < at_.size(); ++k) b.events[at_[k]].holder = answers_[k];
    for (std::size_t i = 0; i < b.size; ++i) b.events[i].looked_up = true;
  }

  EventPipe& pipe_;
  std::stop_token stop_;
  std::string json_;
  core::JsonParts parts_;
  store::EventPreparer preparer_;  // the pipe carries one input: one report
  Batch* batch_ = nullptr;
  std::vector<customers::HolderQuery> queries_;
  std::vector<std::optional<customers::Holder>> answers_;
  std::vector<std::size_t> at_;
};

EventPipe::EventPipe(Producer produce, core::Timestamp now, std::size_t batch_events, std::size_t batches)
    : produce_(std::move(produce)), now_(now), batch_events_(batch_events == 0 ? 1 : batch_events) {
  if (batches == 0) batches = 1;
  for (std::size_t i = 0; i < batches; ++i) {
    auto b = std::make_unique<Batch>();
    b->events.resize(batch_events_);
    free_.push_back(b.get());
    pool_.push_back(std::move(b));
  }
}

EventPipe::~EventPipe() = default;  // thread_ (declared last) requests stop and joins first

void EventPipe::parse_main(std::stop_token stop) {
  double cpu0 = thread_cpu_seconds();
  double runq0 = runqueue_wait_seconds();
  ParseSink sink(*this, std::move(stop));
  formats::InputSummary summary;
  std::exception_ptr error;
  try {
    summary = produce_(sink);
    sink.finish();
  } catch (const Stopped&) {
    // The store thread failed; it rethrows its own exception.
  } catch (...) {
    error = std::current_exception();
    // What the parser emitted before it failed reaches the store first, as on one thread.
    try {
      sink.finish();
    } catch (...) {
    }
  }
  {
    std::lock_guard lock(mu_);
    summary_ = std::move(summary);
    error_ = error;
    stats_.parse_cpu_seconds = thread_cpu_seconds() - cpu0;
    stats_.parse_wait_seconds = sink.wait_seconds;
    stats_.parse_runqueue_seconds = runqueue_wait_seconds() - runq0;
    stats_.batches = sink.batches;
    done_ = true;
  }
  full_cv_.notify_one();
}

void EventPipe::consume(const Batch& b, PipeConsumer& consumer) {
  consumer.on_batch(b.events.data(), b.size);
  auto issue = b.issues.begin();
  for (std::size_t i = 0; i < b.size; ++i) {
    for (; issue != b.issues.end() && issue->first == i; ++issue) consumer.on_issue(issue->second);
    consumer.on_event(b.events[i]);
  }
  for (; issue != b.issues.end(); ++issue) consumer.on_issue(issue->second);
}

formats::InputSummary EventPipe::run(PipeConsumer& consumer) {
  double cpu0 = thread_cpu_seconds();
  double runq0 = runqueue_wait_seconds();
  double wall0 = mono_seconds();
  double waited = 0;
  double idle_cpu = 0;
  bool idle_work = true;  // until on_idle() says there is nothing left
  thread_ = std::jthread([this](std::stop_token stop) { parse_main(std::move(stop)); });
  try {
    for (;;) {
      Batch* b = nullptr;
      {
        std::unique_lock lock(mu_);
        while (full_.empty() && !done_ && idle_work) {
          // Work the consumer would do at the end anyway, while the parse thread fills a batch.
          lock.unlock();
          const double c0 = thread_cpu_seconds();
          idle_work = consumer.on_idle();
          idle_cpu += thread_cpu_seconds() - c0;
          lock.lock();
        }
        if (full_.empty() && !done_) {
          double t0 = mono_seconds();
          full_cv_.wait(lock, [&] { return !full_.empty() || done_; });
          waited += mono_seconds() - t0;
        }
        if (full_.empty()) break;  // done_ and everything consumed
        b = full_.front();
        full_.erase(full_.begin());
      }
      consume(*b, consumer);
      idle_work = true;  // the batch may have left work for the next idle time
      b->size = 0;
      b->issues.clear();
      {
        std::lock_guard lock(mu_);
        free_.push_back(b);
      }
      free_cv_.notify_one();
    }
  } catch (...) {
    thread_.request_stop();
    thread_.join();
    throw;
  }
  thread_.join();
  stats_.store_cpu_seconds = thread_cpu_seconds() - cpu0;
  stats_.store_wait_seconds = waited;
  stats_.store_idle_work_seconds = idle_cpu;
  stats_.store_runqueue_seconds = runqueue_wait_seconds() - runq0;
  stats_.wall_seconds = mono_seconds() - wall0;
  // wall - cpu - wait - runqueue of a thread: the time it was blocked elsewhere (I/O, page faults).
  spdlog::debug(
      "ingest pipeline done batches={} wall_s={:.3f} parse_cpu_s={:.3f} parse_wait_s={:.3f} parse_runqueue_s={:.3f} "
      "store_cpu_s={:.3f} store_idle_work_s={:.3f} store_wait_s={:.3f} store_runqueue_s={:.3f}",
      stats_.batches, stats_.wall_seconds, stats_.parse_cpu_seconds, stats_.parse_wait_seconds,
      stats_.parse_runqueue_seconds, stats_.store_cpu_seconds, stats_.store_idle_work_seconds,
      stats_.store_wait_seconds, stats_.store_runqueue_seconds);
  if (error_) std::rethrow_exception(error_);
  return std::move(summary_);
}

}  // namespace klartext::ingest::detail
