// Intake from the file system and stdin: memory-mapped files, directories, standard input.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "formats/format.hpp"

namespace klartext::intake {

// A read-only memory map of a whole file (RAII). Pages already parsed can be dropped with
// release_before() so resident memory stays flat while streaming through huge files.
class MappedFile {
 public:
  // Throws std::runtime_error with the path and the system's reason when it can't be read.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view data() const { return {static_cast<const char*>(addr_), size_}; }
  void release_before(std::size_t offset);

 private:
  void* addr_ = nullptr;
  std::size_t size_ = 0;
  std::size_t released_ = 0;
};

// Reads all of standard input.
std::string read_stdin();
// Reads a whole file into memory; throws std::runtime_error naming the path on failure.
std::string read_file(const std::string& path);

// Expands files and directories (recursively, sorted, hidden files skipped) into file paths.
// Missing paths are reported through `on_error` and skipped.
std::vector<std::string> expand_paths(
    const std::vector<std::string>& paths,
    const std::function<void(const std::string& path, const std::string& why)>& on_error);

// Calls `fn` with an Input for a file path ("-" = stdin); the Input's bytes live during the call.
void with_file_input(const std::string& path, const std::function<void(const formats::Input&)>& fn);

}  // namespace klartext::intake
