// What log evidence shows by itself (the evidence wins over a report's own label).
#pragma once

#include <optional>
#include <string_view>

#include "core/taxonomy.hpp"

namespace klartext::formats::xarf {

// A classification when the log lines clearly show one kind of activity (repeated
// authentication failures -> brute force); nullopt when they do not.
std::optional<core::Classification> classify_evidence(std::string_view log);

}  // namespace klartext::formats::xarf
