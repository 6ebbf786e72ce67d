// Subcommand registration: each command lives in its own cmd_<name>.cpp and is listed in main.cpp.
#pragma once

#include <CLI/CLI.hpp>
#include <stdexcept>
#include <string>

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

void register_parse(CLI::App& app);
void register_config(CLI::App& app);
void register_knowledge(CLI::App& app);

}  // namespace klartext::cli
