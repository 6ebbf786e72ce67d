// Fuzz target: ThreatExchange threat descriptors (object, array or JSON Lines).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/threatexchange/threatexchange.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace klartext::formats;
  klartext::fuzz::SerializingSink sink;
  ParseOptions options;
  Input in;
  in.name = "fuzz.json";
  in.data = std::string_view(reinterpret_cast<const char*>(data), size);
  ParseContext ctx(sink, options, in);
  mail::ParsedMail none;
  try {
    threatexchange::parse_threat_descriptors(ctx, in.data, none);
  } catch (const std::exception&) {
  }
  return 0;
}
