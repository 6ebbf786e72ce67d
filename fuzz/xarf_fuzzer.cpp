// Fuzz target: X-ARF 0.x YAML reports and XARF v1-v4 JSON reports.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/xarf/xarf.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace klartext::formats;
  klartext::fuzz::SerializingSink sink;
  ParseOptions options;
  Input in;
  in.name = "fuzz";
  in.data = std::string_view(reinterpret_cast<const char*>(data), size);
  ParseContext ctx(sink, options, in);
  mail::ParsedMail none;
  try {
    xarf::parse_xarf_yaml(ctx, in.data, in.data, none);
    xarf::parse_xarf_json(ctx, in.data, none);
  } catch (const std::exception&) {
  }
  return 0;
}
