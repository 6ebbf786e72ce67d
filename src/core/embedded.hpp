// Read-only access to the data files compiled into the binary (data/ in the source tree).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace klartext::core {

struct EmbeddedFile {
  const char* path;  // relative to data/, e.g. "shadowserver/schema.json"
  std::string_view bytes;
};

// The embedded copy of data/<path>, if there is one.
std::optional<std::string_view> embedded_file(std::string_view path);

// Paths of all embedded files that start with `prefix`, sorted.
std::vector<std::string_view> embedded_files(std::string_view prefix = {});

// Loads a data file: from `override_dir`/<path> when that exists, else the embedded copy.
// Throws std::runtime_error naming the path when neither exists.
std::string load_data_file(std::string_view path, const std::string& override_dir = {});

}  // namespace klartext::core
