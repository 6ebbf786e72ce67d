// `klartext notify [--dry-run]`: writes one letter per customer with due cases into the outbox.
#include <iostream>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "notify/notify.hpp"
#include "store/store.hpp"

namespace klartext::cli {
namespace {

struct NotifyArgs {
  bool dry_run = false;
  std::string now;
  std::string store_path;
};

}  // namespace

void run_notify(bool dry_run, const std::string& now, const std::string& store_path) {
  config::Config cfg = config::load(global_options().config_path);
  if (!store_path.empty()) config::apply_store_option(cfg, store_path);
  notify::Options opt;
  opt.dry_run = dry_run;
  opt.dry_run_out = &std::cout;
  if (!now.empty()) {
    auto t = core::Timestamp::parse(now);
    if (!t) throw CommandFailed("--now: not a time: " + now, 2);
    opt.now = *t;
  }
  auto store = store::Store::open(cfg);
  const notify::Result r = notify::run(*store, cfg, opt);
  notify::print_summary(r, dry_run ? std::cerr : std::cout, dry_run);
}

void register_notify(CLI::App& app) {
  auto args = std::make_shared<NotifyArgs>();
  CLI::App* cmd = app.add_subcommand(
      "notify",
      "Write one letter per customer covering its new and changed cases (and unchanged ones whose\n"
      "re-notification interval, cases.renotify_seconds_<severity>, has passed) into the outbox\n"
      "Maildir (delivery.outbox), and record them; open cases become notified. Prints per customer\n"
      "what was found and where the letter is; warns about cases whose identifier has no specific text.");
  cmd->add_flag("--dry-run", args->dry_run, "print the letters (MIME) to stdout instead of writing and recording them");
  cmd->add_option("--now", args->now, "act as if it were this time (ISO 8601; for replays and tests)");
  cmd->add_option("--store", args->store_path, "SQLite store file or PostgreSQL URI (overrides the configuration)");
  cmd->callback([args] { run_notify(args->dry_run, args->now, args->store_path); });
}

}  // namespace klartext::cli
