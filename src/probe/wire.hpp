// Bounds-checked big-endian byte reading/writing and minimal BER (ASN.1) helpers for the probe codecs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace klartext::probe::wire {

inline void put_u8(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v & 0xff));
}
inline void put_u16(std::string& out, std::uint32_t v) {
  put_u8(out, v >> 8);
  put_u8(out, v);
}
inline void put_u32(std::string& out, std::uint32_t v) {
  put_u16(out, v >> 16);
  put_u16(out, v);
}

// A cursor over untrusted bytes: every read checks the remaining length and sets `ok()` false
// instead of reading past the end (later reads then return 0 / empty).
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool ok() const { return ok_; }
  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  bool need(std::size_t n) {
    if (!ok_ || data_.size() - pos_ < n) ok_ = false;
    return ok_;
  }
  std::uint8_t u8() {
    if (!need(1)) return 0;
    return static_cast<std::uint8_t>(data_[pos_++]);
  }
  std::uint16_t u16() {
    std::uint16_t hi = u8();
    return static_cast<std::uint16_t>((hi << 8) | u8());
  }
  std::uint32_t u32() {
    std::uint32_t hi = u16();
    return (hi << 16) | u16();
  }
  std::string_view bytes(std::size_t n) {
    if (!need(n)) return {};
    auto v = data_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  void skip(std::size_t n) { bytes(n); }
  std::string_view rest() { return bytes(remaining()); }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// Appends a BER tag-length-value with definite length (short or long form).
void ber_put(std::string& out, std::uint8_t tag, std::string_view value);
std::string ber_int(std::int64_t v);  // INTEGER value bytes (two's complement, minimal)
// Encodes dotted OID text ("1.3.6.1.2.1") into BER value bytes; empty on bad text.
std::string ber_oid(std::string_view dotted);
std::string ber_oid_text(std::string_view value);  // value bytes -> dotted text

struct Tlv {
  std::uint8_t tag = 0;
  std::string_view value;
};
// Reads one TLV (single-byte tags only, which is all SNMP/LDAP need); nullopt on malformed input.
std::optional<Tlv> ber_get(Reader& r);
std::int64_t ber_int_value(std::string_view value);

// DNS name helpers: encode a dotted name into labels; decode a (possibly compressed) name at `pos`
// of `msg`, advancing `pos` past it. Decoding follows at most 32 pointers.
bool dns_put_name(std::string& out, std::string_view dotted);
std::optional<std::string> dns_get_name(std::string_view msg, std::size_t& pos);

// Printable rendering of untrusted text for details: control bytes become '.', at most `max` bytes.
std::string printable(std::string_view s, std::size_t max = 200);

}  // namespace klartext::probe::wire
