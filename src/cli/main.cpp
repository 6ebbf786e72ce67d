// klartext: the command-line entry point; dispatches to the subcommands.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  using namespace klartext::cli;
  CLI::App app{
      "klartext: an abuse desk that says what really happened.\n"
      "Reads abuse reports (Shadowserver CSV, X-ARF, ARF, IODEF, CERT notices, free text), classifies\n"
      "them precisely (RSIT), finds the customer who held the address at that time, and writes letters\n"
      "that name the real incident and quote the evidence.",
      "klartext"};
  app.set_version_flag("--version", KLARTEXT_VERSION);
  app.require_subcommand(1);
  auto& g = global_options();
  app.add_option("-c,--config", g.config_path, "configuration file (TOML)")->envname("KLARTEXT_CONFIG");
  app.add_flag("-v,--verbose", g.verbosity, "more log output (repeat for debug)");
  // Log lines go to standard error: standard output carries what a command prints (events as JSON
  // Lines, tables, letters with --dry-run) and must stay parseable.
  spdlog::set_default_logger(spdlog::stderr_color_mt("klartext"));
  app.parse_complete_callback([&g] {
    if (g.verbosity > 1) spdlog::set_level(spdlog::level::debug);
  });

  register_parse(app);
  register_notify(app);
  register_run(app);
  register_config(app);
  register_ingest(app);
  register_customers(app);
  register_cases(app);
  register_knowledge(app);
  register_check(app);
  register_verify(app);
  register_reports(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const CommandFailed& e) {
    std::cerr << "klartext: " << e.what() << "\n";
    return e.code;
  } catch (const std::exception& e) {
    std::cerr << "klartext: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
