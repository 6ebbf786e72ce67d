// Ingest as a library (used by `klartext ingest` and `klartext run`): one transaction slice per batch of events.
#include "ingest/ingest.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <functional>
#include <future>
#include <optional>
#include <utility>
#include <vector>

#include "cases/case_book.hpp"
#include "customers/holder_index.hpp"
#include "ingest/event_pipe.hpp"

namespace klartext::ingest {
namespace {

// The holder index, built from the store when the first event asks for it: an ingest of inputs
// that were all seen before (or that hold no addresses) does not read a million sessions.
class LazyHolders {
 public:
  explicit LazyHolders(store::Store& store) : store_(store) {}
  LazyHolders(const LazyHolders&) = delete;
  LazyHolders& operator=(const LazyHolders&) = delete;
  ~LazyHolders() {
    if (loading_.valid()) loading_.wait();
  }

  // Starts reading the saved index on a second connection and thread, for a big input whose bytes
  // the calling thread hashes and stores meanwhile. Without a second connection (a database in
  // memory) or a saved index, get() builds it as before.
  void start_loading() {
    if (index_ || loading_.valid()) return;
    try {
      // Opened here: its schema check must not wait for this thread's transaction.
      std::unique_ptr<store::Store> reader = store_.open_another();
      if (!reader) return;
      loading_ = std::async(std::launch::async, [r = std::move(reader)]() mutable {
        auto index = customers::HolderIndex::from_snapshot(*r);
        r.reset();
        return index;
      });
    } catch (const std::exception& e) {  // no connection or thread: get() builds it as before
      spdlog::debug("holder index not read ahead error={}", e.what());
    }
  }
  bool loading() const { return loading_.valid(); }

  const customers::HolderIndex& get() {
    if (!index_ && loading_.valid()) {
      try {
        index_ = loading_.get();
      } catch (const std::exception& e) {
        spdlog::warn("holder snapshot not read ahead, reading it again error={}", e.what());
      }
    }
    if (!index_) index_ = customers::HolderIndex::from_store(store_);
    if (!logged_) {
      spdlog::debug("holder index built sessions={} statics={} bytes={}", index_->sessions(), index_->statics(),
                    index_->memory_bytes());
      logged_ = true;
    }
    return *index_;
  }
  // The index when it has been built, else null.
  const customers::HolderIndex* built() const { return index_ ? &*index_ : nullptr; }

 private:
  store::Store& store_;
  std::optional<customers::HolderIndex> index_;
  std::future<std::optional<customers::HolderIndex>> loading_;
  bool logged_ = false;
};

// Stores what one input's parser emits, inside that input's transaction slices. Re-ingesting an
// incomplete report resumes it: events are unique by id and cases count only new events, so an
// interrupted ingest neither loses nor double-counts anything.
class StoreSink : public formats::Sink {
 public:
  StoreSink(store::Store& store, LazyHolders& holders, cases::CaseBook& book, std::int64_t report_id,
            core::Timestamp now, std::uint64_t per_commit, std::function<void()> checkpoint)
      : store_(store),
        holders_(holders),
        book_(book),
        report_id_(report_id),
        now_(now),
        per_commit_(per_commit),
        checkpoint_(std::move(checkpoint)) {}

  // The parser's sink (the parse runs on this thread). A store failure must reach the caller, not
  // become the parser's failure: parse_input records a std::exception from the parser as a
  // "parser-failure" issue and goes on to mark the report complete, which would hide the events
  // after it; StoreFailed is no std::exception, passes parse_input, and ingest rethrows `failure`.
  void on_event(const core::Event& e) override {
    try {
      store_event(e, cases::event_time(e, now_), nullptr, nullptr);
    } catch (...) {
      failure = std::current_exception();
      throw StoreFailed{};
    }
  }
  void on_issue(const formats::ParseIssue& issue) override {
    try {
      store_issue(issue);
    } catch (...) {
      failure = std::current_exception();
      throw StoreFailed{};
    }
  }
  struct StoreFailed {};
  std::exception_ptr failure;

  // Everything of one event that needs the store, the holder index or the case book (the store
  // thread's part when the parse thread prepared the rest): `prepared` is what the parse thread
  // made of the event for the store, `holder` the holder lookup's answer when it was made already;
  // null: worked out here.
  void store_event(const core::Event& e, core::Timestamp t, const store::PreparedEvent* prepared,
                   const std::optional<customers::Holder>* holder) {
    // Between events only: a case created for an event must see that event in the same slice.
    if (++since_checkpoint_ >= per_commit_) {
      since_checkpoint_ = 0;
      checkpoint_();
    }
    ++counts.events;
    std::string_view customer;
    std::optional<std::int64_t> case_id;
    // The parse thread worked the id out already when it prepared the event.
    std::string own_id;
    const std::string_view event_id = prepared != nullptr ? std::string_view(prepared->event_id) : (own_id = e.id());
    if (auto ip = e.source_ip()) {
      const auto& holders = holders_.get();
      auto h = holder != nullptr ? *holder : holders.lookup(*ip, t, e.source_port());
      if (h) {
        customer = holders.customer_id(h->customer);
        if (!customer.empty()) case_id = book_.case_for(book_key(h->customer, customer), e, event_id, now_);
      }
    }
    const bool opens = case_id && book_.opens(*case_id);
    std::optional<std::int64_t> row;
    if (prepared != nullptr) {
      row = store_.add_event(report_id_, *prepared, t, customer, case_id, opens);
    } else {
      json_.clear();
      e.append_json(json_);
      row = store_.add_event(report_id_, e, event_id, json_, t, customer, case_id, opens);
    }
    if (!row) {
      ++counts.duplicates;
      return;
    }
    ++counts.stored;
    if (case_id) {
      ++counts.assigned;
      book_.add_event(*case_id, e, t, now_);
    } else {
      ++counts.unassigned;
    }
  }
  // Before a batch of prepared events: starts the cache misses of their duplicate checks and case
  // lookups (a million keys and cases each), so that store_event finds them loaded.
  void prefetch(const detail::PreparedEvent* events, std::size_t count) {
    const auto* holders = holders_.built();
    for (std::size_t i = 0; i < count; ++i) {
      const auto& p = events[i];
      store_.prefetch_event(p.stored.key, p.time);
      if (holders == nullptr || !p.looked_up || !p.holder) continue;
      const std::string_view customer = holders->customer_id(p.holder->customer);
      if (!customer.empty()) book_.prefetch(book_key(p.holder->customer, customer), p.event);
    }
  }
  // Between events, while the parse thread fills the next batch: some of the new case rows the
  // commit would write. False when none was left.
  bool write_ahead() {
    constexpr std::size_t kCaseRows = 256;  // about a third of a millisecond
    return book_.flush_new(kCaseRows);
  }
  void store_issue(const formats::ParseIssue& issue) {
    if (counts.issues == 0) first_issue_code = issue.code;
    ++counts.issues;
    store_.add_issue(report_id_, issue);
  }

  Counts counts;
  std::string first_issue_code;

 private:
  // The case book's number for the holder index's customer number `holder` (remembered: hashing
  // the customer id for every event cost 4 % of an ingest).
  std::uint32_t book_key(std::uint32_t holder, std::string_view customer_id) {
    if (book_.epoch() != epoch_) {
      keys_.clear();
      epoch_ = book_.epoch();
    }
    if (keys_.size() <= holder) keys_.resize(std::size_t{holder} + 1, kNoKey);
    auto& key = keys_[holder];
    if (key == kNoKey) key = book_.customer_key(customer_id);
    return key;
  }
  static constexpr std::uint32_t kNoKey = ~0u;
  std::vector<std::uint32_t> keys_;  // by holder customer number
  std::uint64_t epoch_ = 0;

  store::Store& store_;
  LazyHolders& holders_;
  cases::CaseBook& book_;
  std::int64_t report_id_;
  core::Timestamp now_;
  std::uint64_t per_commit_;
  std::function<void()> checkpoint_;
  std::uint64_t since_checkpoint_ = 0;
  std::string json_;
};

// The store thread's side of a pipelined ingest: hands what the parse thread prepared to the
// StoreSink, and gives the parse thread the holder index as soon as it exists.
class StoreConsumer : public detail::PipeConsumer {
 public:
  StoreConsumer(StoreSink& sink, LazyHolders& holders, detail::EventPipe& pipe)
      : sink_(sink), holders_(holders), pipe_(pipe) {
    if (holders_.loading()) holders_.get();  // read ahead: the parse thread looks up holders from the start
    publish();
  }
  void on_event(const detail::PreparedEvent& p) override {
    sink_.store_event(p.event, p.time, &p.stored, p.looked_up ? &p.holder : nullptr);
    if (!published_) publish();
  }
  void on_issue(const formats::ParseIssue& issue) override { sink_.store_issue(issue); }
  void on_batch(const detail::PreparedEvent* events, std::size_t count) override { sink_.prefetch(events, count); }
  bool on_idle() override { return sink_.write_ahead(); }

 private:
  void publish() {
    if (const auto* index = holders_.built()) {
      pipe_.publish_holders(index);
      published_ = true;
    }
  }
  StoreSink& sink_;
  LazyHolders& holders_;
  detail::EventPipe& pipe_;
  bool published_ = false;
};

// What `klartext reports` shows as the verdict: what a non-report is, why an input was unreadable,
// or the classification most of a report's events have.
std::string report_verdict(const formats::InputSummary& s, const std::string& first_issue_code) {
  if (s.kind == formats::InputKind::kNotAReport) return s.detail;
  if (s.events == 0) return first_issue_code;
  std::string best;
  std::uint64_t n = 0;
  for (const auto& [cls, count] : s.classifications) {
    if (count > n) best = cls, n = count;
  }
  return best;
}

}  // namespace

// An input read on while parsed (`more`) is at least 64 KiB and of unknown size: pipelined.
bool detail::use_pipeline(const formats::Input& in, const Options& options) {
  if (options.pipeline_min_bytes == kNeverPipeline) return false;
  return in.more != nullptr || in.data.size() >= options.pipeline_min_bytes;
}

void Counts::add(const Counts& o) {
  events += o.events;
  stored += o.stored;
  duplicates += o.duplicates;
  assigned += o.assigned;
  unassigned += o.unassigned;
  issues += o.issues;
}

Result ingest(store::Store& store, const config::Config& cfg, const intake::SourceSpec& sources, const Options& options,
              std::ostream* out, std::ostream& errors) {
  LazyHolders holders(store);
  cases::CaseBook book(store, cfg);
  auto parse = options.parse;
  if (parse.data_dir.empty()) parse.data_dir = cfg.data_dir;
  parse.limits = cfg.limits;
  const std::uint64_t per_commit = options.events_per_commit == 0 ? 1 : options.events_per_commit;

  // Every reference the ingest writes points at a row it wrote itself (an event at its report, a
  // history row at its case): the store's per-row checks are off for the run.
  struct ReferenceChecksOff {
    store::Store& s;
    explicit ReferenceChecksOff(store::Store& st) : s(st) { s.set_reference_checks(false); }
    ~ReferenceChecksOff() {
      try {
        s.set_reference_checks(true);
      } catch (const std::exception& e) {
        spdlog::warn("reference checks not restored error={}", e.what());
      }
    }
    ReferenceChecksOff(const ReferenceChecksOff&) = delete;
    ReferenceChecksOff& operator=(const ReferenceChecksOff&) = delete;
  } checks_off(store);
  // Each commit's log is copied into the database while the next input (or slice) is stored.
  struct BulkWrites {
    store::Connection& c;
    explicit BulkWrites(store::Connection& conn) : c(conn) { c.set_bulk_writes(true); }
    ~BulkWrites() { c.set_bulk_writes(false); }
    BulkWrites(const BulkWrites&) = delete;
    BulkWrites& operator=(const BulkWrites&) = delete;
  } bulk_writes(store.sql());

  Result result;
  std::size_t cases_before = book.cases_created();
  result.sources = intake::for_each_input(
      sources,
      [&](const formats::Input& in) {
        auto now = options.now ? *options.now : core::Timestamp::now();
        const bool pipelined = detail::use_pipeline(in, options);
        if (pipelined) holders.start_loading();
        std::optional<store::Store::Transaction> tx;
        tx.emplace(store.transaction());
        const double cpu_start = detail::thread_cpu_seconds();
        auto rep = store.add_report(in.data, in.name, now);
        const double cpu_report = detail::thread_cpu_seconds();
        if (!rep.inserted && rep.complete) {
          ++result.skipped;
          if (out != nullptr) *out << in.name << ": already ingested as report " << rep.id << ", nothing added\n";
          tx->commit();
          return;
        }
        if (!rep.inserted) spdlog::warn("resuming incomplete report report={} input={}", rep.id, in.name);
        StoreSink sink(store, holders, book, rep.id, now, per_commit, [&] {
          book.flush();
          tx->commit();
          tx.reset();
          tx.emplace(store.transaction());
        });
        formats::InputSummary summary;
        if (pipelined) {
          detail::EventPipe pipe([&](formats::Sink& parse_sink) { return formats::parse_input(in, parse_sink, parse); },
                                 now);
          StoreConsumer consumer(sink, holders, pipe);
          summary = pipe.run(consumer);
        } else {
          try {
            summary = formats::parse_input(in, sink, parse);
          } catch (const StoreSink::StoreFailed&) {
            std::rethrow_exception(sink.failure);
          }
        }
        book.flush();
        store.update_report(rep.id, summary.format, summary.detail, static_cast<std::int64_t>(summary.events),
                            static_cast<std::int64_t>(summary.issues));
        store.set_report_kind(rep.id, formats::to_string(summary.kind), report_verdict(summary, sink.first_issue_code));
        const double cpu_parsed = detail::thread_cpu_seconds();
        tx->commit();
        const double cpu_end = detail::thread_cpu_seconds();
        // This thread's CPU: hashing the input, parse + store (store only when pipelined), the last commit.
        spdlog::debug(
            "ingest input done report={} pipelined={} add_report_cpu_s={:.3f} events_cpu_s={:.3f} commit_cpu_s={:.3f}",
            rep.id, pipelined, cpu_report - cpu_start, cpu_parsed - cpu_report, cpu_end - cpu_parsed);
        ++result.reports;
        result.total.add(sink.counts);
        if (out != nullptr) {
          *out << in.name << ": report " << rep.id << " " << (summary.format.empty() ? "?" : summary.format)
               << (summary.detail.empty() ? "" : "/") << summary.detail << ", " << sink.counts.events << " events ("
               << sink.counts.stored << " new, " << sink.counts.duplicates << " known), " << sink.counts.assigned
               << " assigned, " << sink.counts.unassigned << " unassigned, " << sink.counts.issues << " issues\n";
        }
      },
      [&](const std::string& where, const std::string& why) {
        errors << "klartext: cannot read " << where << ": " << why << "\n";
      });
  result.cases_created = book.cases_created() - cases_before;
  return result;
}

std::string summary_line(const Result& r) {
  return "ingest: " + std::to_string(r.reports) + " new reports, " + std::to_string(r.skipped) + " already known, " +
         std::to_string(r.total.stored) + " new events, " + std::to_string(r.total.assigned) + " assigned, " +
         std::to_string(r.total.unassigned) + " unassigned, " + std::to_string(r.total.issues) + " issues, " +
         std::to_string(r.cases_created) + " new cases";
}

}  // namespace klartext::ingest
