// Fuzz target: mbox splitting and From_ unescaping.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "intake/mail_source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view d(reinterpret_cast<const char*>(data), size);
  std::string out;
  for (auto m : klartext::intake::detail::split_mbox(d)) klartext::intake::detail::unescape_mbox_from(m, out);
  return 0;
}
