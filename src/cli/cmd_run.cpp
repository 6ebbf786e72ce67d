// `klartext run`: ingest + notify in one go (the ingest command's own code, then notify).
#include "cli/commands.hpp"
#include "intake/sources.hpp"

namespace klartext::cli {
namespace {

struct RunArgs {
  intake::SourceSpec sources;
  std::string report_type;
  bool dry_run = false;
  bool quiet = false;
  std::string now;
  std::string store_path;
};

void run_run(const RunArgs& args) {
  run_ingest(args.sources, args.store_path, args.report_type, args.quiet);
  run_notify(args.dry_run, args.now, args.store_path);
}

}  // namespace

void register_run(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd =
      app.add_subcommand("run",
                         "Ingest reports and write the letters in one go: `klartext ingest` on the inputs, then\n"
                         "`klartext notify`. Running it again on the same inputs adds nothing and sends nothing new.");
  cmd->add_option("inputs", args->sources.paths, "files or directories to read ('-' for stdin)");
  cmd->add_option("--maildir", args->sources.maildirs, "read every mail of a Maildir (new/ and cur/)");
  cmd->add_option("--mbox", args->sources.mboxes, "read every mail of an mbox file");
  cmd->add_option("--report-type", args->report_type, "Shadowserver report type when the file name does not tell");
  cmd->add_flag("--dry-run", args->dry_run, "print the letters instead of writing and recording them");
  cmd->add_flag("-q,--quiet", args->quiet, "ingest prints only its total line");
  cmd->add_option("--now", args->now, "act as if it were this time (ISO 8601; for replays and tests)");
  cmd->add_option("--store", args->store_path, "SQLite store file or PostgreSQL URI (overrides the configuration)");
  cmd->callback([args] { run_run(*args); });
}

}  // namespace klartext::cli
