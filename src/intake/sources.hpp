// Where inputs come from: files and directories, stdin, Maildirs and mbox files.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "formats/format.hpp"

namespace klartext::intake {

struct SourceSpec {
  std::vector<std::string> paths;     // files, directories, "-" for stdin
  std::vector<std::string> maildirs;  // --maildir DIR
  std::vector<std::string> mboxes;    // --mbox FILE
};

struct SourceStats {
  std::size_t inputs = 0;      // inputs handed to the callback
  std::size_t unreadable = 0;  // paths that could not be read at all
};

using InputFn = std::function<void(const formats::Input&)>;
using SourceErrorFn = std::function<void(const std::string& where, const std::string& why)>;

// Calls `fn` once per input, in a stable order. For a Maildir, a message moves from new/ to cur/
// only after `fn` returned normally for it (the caller commits inside `fn`), so a crash mid-run
// re-reads each unprocessed mail exactly once.
SourceStats for_each_input(const SourceSpec& spec, const InputFn& fn, const SourceErrorFn& on_error);

}  // namespace klartext::intake
