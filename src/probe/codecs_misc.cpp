// Codecs of the non-NTP amplifier probes: DNS/mDNS, SSDP, memcached, CharGEN, QOTD, SNMP, portmapper,
// NetBIOS, CLDAP, WS-Discovery, CoAP, ARD and TFTP.
#include <algorithm>
#include <map>
#include <set>

#include "probe/codecs.hpp"
#include "probe/wire.hpp"

namespace klartext::probe::detail {
namespace {

bool istarts_with(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  }
  return true;
}

std::string hex_to_bytes(std::string_view hex) {
  std::string out;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    int hi = nib(hex[i]), lo = nib(hex[i + 1]);
    if (hi < 0 || lo < 0) break;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::string join(const std::vector<std::string>& v, std::size_t max_items = 10) {
  std::string out;
  for (std::size_t i = 0; i < v.size() && i < max_items; ++i) {
    if (i) out += ", ";
    out += v[i];
  }
  if (v.size() > max_items) out += ", ...";
  return out;
}

// ---------------------------------------------------------------------------------------------
// DNS (open resolver: recursive query with RD) and mDNS (unicast query to port 5353).

std::string_view rcode_name(int rc) {
  static constexpr std::string_view kNames[] = {"NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
                                                "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE"};
  return rc >= 0 && rc < 11 ? kNames[rc] : std::string_view("OTHER");
}

class Dns : public Codec {
 public:
  std::string build(const Params& p, std::uint32_t txid) const override {
    std::string out;
    bool mdns = param_int(p, "mdns", 0) != 0;
    int edns = static_cast<int>(param_int(p, "edns", 0));
    wire::put_u16(out, mdns ? 0 : (txid & 0xffff));
    wire::put_u16(out, param_int(p, "rd", 1) ? 0x0100 : 0x0000);
    wire::put_u16(out, 1);
    wire::put_u16(out, 0);
    wire::put_u16(out, 0);
    wire::put_u16(out, edns > 0 ? 1 : 0);
    if (!wire::dns_put_name(out, param_str(p, "qname", "."))) wire::dns_put_name(out, ".");
    wire::put_u16(out, static_cast<std::uint32_t>(param_int(p, "qtype", 255)));
    wire::put_u16(out, static_cast<std::uint32_t>(param_int(p, "qclass", 1)));
    if (edns > 0) {
      out.push_back('\0');                                   // root name
      wire::put_u16(out, 41);                                // OPT
      wire::put_u16(out, static_cast<std::uint32_t>(edns));  // UDP payload size
      wire::put_u32(out, 0);                                 // extended rcode, version, flags
      wire::put_u16(out, 0);                                 // no options
    }
    return out;
  }

  Decoded decode(const Params& p, std::string_view req, const std::vector<std::string>& dgrams) const override {
    Decoded d;
    bool mdns = param_int(p, "mdns", 0) != 0;
    auto id = static_cast<std::uint16_t>((static_cast<std::uint8_t>(req[0]) << 8) | static_cast<std::uint8_t>(req[1]));
    for (const auto& g : dgrams) {
      wire::Reader r(g);
      auto gid = r.u16(), flags = r.u16(), qd = r.u16(), an = r.u16(), ns = r.u16(), ar = r.u16();
      if (!r.ok() || (flags & 0x8000) == 0 || ((flags >> 11) & 0xf) != 0) continue;
      if (gid != id && !(mdns && gid == 0)) continue;
      ++d.valid_datagrams;
      if (d.valid_datagrams > 1) continue;  // details from the first answer
      int rcode = flags & 0xf;
      bool ra = flags & 0x0080;
      d.add("rcode", std::string(rcode_name(rcode)));
      d.add("recursion_available", ra ? "yes" : "no");
      d.add("authoritative", (flags & 0x0400) ? "yes" : "no");
      d.add("truncated", (flags & 0x0200) ? "yes" : "no");
      d.add_num("answers", an);
      d.add_num("authority", ns);
      d.add_num("additional", ar);
      // Walk the question and answers for readable names (mDNS service list, answer types).
      std::size_t pos = 12;
      bool ok = true;
      for (int i = 0; i < qd && ok; ++i) {
        ok = wire::dns_get_name(g, pos).has_value() && pos + 4 <= g.size();
        pos += 4;
      }
      std::vector<std::string> ptrs;
      std::set<int> types;
      for (int i = 0; i < an && ok; ++i) {
        ok = wire::dns_get_name(g, pos).has_value() && pos + 10 <= g.size();
        if (!ok) break;
        wire::Reader rr(std::string_view(g).substr(pos));
        int type = rr.u16();
        rr.u16();
        rr.u32();
        std::size_t rdlen = rr.u16();
        pos += 10;
        if (pos + rdlen > g.size()) break;
        types.insert(type);
        if (type == 12) {
          std::size_t np = pos;
          if (auto n = wire::dns_get_name(g, np)) ptrs.push_back(*n);
        }
        pos += rdlen;
      }
      if (!ptrs.empty()) d.add("ptr_names", join(ptrs));
      if (!types.empty()) {
        std::vector<std::string> ts;
        for (int t : types) ts.push_back(std::to_string(t));
        d.add("answer_types", join(ts));
      }
      if (param_str(p, "open_if", "recursion") == "recursion") {
        d.open = ra && rcode != 4 && rcode != 5;
      } else {
        d.open = rcode == 0 && an > 0;
      }
    }
    d.valid = d.valid_datagrams > 0;
    return d;
  }
};

// ---------------------------------------------------------------------------------------------
// SSDP M-SEARCH (unicast to the host's port 1900).

class Ssdp : public Codec {
 public:
  std::string build(const Params& p, std::uint32_t) const override {
    return "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: " +
           param_str(p, "mx", "1") + "\r\nST: " + param_str(p, "st", "ssdp:all") + "\r\n\r\n";
  }

  Decoded decode(const Params&, std::string_view, const std::vector<std::string>& dgrams) const override {
    Decoded d;
    std::string server, location;
    std::set<std::string> sts;
    for (const auto& g : dgrams) {
      if (!istarts_with(g, "HTTP/1.1 200") && !istarts_with(g, "HTTP/1.0 200")) continue;
      ++d.valid_datagrams;
      std::string_view rest(g);
      while (!rest.empty()) {
        auto eol = rest.find('\n');
        auto line = rest.substr(0, eol);
        rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        auto name = line.substr(0, colon);
        auto value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (istarts_with(name, "server") && name.size() == 6 && server.empty()) server = wire::printable(value);
        if (istarts_with(name, "location") && name.size() == 8 && location.empty()) location = wire::printable(value);
        if (istarts_with(name, "st") && name.size() == 2) sts.insert(wire::printable(value, 100));
      }
    }
    d.valid = d.open = d.valid_datagrams > 0;
    if (!d.valid) return d;
    d.add_num("responses", static_cast<double>(d.valid_datagrams));
    if (!server.empty()) d.add("server", server);
    if (!location.empty()) d.add("location", location);
    d.add_num("search_targets", static_cast<double>(sts.size()));
    return d;
  }
};

// ---------------------------------------------------------------------------------------------
// memcached ASCII command over UDP: 8-byte frame header (request id, sequence, total, reserved).

class Memcached : public Codec {
 public:
  std::string build(const Params& p, std::uint32_t txid) const override {
    std::string out;
    wire::put_u16(out, txid & 0xffff);
    wire::put_u16(out, 0);  // sequence
    wire::put_u16(out, 1);  // datagrams in this request
    wire::put_u16(out, 0);  // reserved
    out += param_str(p, "command", "stats");
    out += "\r\n";
    return out;
  }

  Decoded decode(const Params&, std::string_view req, const std::vector<std::string>& dgrams) const override {
    Decoded d;
    auto id = static_cast<std::uint16_t>((static_cast<std::uint8_t>(req[0]) << 8) | static_cast<std::uint8_t>(req[1]));
    std::map<std::uint16_t, std::string_view> parts;
    std::uint16_t total = 0;
    for (const auto& g : dgrams) {
      wire::Reader r(g);
      auto gid = r.u16(), seq = r.u16(), tot = r.u16(), res = r.u16();
      if (!r.ok() || gid != id || res != 0 || tot == 0 || seq >= tot) continue;
      ++d.valid_datagrams;
      total = std::max(total, tot);
      parts.emplace(seq, std::string_view(g).substr(8));
    }
    if (d.valid_datagrams == 0) return d;
    std::string body;
    for (const auto& [seq, part] : parts) body += part;
    // The body must look like a memcached ASCII reply.
    bool looks = body.starts_with("STAT ") || body.starts_with("VERSION ") || body.starts_with("VALUE ") ||
                 body.starts_with("END") || body.starts_with("ERROR") || body.starts_with("CLIENT_ERROR") ||
                 body.starts_with("SERVER_ERROR");
    if (!looks) {
      d.valid_datagrams = 0;
      return d;
    }
    d.valid = true;
    d.add_num("datagrams_announced", total);
    d.add_num("datagrams_received", static_cast<double>(parts.size()));
    int stats = 0;
    std::string_view rest(body);
    while (!rest.empty()) {
      auto eol = rest.find("\r\n");
      auto line = rest.substr(0, eol);
      rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
      if (!line.starts_with("STAT ")) continue;
      ++stats;
      auto kv = line.substr(5);
      auto sp = kv.find(' ');
      if (sp == std::string_view::npos) continue;
      auto k = kv.substr(0, sp);
      if (k == "version" || k == "curr_items" || k == "uptime" || k == "libevent")
        d.add(std::string(k), wire::printable(kv.substr(sp + 1), 100));
    }
    if (body.starts_with("VERSION ")) d.add("version", wire::printable(body.substr(8, body.find('\r') - 8), 100));
    d.add_num("stat_lines", stats);
    d.open = stats > 0 || body.starts_with("VALUE ") || body.starts_with("VERSION ");
    return d;
  }
};

// ---------------------------------------------------------------------------------------------
// CharGEN (port 19) and QOTD (port 17): any datagram triggers a text reply.

bool is_text(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (!((u >= 0x20 && u < 0x7f) || u == '\r' || u == '\n' || u == '\t')) return false;
  }
  return true;
}

class Chargen : public Codec {
 public:
  std::string build(const Params& p, std::uint32_t) const override {
    return hex_to_bytes(param_str(p, "payload_hex", "01"));
  }
  Decoded decode(const Params&, std::string_view req, const std::vector<std::string>& dgrams) const override {
    Decoded d;
    for (const auto& g : dgrams) {
      // A character pattern of printable ASCII, not an echo of our request.
      if (g.size() >= 2 && g != req && is_text(g)) ++d.valid_datagrams;
    }
    d.valid = d.open = d.valid_datagrams > 0;
    if (d.valid) {
      const auto& g = *std::find_if(dgrams.begin(), dgrams.end(), [&](const std::string& x) { return is_text(x); });
      d.add("first_line", wire::printable(g.substr(0, g.find_first_of("\r\n")), 80));
    }
    return d;
  }
};

class Qotd : public Codec {
 public:
  std::string build(const Params& p, std::uint32_t) const override {
    return hex_to_bytes(param_str(p, "payload_hex", "01"));
  }
  Decoded decode(const Params&, std::string_view req, const std::vector<std::string>& dgrams) const override {
    Decoded d;
    std::string quote;
    for (const auto& g : dgrams) {
      bool has_word =
          std::any_of(g.begin(), g.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
      if (g != req && is_text(g) && has_word) {
        if (++d.valid_datagrams == 1) quote = g;
      }
    }
    d.valid = d.open = d.valid_datagrams > 0;
    if (d.valid) d.add("quote", wire::printable(quote, 120));
    return d;
  }
};

// ---------------------------------------------------------------------------------------------
// SNMP v2c GetBulk with a community string (Rossow's SNMP scenario).

class Snmp : public Codec {
 public:
  std::string build(const Params& p, std::uint32_t txid) const override {
    std::string name_null, varbind, varbinds, pdu, msg, out;
    wire::ber_put(name_null, 0x06, wire::ber_oid(param_str(p, "oid", "1.3.6.1.2.1")));
    wire::ber_put(name_null, 0x05, "");
    wire::ber_put(varbind, 0x30, name_null);  // VarBind ::= SEQUENCE { name, value }
    wire::ber_put(varbinds, 0x30, varbind);   // VarBindList ::= SEQUENCE OF VarBind
    std::string inner;
    wire::ber_put(inner, 0x02, wire::ber_int(txid & 0x7fffffff));
    wire::ber_put(inner, 0x02, wire::ber_int(0));  // non-repeaters
    wire::ber_put(inner, 0x02, wire::ber_int(param_int(p, "max_repetitions", 30)));
    inner += varbinds;
    wire::ber_put(pdu, 0xa5, inner);             // GetBulkRequest-PDU
    wire::ber_put(msg, 0x02, wire::ber_int(1));  // version: 1 = v2c
    wire::ber_put(msg, 0x04, param_str(p, "community", "public"));
    msg += pdu;
    wire::ber_put(out, 0x30, msg);
    return out;
  }

  Decoded decode(const Params&, std::string_view req, const std::vector<std::string>& dgrams) const override {
    Decoded d;
    // Our request id, read back from the request we built.
    std::int64_t want_id = -1;
    {
      wire::Reader r(req);
      if (auto m = wire::ber_get(r)) {
        wire::Reader mr(m->value);
        wire::ber_get(mr);
        wire::ber_get(mr);
        if (auto pdu = wire::ber_get(mr)) {
          wire::Reader pr(pdu->value);
          if (auto id = wire::ber_get(pr)) want_id = wire::ber_int_value(id->value);
        }
      }
    }
    for (const auto& g : dgrams) {
      wire::Reader r(g);
      auto m = wire::ber_get(r);
      if (!m || m->tag != 0x30) continue;
      wire::Reader mr(m->value);
      auto ver = wire::ber_get(mr);
      auto comm = wire::ber_get(mr);
      auto pdu = wire::ber_get(mr);
      if (!ver || !comm || !pdu || ver->tag != 0x02 || comm->tag != 0x04 || pdu->tag != 0xa2) continue;
      wire::Reader pr(pdu->value);
      auto id = wire::ber_get(pr);
      auto es = wire::ber_get(pr);
      auto ei = wire::ber_get(pr);
      auto vbs = wire::ber_get(pr);
      if (!id || !es || !ei || !vbs || wire::ber_int_value(id->value) != want_id || vbs->tag != 0x30) continue;
      if (++d.valid_datagrams > 1) continue;
      auto error_status = wire::ber_int_value(es->value);
      int count = 0;
      wire::Reader vr(vbs->value);
      while (vr.remaining() > 0) {
        auto vb = wire::ber_get(vr);
        if (!vb) break;
        ++count;
        wire::Reader br(vb->value);
        auto oid = wire::ber_get(br);
        auto val = wire::ber_get(br);
        if (!oid || !val || oid->tag != 0x06) continue;
        auto name = wire::ber_oid_text(oid->value);
        if (name == "1.3.6.1.2.1.1.1.0" && val->tag == 0x04) d.add("sysDescr", wire::printable(val->value, 200));
        if (name == "1.3.6.1.2.1.1.5.0" && val->tag == 0x04) d.add("sysName", wire::printable(val->value, 100));
        if (name == "1.3.6.1.2.1.1.2.0" && val->tag == 0x06) d.add("sysObjectID", wire::ber_oid_text(val->value));
      }
      d.add("snmp_version", wire::ber_int_value(ver->value) == 1 ? "v2c" : "other");
      d.add_num("error_status", static_cast<double>(error_status));
      d.add_num("varbinds", count);
      d.open = error_status == 0 && count > 0;
    }
    d.valid = d.valid_datagrams > 0;
    return d;
  }
};

// ---------------------------------------------------------------------------------------------
// ONC RPC portmapper v2 DUMP (program 100000, procedure 4), AUTH_NULL.

std::string_view rpc_program_name(std::uint32_t prog) {
  switch (prog) {
    case 100000: return "portmapper";
    case 100003: return "nfs";
    case 100004: return "ypserv";
    case 100005: return "mountd";
    case 100007: return "ypbind";
    case 100011: return "rquotad";
    case 100021: return "nlockmgr";
    case 100024: return "status";
    case 100227: return "nfs_acl";
    default: return {};
  }
}

class Portmap : public Codec {
 public:
  std::string build(const Params& p, std::uint32_t txid) const override {
    std::string out;
    wire::put_u32(out, txid);
    wire::put_u32(out, 0);  // CALL
    wire::put_u32(out, 2);  // RPC version
    wire::put_u32(out, 100000);
    wire::put_u32(out, static_cast<std::uint32_t>(param_int(p, "version", 2)));
    wire::put_u32(out, static_cast<std::uint32_t>(param_int(p, "procedure", 4)));
    for (int i = 0; i < 4; ++i) wire::put_u32(out, 0);  // cred and verf: AUTH_NULL, length 0
    return out;
  }

  Decoded decode(const Params&, std::string_view req, const std::vector<std::string>& dgrams) const override {
    Decoded d;
    auto xid = req.substr(0, 4);
    for (const auto& g : dgrams) {
      wire::Reader r(g);
      auto gx = r.bytes(4);
      auto mtype = r.u32(), reply_stat = r.u32();
      if (!r.ok() || gx != xid || mtype != 1) continue;
      ++d.valid_datagrams;
      if (d.valid_datagrams > 1) continue;
      if (reply_stat != 0) {
        d.add("reply", "denied");
        continue;
      }
      r.u32();
      auto vlen = r.u32();
      r.skip((vlen + 3) & ~3u);
      auto accept = r.u32();
      if (!r.ok()) continue;
      d.add_num("accept_stat", accept);
      if (accept != 0) continue;
      std::uint32_t mappings = 0;
      std::set<std::uint32_t> programs;
      while (r.remaining() >= 4 && mappings < 100000) {
        if (r.u32() != 1) break;
        auto prog = r.u32();
        r.u32();
        r.u32();
        r.u32();
        if (!r.ok()) break;
        ++mappings;
        programs.insert(prog);
      }
      d.add_num("mappings", mappings);
      d.add_num("programs", static_cast<double>(programs.size()));
      std::vector<std::string> names;
      for (auto prog : programs) {
        auto n = rpc_program_name(prog);
        names.push_back(n.empty() ? std::to_string(prog) : std::string(n));
      }
      if (!names.empty()) d.add("program_list", join(names, 20));
      d.open = mappings > 0;
    }
    d.valid = d.valid_datagrams > 0;
    return d;
  }
};

// ---------------------------------------------------------------------------------------------
// NetBIOS name service node status (NBSTAT) for the wildcard name "*".

class Netbios : public Codec {
 public:
  std::string build(const Params&, std::uint32_t txid) const override {
    std::string out;
    wire::put_u16(out, txid & 0xffff);
    wire::put_u16(out, 0x0000);  // query, no broadcast flag
    wire::put_u16(out, 1);
    wire::put_u16(out, 0);
    wire::put_u16(out, 0);
    wire::put_u16(out, 0);
    wire::put_u8(out, 32);
    out += "CK";          // '*' first-level encoded
    out.append(30, 'A');  // 15 NUL bytes encoded
    wire::put_u8(out, 0);
    wire::put_u16(out, 0x21);  // NBSTAT
    wire::put_u16(out, 0x01);  // IN
    return out;
  }

  Decoded decode(const Params&, std::string_view req, const std::vector<std::string>& dgrams) const override {
    Decoded d;
    auto id = req.substr(0, 2);
    for (const auto& g : dgrams) {
      wire::Reader hr(g);
      auto gid = hr.bytes(2);
      auto flags = hr.u16();
      hr.u16();
      auto an = hr.u16();
      if (!hr.ok() || gid != id || (flags & 0x8000) == 0 || an == 0) continue;
      std::size_t pos = 12;
      if (!wire::dns_get_name(g, pos)) continue;
      wire::Reader r(std::string_view(g).substr(pos));
      auto type = r.u16();
      r.u16();
      r.u32();
      r.u16();  // rdlength
      auto num = r.u8();
      if (!r.ok() || type != 0x21) continue;
      ++d.valid_datagrams;
      if (d.valid_datagrams > 1) continue;
      std::vector<std::string> names;
      std::string host, group;
      for (int i = 0; i < num; ++i) {
        auto raw = r.bytes(15);
        auto suffix = r.u8();
        auto nflags = r.u16();
        if (!r.ok()) break;
        std::string n(raw);
        while (!n.empty() && n.back() == ' ') n.pop_back();
        n = wire::printable(n, 15);
        names.push_back(n + "<" + (suffix < 16 ? "0" : "") + [&] {
          char b[4];
          std::snprintf(b, sizeof b, "%x", suffix);
          return std::string(b);
        }() + ">");
        bool is_group = nflags & 0x8000;
        if (suffix == 0 && !is_group && host.empty()) host = n;
        if (suffix == 0 && is_group && group.empty()) group = n;
      }
      d.add_num("names", num);
      if (!host.empty()) d.add("computer_name", host);
      if (!group.empty()) d.add("workgroup", group);
      auto mac = r.bytes(6);
      if (r.ok()) {
        char b[20];
        auto u = [&](int i) { return static_cast<unsigned>(static_cast<std::uint8_t>(mac[i])); };
        std::snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", u(0), u(1), u(2), u(3), u(4), u(5));
        d.add("mac", b);
      }
      d.open = true;
    }
    d.valid = d.valid_datagrams > 0;
    return d;
  }
};

// ---------------------------------------------------------------------------------------------
// CLDAP rootDSE search (connectionless LDAP as Active Directory DCs answer it).

class Cldap : public Codec {
 public:
  std::string build(const Params&, std::uint32_t txid) const override {
    std::string search, msg, out;
    wire::ber_put(search, 0x04, "");                    // baseObject: rootDSE
    wire::ber_put(search, 0x0a, wire::ber_int(0));      // scope: base
    wire::ber_put(search, 0x0a, wire::ber_int(0));      // derefAliases: never
    wire::ber_put(search, 0x02, wire::ber_int(0));      // sizeLimit
    wire::ber_put(search, 0x02, wire::ber_int(0));      // timeLimit
    wire::ber_put(search, 0x01, std::string(1, '\0'));  // typesOnly: false
    wire::ber_put(search, 0x87, "objectClass");         // filter: present
    wire::ber_put(search, 0x30, "");                    // attributes: all user attributes
    wire::ber_put(msg, 0x02, wire::ber_int(1 + (txid & 0x7fff)));
    wire::ber_put(msg, 0x63, search);
    wire::ber_put(out, 0x30, msg);
    return out;
  }

  Decoded decode(const Params&, std::string_view req, const std::vector<std::string>& dgrams) const override {
    Decoded d;
    std::int64_t want = -1;
    {
      wire::Reader r(req);
      if (auto m = wire::ber_get(r)) {
        wire::Reader mr(m->value);
        if (auto id = wire::ber_get(mr)) want = wire::ber_int_value(id->value);
      }
    }
    int entries = 0, attributes = 0;
    std::int64_t result = -1;
    for (const auto& g : dgrams) {
      wire::Reader r(g);
      bool any = false;
      while (r.remaining() > 0) {
        auto m = wire::ber_get(r);
        if (!m || m->tag != 0x30) break;
        wire::Reader mr(m->value);
        auto id = wire::ber_get(mr);
        auto op = wire::ber_get(mr);
        if (!id || !op || wire::ber_int_value(id->value) != want) break;
        any = true;
        if (op->tag == 0x64) {  // SearchResultEntry
          ++entries;
          wire::Reader er(op->value);
          wire::ber_get(er);  // objectName
          auto attrs = wire::ber_get(er);
          if (!attrs) continue;
          wire::Reader ar(attrs->value);
          while (ar.remaining() > 0) {
            auto a = wire::ber_get(ar);
            if (!a) break;
            ++attributes;
            wire::Reader pr(a->value);
            auto type = wire::ber_get(pr);
            auto vals = wire::ber_get(pr);
            if (!type || !vals) continue;
            wire::Reader vr(vals->value);
            auto first = wire::ber_get(vr);
            static const std::set<std::string, std::less<>> kKeep = {
                "dnsHostName",         "serverName", "ldapServiceName", "defaultNamingContext",
                "domainFunctionality", "vendorName", "vendorVersion"};
            if (first && kKeep.count(type->value) && !d.find(type->value))
              d.add(std::string(type->value), wire::printable(first->value, 200));
          }
        } else if (op->tag == 0x65) {  // SearchResultDone
          wire::Reader dr(op->value);
          if (auto rc = wire::ber_get(dr)) result = wire::ber_int_value(rc->value);
        }
      }
      if (any) ++d.valid_datagrams;
    }
    d.valid = d.valid_datagrams > 0;
    if (!d.valid) return d;
    d.add_num("entries", entries);
    d.add_num("attributes", attributes);
    if (result >= 0) d.add_num("result_code", static_cast<double>(result));
    d.open = entries > 0;
    return d;
  }
};

// ---------------------------------------------------------------------------------------------
// WS-Discovery SOAP Probe (or the malformed variant that elicits a SOAP fault).

std::string_view xml_text(std::string_view doc, std::string_view local_name) {
  // Finds <prefix:Name ...>text</...> regardless of the namespace prefix.
  std::size_t pos = 0;
  while ((pos = doc.find(local_name, pos)) != std::string_view::npos) {
    std::size_t open = doc.rfind('<', pos);
    std::size_t colon_ok = open == std::string_view::npos ? 0 : pos - open;
    bool tag_start = open != std::string_view::npos && colon_ok >= 1 && doc[open + 1] != '/' &&
                     (pos == open + 1 || doc[pos - 1] == ':');
    std::size_t after = pos + local_name.size();
    if (tag_start && after < doc.size() && (doc[after] == '>' || doc[after] == ' ')) {
      auto gt = doc.find('>', after);
      if (gt == std::string_view::npos) return {};
      auto end = doc.find('<', gt + 1);
      if (end == std::string_view::npos) return {};
      return doc.substr(gt + 1, end - gt - 1);
    }
    pos = after;
  }
  return {};
}

class Wsd : public Codec {
 public:
  std::string build(const Params& p, std::uint32_t txid) const override {
    if (param_str(p, "style", "probe") == "malformed") return "<:/>\n";
    char id[64];
    std::snprintf(id, sizeof id, "urn:uuid:00000000-0000-4000-8000-%012x", txid);
    return std::string(
               "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
               "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\" "
               "xmlns:wsa=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "
               "xmlns:wsd=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\">"
               "<soap:Header><wsa:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To>"
               "<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</wsa:Action>"
               "<wsa:MessageID>") +
           id + "</wsa:MessageID></soap:Header><soap:Body><wsd:Probe/></soap:Body></soap:Envelope>";
  }

  Decoded decode(const Params&, std::string_view, const std::vector<std::string>& dgrams) const override {
    Decoded d;
    for (const auto& g : dgrams) {
      if (g.find("Envelope") == std::string::npos) continue;
      bool matches = g.find("ProbeMatch") != std::string::npos;
      bool fault = g.find("Fault") != std::string::npos;
      if (!matches && !fault) continue;
      if (++d.valid_datagrams > 1) continue;
      d.add("kind", matches ? "probe-matches" : "soap-fault");
      if (auto t = xml_text(g, "Types"); !t.empty()) d.add("types", wire::printable(t, 200));
      if (auto x = xml_text(g, "XAddrs"); !x.empty()) d.add("xaddrs", wire::printable(x, 200));
    }
    d.valid = d.open = d.valid_datagrams > 0;
    return d;
  }
};

// ---------------------------------------------------------------------------------------------
// CoAP confirmable GET /.well-known/core.

class Coap : public Codec {
 public:
  std::string build(const Params&, std::uint32_t txid) const override {
    std::string out;
    wire::put_u8(out, 0x40);  // version 1, CON, no token
    wire::put_u8(out, 0x01);  // GET
    wire::put_u16(out, txid & 0xffff);
    wire::put_u8(out, 0xbb);  // Uri-Path (delta 11), length 11
    out += ".well-known";
    wire::put_u8(out, 0x04);  // Uri-Path (delta 0), length 4
    out += "core";
    return out;
  }

  Decoded decode(const Params&, std::string_view req, const std::vector<std::string>& dgrams) const override {
    Decoded d;
    auto mid = req.substr(2, 2);
    for (const auto& g : dgrams) {
      wire::Reader r(g);
      auto b0 = r.u8(), code = r.u8();
      auto gmid = r.bytes(2);
      if (!r.ok() || (b0 >> 6) != 1) continue;
      int type = (b0 >> 4) & 3;
      if (type == 2 && gmid != mid) continue;      // an ACK must echo our message id
      if (type == 3 || (code >> 5) < 2) continue;  // reset or a request: not an answer
      r.skip(b0 & 0x0f);                           // token
      // Options up to the payload marker.
      while (r.remaining() > 0) {
        auto ob = r.u8();
        if (ob == 0xff) break;
        int delta = ob >> 4, len = ob & 0x0f;
        if (delta == 13) r.u8();
        if (delta == 14) r.u16();
        if (len == 13) len = r.u8() + 13;
        if (len == 14) len = r.u16() + 269;
        if (delta == 15 || len == 15) break;
        r.skip(static_cast<std::size_t>(len));
      }
      if (!r.ok()) continue;
      auto payload = r.rest();
      if (++d.valid_datagrams > 1) continue;
      char c[8];
      std::snprintf(c, sizeof c, "%d.%02d", code >> 5, code & 0x1f);
      d.add("code", c);
      d.add_num("payload_bytes", static_cast<double>(payload.size()));
      d.add_num("resources", static_cast<double>(std::count(payload.begin(), payload.end(), '<')));
      d.open = (code >> 5) == 2 && !payload.empty();
    }
    d.valid = d.valid_datagrams > 0;
    return d;
  }
};

// ---------------------------------------------------------------------------------------------
// Apple Remote Desktop / ARMS status query. The reply format is not publicly specified: the
// validator is weak (a non-echo answer from UDP 3283) and says so in the details.

class Ard : public Codec {
 public:
  std::string build(const Params& p, std::uint32_t) const override {
    return hex_to_bytes(param_str(p, "payload_hex", "0014000103"));
  }
  Decoded decode(const Params&, std::string_view req, const std::vector<std::string>& dgrams) const override {
    Decoded d;
    std::string best;
    for (const auto& g : dgrams) {
      if (g.size() < 5 || g == req) continue;
      ++d.valid_datagrams;
      // Longest printable run: the computer name in the replies seen in the wild.
      std::string run;
      for (char c : g) {
        if (c >= 0x20 && c < 0x7f) {
          run.push_back(c);
        } else {
          if (run.size() > best.size()) best = run;
          run.clear();
        }
      }
      if (run.size() > best.size()) best = run;
    }
    d.valid = d.open = d.valid_datagrams > 0;
    if (d.valid) {
      d.add("validation", "weak");
      if (best.size() >= 3) d.add("text", wire::printable(best, 100));
    }
    return d;
  }
};

// ---------------------------------------------------------------------------------------------
// TFTP read request; the server answers from a new port (its transfer id).

class Tftp : public Codec {
 public:
  std::string build(const Params& p, std::uint32_t) const override {
    std::string out;
    wire::put_u16(out, 1);  // RRQ
    out += param_str(p, "filename", "probe.txt");
    out.push_back('\0');
    out += param_str(p, "mode", "octet");
    out.push_back('\0');
    return out;
  }
  Decoded decode(const Params&, std::string_view, const std::vector<std::string>& dgrams) const override {
    Decoded d;
    for (const auto& g : dgrams) {
      wire::Reader r(g);
      auto op = r.u16();
      auto arg = r.u16();
      if (!r.ok() || (op != 3 && op != 5 && op != 6)) continue;
      if (op == 3 && arg != 1) continue;
      if (++d.valid_datagrams > 1) continue;
      if (op == 3) {
        d.add("reply", "data");
        d.add_num("block_bytes", static_cast<double>(r.remaining()));
        d.open = true;
      } else if (op == 6) {
        d.add("reply", "option-ack");
        d.open = true;
      } else {
        d.add("reply", "error");
        d.add_num("error_code", arg);
        auto msg = r.rest();
        d.add("message", wire::printable(msg.substr(0, msg.find('\0')), 100));
      }
    }
    d.valid = d.valid_datagrams > 0;
    return d;
  }
};

}  // namespace

const Codec& dns_codec() {
  static const Dns c;
  return c;
}
const Codec& ssdp_codec() {
  static const Ssdp c;
  return c;
}
const Codec& memcached_codec() {
  static const Memcached c;
  return c;
}
const Codec& chargen_codec() {
  static const Chargen c;
  return c;
}
const Codec& qotd_codec() {
  static const Qotd c;
  return c;
}
const Codec& snmp_codec() {
  static const Snmp c;
  return c;
}
const Codec& portmap_codec() {
  static const Portmap c;
  return c;
}
const Codec& netbios_codec() {
  static const Netbios c;
  return c;
}
const Codec& cldap_codec() {
  static const Cldap c;
  return c;
}
const Codec& wsd_codec() {
  static const Wsd c;
  return c;
}
const Codec& coap_codec() {
  static const Coap c;
  return c;
}
const Codec& ard_codec() {
  static const Ard c;
  return c;
}
const Codec& tftp_codec() {
  static const Tftp c;
  return c;
}

}  // namespace klartext::probe::detail
