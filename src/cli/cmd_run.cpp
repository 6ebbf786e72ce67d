// `klartext run`: ingest + notify in one go (the ingest command's own code, then notify).
#include <algorithm>
#include <iostream>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "notify/notify.hpp"
#include "store/store.hpp"

namespace klartext::cli {
namespace {

struct RunArgs {
  std::vector<std::string> inputs, maildirs, mboxes;
  std::string report_type;
  bool dry_run = false;
  bool quiet = false;
  std::string now;
};

// Runs `klartext ingest` exactly as the command line would (its registration is the public entry).
void ingest(const RunArgs& args) {
  CLI::App app{"klartext run: ingest step", "klartext"};
  register_ingest(app);
  std::vector<std::string> argv{"ingest"};
  for (const auto& p : args.inputs) argv.push_back(p);
  for (const auto& m : args.maildirs) argv.insert(argv.end(), {"--maildir", m});
  for (const auto& m : args.mboxes) argv.insert(argv.end(), {"--mbox", m});
  if (!args.report_type.empty()) argv.insert(argv.end(), {"--report-type", args.report_type});
  if (args.quiet) argv.push_back("--quiet");
  std::reverse(argv.begin(), argv.end());  // CLI11 takes the arguments reversed
  app.parse(argv);
}

void run_run(const RunArgs& args) {
  ingest(args);
  run_notify(args.dry_run, args.now);
}

}  // namespace

void register_run(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd =
      app.add_subcommand("run",
                         "Ingest reports and write the letters in one go: `klartext ingest` on the inputs, then\n"
                         "`klartext notify`. Running it again on the same inputs adds nothing and sends nothing new.");
  cmd->add_option("inputs", args->inputs, "files or directories to read ('-' for stdin)");
  cmd->add_option("--maildir", args->maildirs, "read every mail of a Maildir (new/ and cur/)");
  cmd->add_option("--mbox", args->mboxes, "read every mail of an mbox file");
  cmd->add_option("--report-type", args->report_type, "Shadowserver report type when the file name does not tell");
  cmd->add_flag("--dry-run", args->dry_run, "print the letters instead of writing and recording them");
  cmd->add_flag("-q,--quiet", args->quiet, "ingest prints only its total line");
  cmd->add_option("--now", args->now, "act as if it were this time (ISO 8601; for replays and tests)");
  cmd->callback([args] { run_run(*args); });
}

}  // namespace klartext::cli
