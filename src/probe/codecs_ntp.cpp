// NTP codecs: mode 7 monlist (ntpdc), mode 6 READVAR (ntpq -c rv) and mode 3 client (baseline).
#include <map>
#include <set>

#include "probe/codecs.hpp"
#include "probe/wire.hpp"

namespace klartext::probe::detail {
namespace {

std::string_view mode7_error_name(int err) {
  switch (err) {
    case 0: return "ok";
    case 1: return "incompatible-implementation";
    case 2: return "unknown-request-code";
    case 3: return "format-error";
    case 4: return "no-data";
    case 5: return "unknown";
    case 7: return "authentication-failure";
    default: return "other";
  }
}

// Mode 7 (private) request for monlist: header with VN 2, implementation and request code,
// zero-padded to `size` bytes (ntpd 4.2.x accepts anything from 8 bytes for requests without items).
class NtpMode7 : public Codec {
 public:
  std::string build(const Params& p, std::uint32_t) const override {
    std::string out;
    wire::put_u8(out, 0x17);  // R=0 M=0 VN=2 mode=7
    wire::put_u8(out, 0x00);  // auth 0, sequence 0 (ntpd drops anything else)
    wire::put_u8(out, static_cast<std::uint32_t>(param_int(p, "impl", 3)));
    wire::put_u8(out, static_cast<std::uint32_t>(param_int(p, "request_code", 42)));
    wire::put_u32(out, 0);  // err/nitems, mbz/itemsize
    auto size = static_cast<std::size_t>(param_int(p, "size", 48));
    if (out.size() < size) out.resize(size, '\0');
    return out;
  }

  Decoded decode(const Params&, std::string_view req, const std::vector<std::string>& dgrams) const override {
    Decoded d;
    auto impl = static_cast<std::uint8_t>(req[2]);
    auto code = static_cast<std::uint8_t>(req[3]);
    std::set<int> seqs;
    std::int64_t entries = 0, item_size = -1, err = -1;
    bool last_seen = false;
    for (const auto& g : dgrams) {
      wire::Reader r(g);
      auto b0 = r.u8(), b1 = r.u8(), gi = r.u8(), gc = r.u8();
      auto e = r.u16(), s = r.u16();
      if (!r.ok() || (b0 & 0x07) != 7 || (b0 & 0x80) == 0 || gi != impl || gc != code) continue;
      int nitems = e & 0x0fff, isz = s & 0x0fff;
      if (g.size() < 8u + static_cast<std::size_t>(nitems) * isz) continue;  // truncated: not a sane reply
      int seq = b1 & 0x7f;
      ++d.valid_datagrams;
      if (!seqs.insert(seq).second) continue;  // duplicate datagram
      err = e >> 12;
      if (nitems > 0) item_size = isz;
      entries += nitems;
      if ((b0 & 0x40) == 0) last_seen = true;
    }
    d.valid = d.valid_datagrams > 0;
    if (!d.valid) return d;
    d.add_num("implementation", impl);
    d.add_num("request_code", code);
    d.add_num("error_code", static_cast<double>(err));
    d.add("error", std::string(mode7_error_name(static_cast<int>(err))));
    d.add_num("entries", static_cast<double>(entries));
    if (item_size >= 0) d.add_num("item_size", static_cast<double>(item_size));
    d.add_num("sequence_numbers", static_cast<double>(seqs.size()));
    d.add("complete", last_seen ? "yes" : "no");
    // ntpdc falls back to implementation 2 when 3 is refused; tell the operator which variant does that.
    if (err == 1 && impl == 3) d.add("hint", "implementation 3 refused: try --service ntp-monitor:impl2-req42");
    d.open = err == 0 && entries > 0;
    return d;
  }
};

// Splits ntpq's "name=value, name="quoted, text", ..." into pairs (quotes may contain commas).
std::vector<std::pair<std::string, std::string>> split_vars(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ',' || text[i] == '\r' || text[i] == '\n')) ++i;
    std::size_t start = i;
    bool quoted = false;
    while (i < text.size() && (quoted || text[i] != ',')) {
      if (text[i] == '"') quoted = !quoted;
      ++i;
    }
    auto item = text.substr(start, i - start);
    while (!item.empty() && (item.back() == '\r' || item.back() == '\n' || item.back() == ' ' || item.back() == '\0'))
      item.remove_suffix(1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    std::string name(item.substr(0, eq));
    std::string value;
    if (eq != std::string_view::npos) {
      auto v = item.substr(eq + 1);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      value = std::string(v);
    }
    out.emplace_back(wire::printable(name, 64), wire::printable(value, 200));
  }
  return out;
}

std::string_view mode6_error_name(int e) {
  switch (e) {
    case 1: return "permission";
    case 2: return "bad-format";
    case 3: return "bad-opcode";
    case 4: return "bad-association";
    case 5: return "unknown-variable";
    case 6: return "bad-value";
    case 7: return "restricted";
    default: return "unspecified";
  }
}

// Mode 6 (control) READVAR for association 0: what `ntpq -c rv` sends.
class NtpMode6 : public Codec {
 public:
  std::string build(const Params& p, std::uint32_t txid) const override {
    std::string out;
    wire::put_u8(out, 0x16);  // LI 0, VN 2, mode 6
    wire::put_u8(out, static_cast<std::uint32_t>(param_int(p, "opcode", 2)));
    wire::put_u16(out, txid & 0xffff);  // sequence
    wire::put_u16(out, 0);              // status
    wire::put_u16(out, 0);              // association 0 = system variables
    wire::put_u16(out, 0);              // offset
    wire::put_u16(out, 0);              // count
    return out;
  }

  Decoded decode(const Params&, std::string_view req, const std::vector<std::string>& dgrams) const override {
    Decoded d;
    std::uint16_t seq =
        static_cast<std::uint16_t>((static_cast<std::uint8_t>(req[2]) << 8) | static_cast<std::uint8_t>(req[3]));
    std::uint8_t opcode = static_cast<std::uint8_t>(req[1]) & 0x1f;
    std::map<std::uint16_t, std::string> fragments;  // by offset
    int error = -1;
    std::uint16_t status = 0;
    for (const auto& g : dgrams) {
      wire::Reader r(g);
      auto b0 = r.u8(), b1 = r.u8();
      auto s = r.u16(), st = r.u16();
      r.u16();  // association
      auto off = r.u16(), count = r.u16();
      if (!r.ok() || (b0 & 0x07) != 6 || (b1 & 0x80) == 0 || (b1 & 0x1f) != opcode || s != seq) continue;
      auto data = r.bytes(count);
      if (!r.ok()) continue;
      ++d.valid_datagrams;
      status = st;
      if (b1 & 0x40) error = st >> 8;
      fragments.emplace(off, std::string(data));
    }
    d.valid = d.valid_datagrams > 0;
    if (!d.valid) return d;
    if (error >= 0) {
      d.add_num("error_code", error);
      d.add("error", std::string(mode6_error_name(error)));
      return d;
    }
    std::string text;
    for (const auto& [off, data] : fragments) {
      if (off == text.size()) text += data;  // gaps stay out: a missing fragment ends the text
    }
    d.add_num("leap", status >> 14);
    auto vars = split_vars(text);
    d.add_num("variables", static_cast<double>(vars.size()));
    static const std::set<std::string, std::less<>> kKeep = {"version", "processor", "system",   "stratum",
                                                             "refid",   "leap",      "precision"};
    for (const auto& [k, v] : vars) {
      if (kKeep.count(k) && !d.find(k)) d.add(k, v);
    }
    d.open = !vars.empty();
    return d;
  }
};

// Mode 3 client request (48 bytes): the harmless baseline every time server answers.
class NtpMode3 : public Codec {
 public:
  std::string build(const Params&, std::uint32_t txid) const override {
    std::string out;
    wire::put_u8(out, 0xe3);  // LI 3 (unsynchronised), VN 4, mode 3
    out.resize(40, '\0');
    wire::put_u32(out, 0x80000000u | (txid & 0x7fffffff));  // transmit timestamp: our cookie
    wire::put_u32(out, txid);
    return out;
  }

  Decoded decode(const Params&, std::string_view req, const std::vector<std::string>& dgrams) const override {
    Decoded d;
    auto cookie = req.substr(40, 8);
    for (const auto& g : dgrams) {
      if (g.size() < 48 || (static_cast<std::uint8_t>(g[0]) & 0x07) != 4 || g.substr(24, 8) != cookie) continue;
      ++d.valid_datagrams;
      if (d.valid_datagrams == 1) {
        auto b0 = static_cast<std::uint8_t>(g[0]);
        d.add_num("version", (b0 >> 3) & 7);
        d.add_num("leap", b0 >> 6);
        d.add_num("stratum", static_cast<std::uint8_t>(g[1]));
        auto refid = g.substr(12, 4);
        if (auto st = static_cast<std::uint8_t>(g[1]); st <= 1 || st >= 16) {
          d.add("refid", wire::printable(refid, 4));
        } else {
          d.add("refid", std::to_string(static_cast<std::uint8_t>(refid[0])) + "." +
                             std::to_string(static_cast<std::uint8_t>(refid[1])) + "." +
                             std::to_string(static_cast<std::uint8_t>(refid[2])) + "." +
                             std::to_string(static_cast<std::uint8_t>(refid[3])));
        }
      }
    }
    d.valid = d.open = d.valid_datagrams > 0;
    return d;
  }
};

}  // namespace

const Codec& ntp_mode7_codec() {
  static const NtpMode7 c;
  return c;
}
const Codec& ntp_mode6_codec() {
  static const NtpMode6 c;
  return c;
}
const Codec& ntp_mode3_codec() {
  static const NtpMode3 c;
  return c;
}

}  // namespace klartext::probe::detail
