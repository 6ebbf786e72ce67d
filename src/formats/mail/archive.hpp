// Unpacks zip/gzip/tar attachments with libarchive under the decompression limits.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "formats/format.hpp"

namespace klartext::formats::mail {

// True when the bytes start like a zip, gzip, bzip2 or xz container.
bool looks_compressed(std::string_view data);

// Calls `fn(member_name, bytes)` for every regular member (a bare .gz yields one member named
// after `name` without ".gz"). Stops with an issue on `ctx` when the total decompressed size
// exceeds limits.max_decompressed_bytes or the ratio exceeds limits.max_decompression_ratio.
// Returns false when the archive could not be read at all (an issue was recorded).
bool for_each_member(std::string_view data, const std::string& name, ParseContext& ctx,
                     const std::function<void(const std::string&, std::string_view)>& fn);

}  // namespace klartext::formats::mail
