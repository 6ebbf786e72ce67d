// Placeholder: free-text extraction and rules are being written; emits nothing yet.
#include "formats/freetext/freetext.hpp"

namespace klartext::formats::freetext {

std::size_t parse_free_text(ParseContext&, const TextReport&) {
  return 0;
}

}  // namespace klartext::formats::freetext
