// IP address and prefix parsing, formatting and classification.
#include "core/ip.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "core/hash.hpp"

namespace klartext::core {
namespace {

constexpr std::array<std::uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool parse_v4(std::string_view s, std::uint32_t& out) {
  std::uint32_t value = 0;
  int octets = 0;
  std::size_t i = 0;
  while (true) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
    std::uint32_t octet = 0;
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      octet = octet * 10 + static_cast<std::uint32_t>(s[i] - '0');
      if (octet > 255 || i - start >= 3) return false;
      ++i;
    }
    if (i - start > 1 && s[start] == '0') return false;
    value = (value << 8) | octet;
    ++octets;
    if (octets == 4) break;
    if (i >= s.size() || s[i] != '.') return false;
    ++i;
  }
  if (i != s.size()) return false;
  out = value;
  return true;
}

}  // namespace

IpAddress IpAddress::v4(std::uint32_t host_order) {
  IpAddress a;
  std::memcpy(a.bytes_.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size());
  a.bytes_[12] = static_cast<std::uint8_t>(host_order >> 24);
  a.bytes_[13] = static_cast<std::uint8_t>(host_order >> 16);
  a.bytes_[14] = static_cast<std::uint8_t>(host_order >> 8);
  a.bytes_[15] = static_cast<std::uint8_t>(host_order);
  return a;
}

IpAddress IpAddress::v6(const Bytes& bytes) {
  IpAddress a;
  a.bytes_ = bytes;
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  std::uint32_t v4value = 0;
  if (text.find(':') == std::string_view::npos) {
    if (!parse_v4(text, v4value)) return std::nullopt;
    return IpAddress::v4(v4value);
  }
  if (text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  char buf[65];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  // Zone ids (fe80::1%eth0) are not addresses we can attribute.
  if (std::memchr(buf, '%', text.size()) != nullptr) return std::nullopt;
  Bytes b{};
  if (inet_pton(AF_INET6, buf, b.data()) != 1) return std::nullopt;
  return IpAddress::v6(b);
}

bool IpAddress::is_v4() const {
  return std::memcmp(bytes_.data(), kV4MappedPrefix.data(), 12) == 0;
}

std::uint32_t IpAddress::v4_value() const {
  return (std::uint32_t{bytes_[12]} << 24) | (std::uint32_t{bytes_[13]} << 16) | (std::uint32_t{bytes_[14]} << 8) |
         std::uint32_t{bytes_[15]};
}

void IpAddress::append_to(std::string& out) const {
  if (is_v4()) {
    char buf[16];
    char* p = buf;
    for (int i = 12; i < 16; ++i) {
      unsigned v = bytes_[i];
      if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
      if (v >= 10) *p++ = static_cast<char>('0' + (v / 10) % 10);
      *p++ = static_cast<char>('0' + v % 10);
      if (i != 15) *p++ = '.';
    }
    out.append(buf, static_cast<std::size_t>(p - buf));
    return;
  }
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, bytes_.data(), buf, sizeof buf);
  out.append(buf);
}

std::string IpAddress::to_string() const {
  std::string s;
  append_to(s);
  return s;
}

bool IpAddress::is_loopback() const {
  if (is_v4()) return bytes_[12] == 127;
  static const Bytes kLoop = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return bytes_ == kLoop;
}

bool IpAddress::is_private() const {
  if (is_v4()) {
    std::uint32_t v = v4_value();
    return (v >> 24) == 10 || (v >> 20) == (172u << 4 | 1) || (v >> 16) == (192u << 8 | 168) ||
           (v >> 22) == ((100u << 2) | 1) /* 100.64/10 */ || (v >> 16) == (169u << 8 | 254);
  }
  return (bytes_[0] & 0xfe) == 0xfc || (bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80);
}

bool IpAddress::is_multicast() const {
  if (is_v4()) return (bytes_[12] & 0xf0) == 224;
  return bytes_[0] == 0xff;
}

bool IpAddress::is_broadcast() const {
  return is_v4() && v4_value() == 0xffffffffu;
}

bool IpAddress::is_unspecified() const {
  if (is_v4()) return v4_value() == 0;
  return *this == IpAddress{};
}

bool IpAddress::is_documentation() const {
  if (is_v4()) {
    std::uint32_t n = v4_value() >> 8;
    return n == ((192u << 16) | (0 << 8) | 2) || n == ((198u << 16) | (51 << 8) | 100) ||
           n == ((203u << 16) | (0 << 8) | 113);
  }
  return bytes_[0] == 0x20 && bytes_[1] == 0x01 && bytes_[2] == 0x0d && bytes_[3] == 0xb8;
}

bool IpAddress::is_global_unicast() const {
  if (is_loopback() || is_private() || is_multicast() || is_broadcast() || is_unspecified()) return false;
  if (is_v4() && (bytes_[12] == 0 || bytes_[12] >= 240)) return false;
  return true;
}

IpAddress IpAddress::masked(int len) const {
  IpAddress r = *this;
  int bits = is_v4() ? len + 96 : len;
  if (bits < 0) bits = 0;
  for (int i = 0; i < 16; ++i) {
    int keep = bits - i * 8;
    if (keep >= 8) continue;
    if (keep <= 0) {
      r.bytes_[i] = 0;
    } else {
      r.bytes_[i] &= static_cast<std::uint8_t>(0xff << (8 - keep));
    }
  }
  if (is_v4()) std::memcpy(r.bytes_.data(), kV4MappedPrefix.data(), 12);
  return r;
}

IpPrefix::IpPrefix(IpAddress network, int length) : network_(network.masked(length)), length_(length) {}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
  auto slash = text.find('/');
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  int max = addr->is_v4() ? 32 : 128;
  if (slash == std::string_view::npos) return IpPrefix(*addr, max);
  std::string_view len_text = text.substr(slash + 1);
  if (len_text.empty() || len_text.size() > 3) return std::nullopt;
  int len = 0;
  for (char c : len_text) {
    if (c < '0' || c > '9') return std::nullopt;
    len = len * 10 + (c - '0');
  }
  if (len > max) return std::nullopt;
  return IpPrefix(*addr, len);
}

bool IpPrefix::contains(const IpAddress& a) const {
  if (a.is_v4() != network_.is_v4()) return false;
  return a.masked(length_) == network_;
}

bool IpPrefix::contains(const IpPrefix& p) const {
  return p.length_ >= length_ && contains(p.network_);
}

std::uint64_t IpPrefix::size() const {
  int host_bits = (network_.is_v4() ? 32 : 128) - length_;
  if (host_bits >= 64) return UINT64_MAX;
  return std::uint64_t{1} << host_bits;
}

std::string IpPrefix::to_string() const {
  return network_.to_string() + "/" + std::to_string(length_);
}

}  // namespace klartext::core

std::size_t std::hash<klartext::core::IpAddress>::operator()(const klartext::core::IpAddress& a) const noexcept {
  // Both words through the mixer: an IPv4 address sits in the top bytes of the second word, and
  // tables mask the low bits.
  std::uint64_t hi, lo;
  std::memcpy(&hi, a.bytes().data(), 8);
  std::memcpy(&lo, a.bytes().data() + 8, 8);
  return static_cast<std::size_t>(klartext::core::mix64(lo ^ klartext::core::mix64(hi)));
}
