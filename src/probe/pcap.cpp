// pcap file writer for request dumps (little-endian classic format).
#include "probe/pcap.hpp"

namespace klartext::probe {
namespace {

void le32(std::string& o, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) o.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void le16(std::string& o, std::uint32_t v) {
  o.push_back(static_cast<char>(v & 0xff));
  o.push_back(static_cast<char>((v >> 8) & 0xff));
}
void be16(std::string& o, std::uint32_t v) {
  o.push_back(static_cast<char>((v >> 8) & 0xff));
  o.push_back(static_cast<char>(v & 0xff));
}
void be32(std::string& o, std::uint32_t v) {
  be16(o, v >> 16);
  be16(o, v & 0xffff);
}

}  // namespace

PcapWriter::PcapWriter() {
  le32(out_, 0xa1b2c3d4);
  le16(out_, 2);
  le16(out_, 4);
  le32(out_, 0);
  le32(out_, 0);
  le32(out_, 65535);
  le32(out_, 228);  // LINKTYPE_IPV4
}

void PcapWriter::add_udp(std::uint32_t src, std::uint16_t sport, std::uint32_t dst, std::uint16_t dport,
                         std::string_view payload, std::uint32_t ts_sec) {
  std::string ip;
  std::uint32_t total = 20 + 8 + static_cast<std::uint32_t>(payload.size());
  ip.push_back(0x45);
  ip.push_back(0);
  be16(ip, total);
  be16(ip, 0);
  be16(ip, 0x4000);  // DF
  ip.push_back(64);
  ip.push_back(17);  // UDP
  be16(ip, 0);       // checksum, filled below
  be32(ip, src);
  be32(ip, dst);
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 20; i += 2) {
    sum += (static_cast<std::uint8_t>(ip[i]) << 8) | static_cast<std::uint8_t>(ip[i + 1]);
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  auto csum = static_cast<std::uint16_t>(~sum);
  ip[10] = static_cast<char>(csum >> 8);
  ip[11] = static_cast<char>(csum & 0xff);
  be16(ip, sport);
  be16(ip, dport);
  be16(ip, 8 + static_cast<std::uint32_t>(payload.size()));
  be16(ip, 0);
  ip += payload;
  le32(out_, ts_sec);
  le32(out_, 0);
  le32(out_, static_cast<std::uint32_t>(ip.size()));
  le32(out_, static_cast<std::uint32_t>(ip.size()));
  out_ += ip;
}

}  // namespace klartext::probe
