// Subcommand registration: each command lives in its own cmd_<name>.cpp and is listed in main.cpp.
#pragma once

#include <CLI/CLI.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "intake/sources.hpp"

namespace klartext::cli {

// Thrown by a command to end with a message and an exit code (caught in main).
struct CommandFailed : std::runtime_error {
  CommandFailed(const std::string& what, int exit_code = 1) : std::runtime_error(what), code(exit_code) {}
  int code;
};

// Options every command shares, parsed before the subcommand.
struct GlobalOptions {
  std::string config_path;  // --config
  int verbosity = 0;        // -v
};
GlobalOptions& global_options();
// Prints rows under a header, columns padded to their widest cell (UTF-8 aware).
void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

void register_parse(CLI::App& app);
void register_notify(CLI::App& app);
// `klartext notify` itself, also the second half of `klartext run`.
void run_notify(bool dry_run, const std::string& now, const std::string& store_path = {});
void register_run(CLI::App& app);
void register_config(CLI::App& app);
void register_ingest(CLI::App& app);
// `klartext ingest` itself (store_path empty: the configured store), also the first half of `klartext run`.
void run_ingest(const intake::SourceSpec& sources, const std::string& store_path, const std::string& report_type,
                bool quiet);
void register_customers(CLI::App& app);
void register_cases(CLI::App& app);
void register_knowledge(CLI::App& app);
void register_check(CLI::App& app);
void register_verify(CLI::App& app);
void register_reports(CLI::App& app);

}  // namespace klartext::cli
