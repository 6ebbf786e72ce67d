// `klartext config`: prints the example file, checks a file, or shows the effective configuration.
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "config/config.hpp"

namespace klartext::cli {
namespace {

struct ConfigArgs {
  bool example = false;
  std::string check_path;
  bool show = false;
  bool keys = false;
};

void run_config(const ConfigArgs& args) {
  if (args.example) {
    std::cout << config::example_file();
    return;
  }
  if (args.keys) {
    for (const auto& k : config::all_keys()) {
      std::cout << k.name << " (" << k.type << ", default " << k.default_value << "): " << k.help << "\n";
    }
    return;
  }
  if (!args.check_path.empty()) {
    try {
      config::load(args.check_path);
    } catch (const std::exception& e) {
      throw CommandFailed(e.what(), 1);
    }
    std::cout << args.check_path << ": ok\n";
    return;
  }
  // --show (the default): the effective values after reading --config or ./klartext.toml.
  config::Config c;
  try {
    c = config::load(global_options().config_path);
  } catch (const std::exception& e) {
    throw CommandFailed(e.what(), 1);
  }
  std::cout << config::to_toml(c, true);
}

}  // namespace

void register_config(CLI::App& app) {
  auto args = std::make_shared<ConfigArgs>();
  auto* cmd = app.add_subcommand("config", "Show, check or create the configuration file (TOML)");
  auto* example =
      cmd->add_flag("--example", args->example, "print a commented example file with every key at its default");
  auto* check = cmd->add_option("--check", args->check_path, "check FILE: unknown keys, wrong types, bad values")
                    ->check(CLI::ExistingFile);
  auto* show =
      cmd->add_flag("--show", args->show, "print the effective configuration (from --config or ./klartext.toml)");
  auto* keys = cmd->add_flag("--keys", args->keys, "list every key with type, default and help");
  example->excludes(check)->excludes(show)->excludes(keys);
  check->excludes(show)->excludes(keys);
  show->excludes(keys);
  cmd->callback([args] { run_config(*args); });
}

}  // namespace klartext::cli
