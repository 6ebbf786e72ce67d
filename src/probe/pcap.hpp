// Writes UDP payloads as a classic pcap (link type 228, raw IPv4) so tshark can dissect our requests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace klartext::probe {

class PcapWriter {
 public:
  PcapWriter();  // starts with the global header
  // Appends one IPv4/UDP packet (addresses in host order); UDP checksum 0 (allowed for IPv4).
  void add_udp(std::uint32_t src, std::uint16_t sport, std::uint32_t dst, std::uint16_t dport, std::string_view payload,
               std::uint32_t ts_sec = 0);
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

}  // namespace klartext::probe
