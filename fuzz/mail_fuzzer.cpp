// Fuzz target: a whole mail through MIME walking and every report parser behind it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/format.hpp"
#include "formats/mail/mail.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace klartext::formats;
  klartext::fuzz::SerializingSink sink;
  ParseOptions options;
  options.limits.max_mail_bytes = 1 << 20;
  Input in;
  in.name = "fuzz.eml";
  in.data = std::string_view(reinterpret_cast<const char*>(data), size);
  ParseContext ctx(sink, options, in);
  try {
    mail::parse_mail(ctx);
  } catch (const std::exception&) {
    // Exceptions are caught at the input boundary in production (parse_input); not a crash.
  }
  return 0;
}
