// Storage for the options shared by all subcommands.
#include "cli/commands.hpp"

namespace klartext::cli {

GlobalOptions& global_options() {
  static GlobalOptions g;
  return g;
}

}  // namespace klartext::cli
