// Value types for IP addresses and prefixes (IPv4 kept as v4-mapped IPv6 internally).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace klartext::core {

class IpAddress {
 public:
  using Bytes = std::array<std::uint8_t, 16>;

  IpAddress() = default;  // :: (unspecified IPv6)
  static IpAddress v4(std::uint32_t host_order);
  static IpAddress v6(const Bytes& bytes);

  // Accepts dotted-quad IPv4 and any RFC 4291 IPv6 text form, with optional surrounding
  // brackets for IPv6. No leading zeros in IPv4 octets (ambiguous: octal or decimal).
  static std::optional<IpAddress> parse(std::string_view text);

  bool is_v4() const;
  std::uint32_t v4_value() const;  // host order; only meaningful if is_v4()
  const Bytes& bytes() const { return bytes_; }

  // Canonical text form: dotted quad for IPv4, RFC 5952 for IPv6.
  std::string to_string() const;
  // Appends the canonical text form (no allocation beyond growing `out`).
  void append_to(std::string& out) const;

  bool is_loopback() const;
  bool is_private() const;  // RFC 1918, RFC 4193 ULA, CGNAT 100.64/10, link-local
  bool is_multicast() const;
  bool is_broadcast() const;      // 255.255.255.255
  bool is_unspecified() const;    // 0.0.0.0 or ::
  bool is_documentation() const;  // 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32
  // Publicly routable unicast (none of the above).
  bool is_global_unicast() const;

  // Address with all bits after `len` (counted in the address family's own width) cleared.
  IpAddress masked(int len) const;

  auto operator<=>(const IpAddress&) const = default;

 private:
  Bytes bytes_{};
};

class IpPrefix {
 public:
  IpPrefix() = default;
  IpPrefix(IpAddress network, int length);  // length in the family's width (0..32 or 0..128)

  // "192.0.2.0/24", "2001:db8::/32", or a bare address (host prefix).
  static std::optional<IpPrefix> parse(std::string_view text);

  const IpAddress& network() const { return network_; }
  int length() const { return length_; }  // family width
  int length128() const { return network_.is_v4() ? length_ + 96 : length_; }
  bool contains(const IpAddress& a) const;
  bool contains(const IpPrefix& p) const;
  // Number of addresses, saturated at 2^64.
  std::uint64_t size() const;
  std::string to_string() const;

  auto operator<=>(const IpPrefix&) const = default;

 private:
  IpAddress network_;
  int length_ = 0;
};

}  // namespace klartext::core

template <>
struct std::hash<klartext::core::IpAddress> {
  std::size_t operator()(const klartext::core::IpAddress& a) const noexcept;
};
