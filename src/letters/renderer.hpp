// Renders a LetterInput into a Letter with the Mustache templates (data/templates/<lang>/, overridable).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "letters/letter.hpp"
#include "letters/local_time.hpp"

namespace klartext::knowledge {
class KnowledgeBase;
}

namespace klartext::letters {

struct RendererOptions {
  std::string organisation = "Example ISP";
  std::string sender_name = "Abuse Desk";
  std::string sender_address = "abuse@example.org";
  std::string default_language = "de";
  std::string default_time_zone = "Europe/Berlin";
  std::string template_dir;  // operator overrides: <template_dir>/<lang>/<name>.mustache
  std::string data_dir;      // data overrides: <data_dir>/templates/<lang>/<name>.mustache
  std::int64_t evidence_rows_inline = 5;
};

// Languages letters can be written in (a template set exists for each).
bool supported_language(std::string_view lang);

class Renderer {
 public:
  // Compiles templates lazily and caches them; throws std::runtime_error naming the template when one
  // is missing or does not parse.
  Renderer(RendererOptions options, const knowledge::KnowledgeBase& kb);
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  Letter render(const LetterInput& input);

  const RendererOptions& options() const { return options_; }

 private:
  class Templates;

  RendererOptions options_;
  const knowledge::KnowledgeBase& kb_;
  LocalTime local_time_;
  std::unique_ptr<Templates> templates_;
};

}  // namespace klartext::letters
