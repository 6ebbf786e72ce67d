// `klartext ingest`: stores reports, their events and issues, finds each event's holder and updates cases.
#include <spdlog/spdlog.h>

#include <functional>
#include <iostream>
#include <memory>
#include <optional>

#include "cases/case_book.hpp"
#include "cli/commands.hpp"
#include "config/config.hpp"
#include "customers/holder_index.hpp"
#include "formats/format.hpp"
#include "intake/sources.hpp"
#include "store/store.hpp"

namespace klartext::cli {
namespace {

// A huge input is committed in slices: SQLite's WAL slows down badly for transactions of hundreds
// of megabytes. The report is marked complete only after its last slice, and re-ingesting an
// incomplete report resumes it (events are unique by id, cases count only new events), so an
// interrupted ingest neither loses nor double-counts anything.
constexpr std::uint64_t kEventsPerCommit = 20'000;

struct IngestCounts {
  std::uint64_t events = 0;      // parsed
  std::uint64_t stored = 0;      // new events stored
  std::uint64_t duplicates = 0;  // events already stored (same event id)
  std::uint64_t assigned = 0;
  std::uint64_t unassigned = 0;
  std::uint64_t issues = 0;
  void add(const IngestCounts& o) {
    events += o.events;
    stored += o.stored;
    duplicates += o.duplicates;
    assigned += o.assigned;
    unassigned += o.unassigned;
    issues += o.issues;
  }
};

// Stores what one input's parser emits, inside that input's transaction.
class StoreSink : public formats::Sink {
 public:
  StoreSink(store::Store& store, const customers::HolderIndex& holders, cases::CaseBook& book, std::int64_t report_id,
            core::Timestamp now, std::function<void()> checkpoint)
      : store_(store),
        holders_(holders),
        book_(book),
        report_id_(report_id),
        now_(now),
        checkpoint_(std::move(checkpoint)) {}

  void on_event(const core::Event& e) override {
    // Between events only: a case created for an event must see that event in the same slice.
    if (++since_checkpoint_ >= kEventsPerCommit) {
      since_checkpoint_ = 0;
      checkpoint_();
    }
    ++counts.events;
    core::Timestamp t = cases::event_time(e, now_);
    std::string_view customer;
    if (auto ip = e.source_ip()) {
      if (auto h = holders_.lookup(*ip, t, e.source_port())) customer = holders_.customer_id(h->customer);
    }
    std::optional<std::int64_t> case_id;
    if (!customer.empty()) case_id = book_.case_for(customer, e, now_);
    json_.clear();
    e.append_json(json_);
    auto row = store_.add_event(report_id_, e, e.id(), json_, t, customer, case_id);
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
  void on_issue(const formats::ParseIssue& issue) override {
    ++counts.issues;
    store_.add_issue(report_id_, issue);
  }

  IngestCounts counts;

 private:
  store::Store& store_;
  const customers::HolderIndex& holders_;
  cases::CaseBook& book_;
  std::int64_t report_id_;
  core::Timestamp now_;
  std::function<void()> checkpoint_;
  std::uint64_t since_checkpoint_ = 0;
  std::string json_;
};

struct IngestArgs {
  intake::SourceSpec sources;
  std::string store_path;
  bool quiet = false;
  formats::ParseOptions options;
};

void run_ingest(const IngestArgs& args) {
  auto cfg = config::load(global_options().config_path);
  if (!args.store_path.empty()) {
    config::apply_store_option(cfg, args.store_path);
  }
  auto store = store::Store::open(cfg);
  auto holders = customers::HolderIndex::from_store(*store);
  spdlog::debug("holder index built sessions={} statics={} bytes={}", holders.sessions(), holders.statics(),
                holders.memory_bytes());
  cases::CaseBook book(*store, cfg);
  auto options = args.options;
  if (options.data_dir.empty()) options.data_dir = cfg.data_dir;
  options.limits = cfg.limits;

  IngestCounts total;
  std::size_t reports = 0, skipped = 0;
  std::size_t cases_before = book.cases_created();
  auto stats = intake::for_each_input(
      args.sources,
      [&](const formats::Input& in) {
        auto now = core::Timestamp::now();
        std::optional<store::Store::Transaction> tx;
        tx.emplace(store->sql());
        auto rep = store->add_report(in.data, in.name, now);
        if (!rep.inserted && rep.complete) {
          ++skipped;
          if (!args.quiet) std::cout << in.name << ": already ingested as report " << rep.id << ", nothing added\n";
          tx->commit();
          return;
        }
        if (!rep.inserted) spdlog::warn("resuming incomplete report report={} input={}", rep.id, in.name);
        StoreSink sink(*store, holders, book, rep.id, now, [&] {
          book.flush();
          tx->commit();
          tx.reset();
          tx.emplace(store->sql());
        });
        auto summary = formats::parse_input(in, sink, options);
        book.flush();
        store->update_report(rep.id, summary.format, summary.detail, static_cast<std::int64_t>(summary.events),
                             static_cast<std::int64_t>(summary.issues));
        tx->commit();
        ++reports;
        total.add(sink.counts);
        if (!args.quiet) {
          std::cout << in.name << ": report " << rep.id << " " << (summary.format.empty() ? "?" : summary.format)
                    << (summary.detail.empty() ? "" : "/") << summary.detail << ", " << sink.counts.events
                    << " events (" << sink.counts.stored << " new, " << sink.counts.duplicates << " known), "
                    << sink.counts.assigned << " assigned, " << sink.counts.unassigned << " unassigned, "
                    << sink.counts.issues << " issues\n";
        }
      },
      [&](const std::string& where, const std::string& why) {
        std::cerr << "klartext: cannot read " << where << ": " << why << "\n";
      });
  std::cout << "ingest: " << reports << " new reports, " << skipped << " already known, " << total.stored
            << " new events, " << total.assigned << " assigned, " << total.unassigned << " unassigned, " << total.issues
            << " issues, " << (book.cases_created() - cases_before) << " new cases\n";
  if (stats.inputs + stats.unreadable == 0) throw CommandFailed("no input given", 2);
  if (stats.inputs == 0) throw CommandFailed("no input could be read", 2);
}

}  // namespace

void register_ingest(CLI::App& app) {
  auto args = std::make_shared<IngestArgs>();
  auto* cmd = app.add_subcommand(
      "ingest", "Store reports with their events and issues, find each event's holder and update cases");
  cmd->add_option("inputs", args->sources.paths, "files or directories to read ('-' for stdin)");
  cmd->add_option("--maildir", args->sources.maildirs, "read every mail of a Maildir (new/ and cur/)");
  cmd->add_option("--mbox", args->sources.mboxes, "read every mail of an mbox file");
  cmd->add_option("--store", args->store_path, "SQLite store file or PostgreSQL URI (overrides the configuration)");
  cmd->add_option("--report-type", args->options.report_type,
                  "Shadowserver report type when the file name does not tell (e.g. scan_ntpmonitor)");
  cmd->add_flag("-q,--quiet", args->quiet, "print only the total line");
  cmd->callback([args] { run_ingest(*args); });
}

}  // namespace klartext::cli
