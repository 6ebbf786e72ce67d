// `klartext ingest`: stores reports, their events and issues, finds each event's holder and updates cases.
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "ingest/ingest.hpp"
#include "intake/sources.hpp"
#include "store/store.hpp"

namespace klartext::cli {
namespace {

struct IngestArgs {
  intake::SourceSpec sources;
  std::string store_path;
  std::string report_type;
  bool quiet = false;
};

}  // namespace

void run_ingest(const intake::SourceSpec& sources, const std::string& store_path, const std::string& report_type,
                bool quiet) {
  auto cfg = config::load(global_options().config_path);
  if (!store_path.empty()) config::apply_store_option(cfg, store_path);
  auto store = store::Store::open(cfg);
  ingest::Options options;
  options.parse.report_type = report_type;
  auto result = ingest::ingest(*store, cfg, sources, options, quiet ? nullptr : &std::cout, std::cerr);
  std::cout << ingest::summary_line(result) << "\n";
  if (result.sources.inputs + result.sources.unreadable == 0) throw CommandFailed("no input given", 2);
  if (result.sources.inputs == 0) throw CommandFailed("no input could be read", 2);
}

void register_ingest(CLI::App& app) {
  auto args = std::make_shared<IngestArgs>();
  auto* cmd = app.add_subcommand(
      "ingest", "Store reports with their events and issues, find each event's holder and update cases");
  cmd->add_option("inputs", args->sources.paths, "files or directories to read ('-' for stdin)");
  cmd->add_option("--maildir", args->sources.maildirs, "read every mail of a Maildir (new/ and cur/)");
  cmd->add_option("--mbox", args->sources.mboxes, "read every mail of an mbox file");
  cmd->add_option("--store", args->store_path, "SQLite store file or PostgreSQL URI (overrides the configuration)");
  cmd->add_option("--report-type", args->report_type,
                  "Shadowserver report type when the file name does not tell (e.g. scan_ntpmonitor)");
  cmd->add_flag("-q,--quiet", args->quiet, "print only the total line");
  cmd->callback([args] { run_ingest(args->sources, args->store_path, args->report_type, args->quiet); });
}

}  // namespace klartext::cli
