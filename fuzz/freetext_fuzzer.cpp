// Fuzz target for the free-text extractor and classifier: first line = subject, rest = body.
#include <cstdint>
#include <string_view>

#include "formats/freetext/extract.hpp"
#include "formats/freetext/freetext.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace klartext;
  std::string_view all(reinterpret_cast<const char*>(data), size);
  std::size_t nl = all.find('\n');
  std::string_view subject = nl == std::string_view::npos ? std::string_view{} : all.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? all : all.substr(nl + 1);
  klartext::fuzz::SerializingSink sink;
  formats::ParseOptions options;
  formats::Input input{"fuzz", "fuzz.txt", all, {}};
  formats::ParseContext ctx(sink, options, input);
  formats::freetext::TextReport report{subject, body, {}, core::Timestamp::from_seconds(1795000000), "example.org"};
  formats::freetext::parse_free_text(ctx, report);
  formats::freetext::refang(body.substr(0, 4096));
  formats::freetext::find_time(body.substr(0, 4096), std::nullopt, 60);
  return 0;
}
