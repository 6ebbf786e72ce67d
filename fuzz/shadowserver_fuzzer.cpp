// libFuzzer target for the Shadowserver CSV parser (first byte picks the file name).
#include <cstddef>
#include <cstdint>
#include <string>

#include "formats/format.hpp"
#include "formats/shadowserver/shadowserver.hpp"
#include "fuzz_support.hpp"

namespace {

constexpr const char* kNames[] = {
    "2026-11-27-scan_ntpmonitor-123-org-asn.csv",
    "2026-11-27-event4_sinkhole_http-org-asn.csv",
    "2026-11-27-scan_exchange-org-asn.csv",
    "2026-11-27-blocklist-org-asn.csv",
    "2026-11-27-compromised_website-org-asn.csv",
    "2026-11-27-scan_unknown-org-asn.csv",
    "attachment.csv",
    "2026-11-27-event4_sinkhole_dns-org-asn.csv",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  klartext::formats::Input in;
  in.name = kNames[data[0] % (sizeof kNames / sizeof kNames[0])];
  in.filename_hint = in.name;
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  in.data = bytes;
  klartext::formats::ParseOptions opt;
  opt.limits.max_line_bytes = 4096;
  klartext::fuzz::SerializingSink sink;
  klartext::formats::ParseContext ctx(sink, opt, in);
  klartext::formats::shadowserver::format().parse(ctx);
  klartext::formats::shadowserver::format().sniff(in);
  return 0;
}
