// BER, DNS name and text helpers shared by the probe codecs.
#include "probe/wire.hpp"

#include <charconv>
#include <vector>

namespace klartext::probe::wire {

void ber_put(std::string& out, std::uint8_t tag, std::string_view value) {
  put_u8(out, tag);
  std::size_t n = value.size();
  if (n < 0x80) {
    put_u8(out, static_cast<std::uint32_t>(n));
  } else {
    std::string len;
    while (n > 0) {
      len.insert(len.begin(), static_cast<char>(n & 0xff));
      n >>= 8;
    }
    put_u8(out, 0x80 | static_cast<std::uint32_t>(len.size()));
    out += len;
  }
  out += value;
}

std::string ber_int(std::int64_t v) {
  std::string bytes;
  for (int i = 7; i >= 0; --i) bytes.push_back(static_cast<char>((static_cast<std::uint64_t>(v) >> (i * 8)) & 0xff));
  // Strip redundant leading bytes while keeping the sign bit right.
  std::size_t start = 0;
  while (start < 7) {
    auto b0 = static_cast<std::uint8_t>(bytes[start]);
    auto b1 = static_cast<std::uint8_t>(bytes[start + 1]);
    if ((b0 == 0x00 && (b1 & 0x80) == 0) || (b0 == 0xff && (b1 & 0x80) != 0)) {
      ++start;
    } else {
      break;
    }
  }
  return bytes.substr(start);
}

std::string ber_oid(std::string_view dotted) {
  std::vector<std::uint64_t> arcs;
  while (!dotted.empty()) {
    auto dot = dotted.find('.');
    auto part = dotted.substr(0, dot);
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (ec != std::errc{} || p != part.data() + part.size() || part.empty()) return {};
    arcs.push_back(v);
    if (dot == std::string_view::npos) break;
    dotted.remove_prefix(dot + 1);
  }
  if (arcs.size() < 2 || arcs[0] > 2) return {};
  std::string out;
  auto put_arc = [&](std::uint64_t v) {
    char tmp[10];
    int n = 0;
    do {
      tmp[n++] = static_cast<char>(v & 0x7f);
      v >>= 7;
    } while (v > 0);
    for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<char>(tmp[i] | (i > 0 ? 0x80 : 0)));
  };
  put_arc(arcs[0] * 40 + arcs[1]);
  for (std::size_t i = 2; i < arcs.size(); ++i) put_arc(arcs[i]);
  return out;
}

std::string ber_oid_text(std::string_view value) {
  std::string out;
  std::uint64_t v = 0;
  bool first = true;
  for (char c : value) {
    auto b = static_cast<std::uint8_t>(c);
    v = (v << 7) | (b & 0x7f);
    if (b & 0x80) continue;
    if (first) {
      std::uint64_t a = v < 80 ? v / 40 : 2;
      out += std::to_string(a);
      out += '.';
      out += std::to_string(v - a * 40);
      first = false;
    } else {
      out += '.';
      out += std::to_string(v);
    }
    v = 0;
  }
  return out;
}

std::optional<Tlv> ber_get(Reader& r) {
  Tlv t;
  t.tag = r.u8();
  std::uint8_t l = r.u8();
  if (!r.ok()) return std::nullopt;
  std::size_t len = l;
  if (l & 0x80) {
    int n = l & 0x7f;
    if (n == 0 || n > 4) return std::nullopt;  // indefinite or absurd lengths are not used by these protocols
    len = 0;
    for (int i = 0; i < n; ++i) len = (len << 8) | r.u8();
  }
  t.value = r.bytes(len);
  if (!r.ok()) return std::nullopt;
  return t;
}

std::int64_t ber_int_value(std::string_view value) {
  if (value.empty() || value.size() > 8) return 0;
  std::int64_t v = (static_cast<std::uint8_t>(value[0]) & 0x80) ? -1 : 0;
  for (char c : value)
    v = static_cast<std::int64_t>((static_cast<std::uint64_t>(v) << 8) | static_cast<std::uint8_t>(c));
  return v;
}

bool dns_put_name(std::string& out, std::string_view dotted) {
  if (dotted == "." || dotted.empty()) {
    out.push_back('\0');
    return true;
  }
  if (dotted.back() == '.') dotted.remove_suffix(1);
  while (true) {
    auto dot = dotted.find('.');
    auto label = dotted.substr(0, dot);
    if (label.empty() || label.size() > 63) return false;
    put_u8(out, static_cast<std::uint32_t>(label.size()));
    out += label;
    if (dot == std::string_view::npos) break;
    dotted.remove_prefix(dot + 1);
  }
  out.push_back('\0');
  return true;
}

std::optional<std::string> dns_get_name(std::string_view msg, std::size_t& pos) {
  std::string name;
  std::size_t p = pos;
  bool jumped = false;
  for (int hops = 0; hops < 32;) {
    if (p >= msg.size()) return std::nullopt;
    auto len = static_cast<std::uint8_t>(msg[p]);
    if ((len & 0xc0) == 0xc0) {
      if (p + 1 >= msg.size()) return std::nullopt;
      std::size_t target = ((len & 0x3fu) << 8) | static_cast<std::uint8_t>(msg[p + 1]);
      if (!jumped) pos = p + 2;
      jumped = true;
      p = target;
      ++hops;
      continue;
    }
    if (len & 0xc0) return std::nullopt;
    ++p;
    if (len == 0) {
      if (!jumped) pos = p;
      return name.empty() ? std::string(".") : name;
    }
    if (p + len > msg.size() || name.size() > 255) return std::nullopt;
    if (!name.empty()) name.push_back('.');
    name += printable(msg.substr(p, len), 63);
    p += len;
  }
  return std::nullopt;
}

std::string printable(std::string_view s, std::size_t max) {
  std::string out;
  out.reserve(std::min(s.size(), max));
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '.');
  }
  return out;
}

}  // namespace klartext::probe::wire
