// Lookup over the generated table of embedded data files.
#include "core/embedded.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace klartext::core {
namespace detail {
extern const EmbeddedFile kEmbeddedFiles[];
}

std::optional<std::string_view> embedded_file(std::string_view path) {
  for (const EmbeddedFile* f = detail::kEmbeddedFiles; f->path != nullptr; ++f) {
    if (path == f->path) return f->bytes;
  }
  return std::nullopt;
}

std::vector<std::string_view> embedded_files(std::string_view prefix) {
  std::vector<std::string_view> out;
  for (const EmbeddedFile* f = detail::kEmbeddedFiles; f->path != nullptr; ++f) {
    std::string_view p = f->path;
    if (p.substr(0, prefix.size()) == prefix) out.push_back(p);
  }
  return out;
}

std::string load_data_file(std::string_view path, const std::string& override_dir) {
  if (!override_dir.empty()) {
    std::filesystem::path p = std::filesystem::path(override_dir) / std::string(path);
    std::ifstream in(p, std::ios::binary);
    if (in) {
      std::ostringstream ss;
      ss << in.rdbuf();
      return ss.str();
    }
  }
  if (auto e = embedded_file(path)) return std::string(*e);
  throw std::runtime_error("data file not found: " + std::string(path));
}

}  // namespace klartext::core
