// Internals of the PostgreSQL backend that are worth testing on their own (placeholder translation).
#pragma once

#include <string>
#include <string_view>

namespace klartext::store::detail {

// The SQL text with each `?` parameter replaced by `$1`, `$2`, ... in order; `?` inside string
// literals ('..', E'..'), quoted identifiers, dollar-quoted strings and comments is left alone.
// `count` receives the number of parameters.
std::string postgres_placeholders(std::string_view sql, int& count);

}  // namespace klartext::store::detail
