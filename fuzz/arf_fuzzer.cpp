// Fuzz target: ARF feedback-report field blocks and Received-chain source extraction.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/arf/arf.hpp"
#include "formats/mail/mime.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace klartext::formats;
  klartext::fuzz::SerializingSink sink;
  ParseOptions options;
  Input in;
  in.name = "fuzz";
  in.data = std::string_view(reinterpret_cast<const char*>(data), size);
  ParseContext ctx(sink, options, in);
  try {
    arf::arf_format().parse(ctx);
    auto fields = mail::parse_header_block(in.data);
    arf::source_from_received(mail::headers(fields, "Received"), {"example.org"});
  } catch (const std::exception&) {
  }
  return 0;
}
