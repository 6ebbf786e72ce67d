// The one registration point for input formats: add a format here, in its folder, and nowhere else.
#include "formats/format.hpp"
#include "formats/shadowserver/shadowserver.hpp"

namespace klartext::formats {

// Each format folder defines its accessor.
// (Declarations are added by each format together with its line in the list below.)

const std::vector<const Format*>& all_formats() {
  static const std::vector<const Format*> kFormats = {
      &shadowserver::format(),
  };
  return kFormats;
}

}  // namespace klartext::formats
