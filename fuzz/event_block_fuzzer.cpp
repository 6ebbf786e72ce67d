// Fuzz target: decoding an event block (schema version 9) as the store reads it back. Whatever
// decodes must stay inside the input; a block re-encoded from the decoded events decodes to the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "store/event_block.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using klartext::store::detail::BlockEvent;
  using klartext::store::detail::BlockWriter;
  using klartext::store::detail::decode_block;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  BlockWriter again;
  if (!decode_block(input, [&](std::size_t, const BlockEvent& e) { again.append(e); })) return 0;
  std::size_t n = 0;
  std::vector<std::string> first;
  (void)decode_block(input, [&](std::size_t, const BlockEvent& e) { first.emplace_back(e.json); });
  const bool ok = decode_block(again.data(), [&](std::size_t i, const BlockEvent& e) {
    if (i >= first.size() || e.json != first[i]) std::abort();
    ++n;
  });
  if (!ok || n != first.size()) std::abort();
  return 0;
}
