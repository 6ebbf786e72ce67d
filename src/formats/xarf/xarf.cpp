// X-ARF 0.x YAML and XARF v1-v4 JSON: fields to events, report types via data/formats/report_types.yaml.
#include "formats/xarf/xarf.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "formats/mail/mail.hpp"
#include "formats/mail/report_types.hpp"
#include "formats/xarf/evidence.hpp"
#include "knowledge/knowledge.hpp"

namespace klartext::formats::xarf {

using mail::icontains;
using mail::iequals;
using mail::lower;
using mail::trim;

namespace {

constexpr std::size_t kMaxRawBytes = 1 << 20;

std::string cap(std::string_view s) {
  return std::string(s.substr(0, kMaxRawBytes));
}

// "Key: value" lines, possibly quoted ("> ") in a forwarded body: returns the report block.
std::string extract_inline_block(std::string_view text) {
  std::string cleaned;
  std::size_t pos = 0;
  std::size_t start = std::string::npos;
  std::string out;
  bool in_block = false;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, (eol == std::string_view::npos ? text.size() : eol) - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    while (!line.empty() && (line.front() == '>' || line.front() == ' ')) line.remove_prefix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t colon = line.find(':');
    bool is_field = colon != std::string_view::npos && colon > 0 && colon < 40 &&
                    line.substr(0, colon).find(' ') == std::string_view::npos;
    if (!in_block) {
      if (is_field &&
          (line.starts_with("Reported-From") || line.starts_with("Category") || line.starts_with("Report-Type") ||
           line.starts_with("Schema-URL") || line.starts_with("Source"))) {
        in_block = true;
        start = 0;
      } else {
        continue;
      }
    }
    if (line.empty() || line == "---") {
      if (out.find("Report-Type") != std::string::npos && out.find("Source") != std::string::npos) break;
      continue;
    }
    if (!is_field) {
      if (out.find("Report-Type") != std::string::npos && out.find("Source") != std::string::npos) break;
      out.clear();
      in_block = false;
      continue;
    }
    out += line;
    out += '\n';
  }
  (void)start;
  return out;
}

// Key/value map from a YAML mapping, falling back to header-style lines when the text is not
// valid YAML (real senders write unquoted colons, tabs, "#" in values).
std::vector<std::pair<std::string, std::string>> read_report_fields(std::string_view report, ParseContext& ctx) {
  std::vector<std::pair<std::string, std::string>> out;
  try {
    YAML::Node root = YAML::Load(std::string(report));
    if (root.IsMap()) {
      for (const auto& kv : root) {
        std::string key = kv.first.as<std::string>("");
        if (kv.second.IsScalar()) {
          out.emplace_back(key, kv.second.as<std::string>(""));
        } else if (kv.second.IsSequence()) {
          std::string joined;
          for (const auto& v : kv.second) {
            if (!v.IsScalar()) continue;
            if (!joined.empty()) joined += ", ";
            joined += v.as<std::string>("");
          }
          out.emplace_back(key, joined);
        }
      }
      return out;
    }
  } catch (const YAML::Exception& e) {
    ctx.issue("xarf-yaml-invalid", static_cast<std::uint64_t>(e.mark.line + 1), 0,
              std::string("report.txt is not valid YAML, read as key/value lines: ") + e.msg, report.substr(0, 200));
  }
  for (auto& f : mail::parse_header_block(report)) out.emplace_back(std::move(f.name), std::move(f.value));
  return out;
}

std::string_view get(const std::vector<std::pair<std::string, std::string>>& f, std::string_view key) {
  for (const auto& [k, v] : f) {
    if (iequals(k, key)) return trim(v);
  }
  return {};
}

std::optional<core::Timestamp> parse_time(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  if (auto t = core::Timestamp::parse(s)) return t;
  return core::Timestamp::parse_rfc5322(s);
}

void set_source(core::Event& e, std::string_view source, std::string_view type) {
  source = trim(source);
  if (source.empty()) return;
  if (auto ip = core::IpAddress::parse(source)) {
    e.set_source_ip(*ip);
  } else if (source.find("://") != std::string_view::npos || iequals(type, "uri") || iequals(type, "url")) {
    e.set("source.url", source);
  } else if (auto pfx = core::IpPrefix::parse(source)) {
    e.set("source.network", pfx->to_string());
  } else {
    e.set("source.fqdn", source);
  }
}

std::optional<std::uint16_t> parse_port(std::string_view s) {
  s = trim(s);
  if (s.empty() || s.size() > 5) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v == 0 || v > 65535) return std::nullopt;  // fail2ban writes "Port: 0" for "unknown"
  return static_cast<std::uint16_t>(v);
}

// An open service that the knowledge base knows as a UDP amplifier, reached over UDP (or with the
// transport unstated but the service only ever exposed over UDP by the amplifier table), is the
// precise vulnerable/ddos-amplifier class; otherwise the generic open-service class stays.
core::Classification refine_open_service(const core::Classification& c, std::string_view service,
                                         std::string_view transport, const std::string& data_dir) {
  core::Classification out = c;
  if (service.empty()) return out;
  out.identifier = "open-" + lower(service);
  if (!transport.empty() && !iequals(transport, "udp")) return out;
  try {
    const auto* amp = knowledge::KnowledgeBase::instance(data_dir).find_amplifier(lower(service));
    if (amp != nullptr && (transport.empty() || iequals(amp->transport, transport)) && iequals(amp->transport, "udp")) {
      return core::Classification::of(core::IncidentType::kDdosAmplifier, amp->identifier);
    }
  } catch (const std::exception&) {
    // Knowledge data unreadable: keep the generic class.
  }
  return out;
}

// The address a report's own text gives for a URL source ("hxxps://host[.]example/x [192.0.2.1]").
std::optional<core::IpAddress> ip_for_url(const mail::ParsedMail& mail, std::string_view url) {
  std::size_t scheme = url.find("://");
  std::string_view host = url.substr(scheme == std::string_view::npos ? 0 : scheme + 3);
  host = host.substr(0, host.find_first_of("/:?#"));
  if (host.size() < 4 || mail.parts.empty()) return std::nullopt;
  const std::string& text = mail::mail_text(mail, false);
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    std::string_view raw = std::string_view(text).substr(pos, (eol == std::string::npos ? text.size() : eol) - pos);
    pos = eol == std::string::npos ? text.size() : eol + 1;
    std::string line;  // refanged: "[.]" -> "."
    line.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw.substr(i, 3) == "[.]") {
        line.push_back('.');
        i += 2;
      } else {
        line.push_back(raw[i]);
      }
    }
    if (!icontains(line, host)) continue;
    for (std::size_t rb = line.rfind(']'); rb != std::string::npos && rb > 0; rb = line.rfind(']', rb - 1)) {
      std::size_t lb = line.rfind('[', rb);
      if (lb == std::string::npos) break;
      if (auto ip = core::IpAddress::parse(std::string_view(line).substr(lb + 1, rb - lb - 1))) return ip;
      if (lb == 0) break;
      rb = lb;
    }
  }
  return std::nullopt;
}

// The evidence part of an X-ARF mail: the part after the report, or the one named by Attachment.
std::string_view find_evidence(const mail::ParsedMail& mail, std::size_t report_index) {
  for (const auto& p : mail.parts) {
    if (p.index <= report_index || p.body.empty()) continue;
    if (p.is_text() || p.is_message) return p.body;
  }
  return {};
}

}  // namespace

bool looks_like_xarf_yaml(std::string_view text) {
  text = text.substr(0, 64 << 10);
  if (!icontains(text, "Report-Type:")) return false;
  int keys = 0;
  for (std::string_view k : {"Reported-From:", "Category:", "Schema-URL:", "Source-Type:", "Source:", "Report-ID:"}) {
    if (icontains(text, k)) ++keys;
  }
  return keys >= 2;
}

bool parse_xarf_yaml(ParseContext& ctx, std::string_view report, std::string_view evidence,
                     const mail::ParsedMail& mail) {
  auto f = read_report_fields(report, ctx);
  std::string_view report_type = get(f, "Report-Type");
  std::string_view category = get(f, "Category");
  if (report_type.empty() && category.empty()) return false;
  ctx.set_format("x-arf", lower(std::string(category) + "/" + std::string(report_type)));

  core::Event e = mail::new_event(mail, "x-arf");
  const auto& table = mail::ReportTypes::instance(ctx.options().data_dir);
  std::string label = lower(std::string(category) + "/" + std::string(report_type));
  auto c = table.find("xarf0", label);
  if (!c) c = table.find("xarf0", "*/" + lower(report_type));
  e.set("extra.report_type", label);
  // The evidence wins when it clearly shows something the label does not say.
  if (auto ev = classify_evidence(evidence); ev && (!c || c->type != ev->type)) {
    e.set("extra.classification_basis", "evidence");
    c = ev;
  } else if (ev && c && c->identifier == "login-attack") {
    c->identifier = ev->identifier;  // same class; the log names the service
  }
  if (c && c->type == core::IncidentType::kBruteForce && c->identifier == "login-attack" &&
      !get(f, "Service").empty()) {
    c->identifier = lower(get(f, "Service"));
  }
  e.set_classification(c ? *c : core::Classification::undetermined());
  if (!c) {
    ctx.issue("xarf-unknown-type", 0, 0, "X-ARF report type not in data/formats/report_types.yaml: " + label, report,
              "add the type to the table once its meaning is known");
  }

  set_source(e, get(f, "Source"), get(f, "Source-Type"));
  if (auto url = e.get("source.url"); url && !e.source_ip()) {
    if (auto ip = ip_for_url(mail, *url)) {
      e.set_source_ip(*ip);
      e.set("extra.source_ip_origin", "report-text");
    }
  }
  if (!e.source_ip() && !e.has("source.url") && !e.has("source.fqdn")) {
    ctx.issue("xarf-no-source", 0, 0, "X-ARF report without a usable Source", report);
  }
  if (auto p = parse_port(get(f, "Source-Port"))) e.set_source_port(*p);
  std::string_view dport = get(f, "Destination-Port");
  if (dport.empty()) dport = get(f, "Port");
  if (dport.empty()) dport = get(f, "Ports");
  if (auto p = parse_port(dport)) e.set_destination_port(*p);
  std::string_view dest = get(f, "Destination");
  if (auto ip = core::IpAddress::parse(dest)) e.set_destination_ip(*ip);
  if (auto v = get(f, "Service"); !v.empty()) e.set("protocol.application", lower(v));
  std::string_view occ = get(f, "Occurrences");
  if (occ.empty()) occ = get(f, "Occurances");  // fail2ban's spelling
  if (!occ.empty()) e.set("extra.occurrences", occ);
  if (auto v = get(f, "Report-ID"); !v.empty()) e.set("extra.report_id", v);
  if (auto v = get(f, "Reported-From"); !v.empty()) e.set("extra.reported_from", v);
  if (auto v = get(f, "Schema-URL"); !v.empty()) e.set("extra.schema_url", v);
  if (auto v = get(f, "Version"); !v.empty()) e.set("extra.xarf_version", v);
  if (auto v = get(f, "User-Agent"); !v.empty()) e.set("extra.user_agent", v);
  if (auto v = get(f, "TLP"); !v.empty()) e.set("tlp", lower(v));
  if (auto v = get(f, "URL"); !v.empty()) e.set("source.url", v);
  if (auto v = get(f, "Bot-Name"); !v.empty()) e.set("malware.name", lower(v));
  if (auto v = get(f, "Malware-MD5"); !v.empty()) e.set("malware.hash.md5", lower(v));
  if (auto v = get(f, "DNSBL"); !v.empty()) e.set("extra.dnsbl", v);
  if (auto v = get(f, "Domain"); !v.empty() && !e.has("source.fqdn")) e.set("source.fqdn", v);
  mail::set_event_time(e, parse_time(get(f, "Date")), mail);

  e.raw = cap(report);
  if (!evidence.empty()) {
    e.raw += "\n";
    e.raw += cap(evidence);
  }
  ctx.emit(e);
  return true;
}

bool parse_xarf_yaml_mail(ParseContext& ctx, const mail::ParsedMail& mail) {
  // A report.txt part (or any text part with the X-ARF keys) ...
  for (const auto& p : mail.parts) {
    if (!p.is_text() && !p.content_type.empty()) continue;
    std::string_view body = p.body;
    bool named = iequals(p.filename, "report.txt") || iequals(p.filename, "report.yaml");
    if (!named && !looks_like_xarf_yaml(body)) continue;
    // A whole text part that is the report, or a forwarded body quoting it.
    auto first = mail::parse_header_block(body);
    bool whole =
        !first.empty() && (iequals(first.front().name, "Reported-From") || iequals(first.front().name, "Category") ||
                           iequals(first.front().name, "Report-Type") || body.starts_with("---"));
    if (named || whole) {
      std::string_view report = body;
      if (report.starts_with("---")) report.remove_prefix(std::min(report.size(), report.find('\n') + 1));
      if (parse_xarf_yaml(ctx, report, find_evidence(mail, p.index), mail)) return true;
      continue;
    }
    std::string block = extract_inline_block(body);
    if (!block.empty() && looks_like_xarf_yaml(block)) {
      // Evidence of an inline report is whatever follows it in the same body.
      std::string_view ev = find_evidence(mail, p.index);
      if (parse_xarf_yaml(ctx, block, ev, mail)) {
        ctx.set_format("x-arf", std::string(ctx.summary().detail) + " (inline)");
        return true;
      }
    }
  }
  return false;
}

// ---- JSON ----

namespace {

using Json = nlohmann::json;

std::size_t json_depth(std::string_view s) {
  std::size_t depth = 0, max = 0;
  bool in_str = false, esc = false;
  for (char c : s) {
    if (in_str) {
      if (esc) {
        esc = false;
      } else if (c == '\\') {
        esc = true;
      } else if (c == '"') {
        in_str = false;
      }
      continue;
    }
    if (c == '"') {
      in_str = true;
    } else if (c == '{' || c == '[') {
      max = std::max(max, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return max;
}

std::string str(const Json& j, std::string_view key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  if (it->is_primitive()) return it->dump();
  return {};
}

std::optional<std::uint16_t> port(const Json& j, std::string_view key) {
  auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (it->is_number_integer()) {
    auto v = it->get<std::int64_t>();
    if (v > 0 && v <= 65535) return static_cast<std::uint16_t>(v);
    return std::nullopt;
  }
  if (it->is_string()) return parse_port(it->get<std::string>());
  return std::nullopt;
}

void require(ParseContext& ctx, const Json& j, std::initializer_list<std::string_view> keys, std::string_view where) {
  for (auto k : keys) {
    if (!j.contains(k) || j[std::string(k)].is_null()) {
      ctx.issue("xarf-schema", 0, 0,
                std::string("XARF report misses required field ") + std::string(where) + std::string(k), {},
                "the event is kept; the sender's report does not follow the schema");
    }
  }
}

// Type-specific required fields of XARF v4 (xarf-spec schemas/v4/types).
void validate_v4(ParseContext& ctx, const Json& j, const std::string& category, const std::string& type) {
  require(ctx, j,
          {"xarf_version", "report_id", "timestamp", "reporter", "sender", "source_identifier", "category", "type"},
          "");
  std::string v = str(j, "xarf_version");
  if (!v.empty() && !(v.size() >= 5 && v[0] == '4' && v[1] == '.')) {
    ctx.issue("xarf-schema", 0, 0, "xarf_version is not 4.x.y: " + v);
  }
  auto ip = core::IpAddress::parse(str(j, "source_identifier"));
  if (category == "messaging") {
    require(ctx, j, {"protocol"}, "");
    if (str(j, "protocol") == "smtp") require(ctx, j, {"smtp_from", "source_port"}, "");
    if (type == "bulk_messaging") require(ctx, j, {"recipient_count"}, "");
  } else if (category == "connection") {
    require(ctx, j, {"protocol", "first_seen"}, "");
    if (ip && (type == "login_attack" || type == "port_scan" || type == "ddos")) require(ctx, j, {"source_port"}, "");
    if (type == "infected_host") require(ctx, j, {"bot_type"}, "");
    if (type == "reconnaissance") require(ctx, j, {"probed_resources"}, "");
    if (type == "scraping") require(ctx, j, {"total_requests"}, "");
    if (type == "vulnerability_scan") require(ctx, j, {"scan_type"}, "");
  } else if (category == "vulnerability") {
    require(ctx, j, {"service"}, "");
    if (type == "cve") require(ctx, j, {"service_port", "cve_id"}, "");
  } else if (category == "content") {
    require(ctx, j, {"url"}, "");
    if (type == "fraud") require(ctx, j, {"fraud_type"}, "");
    if (type == "brand_infringement") require(ctx, j, {"infringement_type", "legitimate_site"}, "");
    if (type == "csam") require(ctx, j, {"classification", "detection_method"}, "");
    if (type == "csem") require(ctx, j, {"detection_method", "exploitation_type"}, "");
    if (type == "exposed_data") require(ctx, j, {"data_types", "exposure_method"}, "");
    if (type == "remote_compromise") require(ctx, j, {"compromise_type"}, "");
    if (type == "suspicious_registration") require(ctx, j, {"registration_date", "suspicious_indicators"}, "");
  } else if (category == "infrastructure") {
    if (type == "botnet") require(ctx, j, {"compromise_evidence"}, "");
    if (type == "compromised_server") require(ctx, j, {"compromise_method"}, "");
  } else if (category == "reputation") {
    require(ctx, j, {"threat_type"}, "");
  } else if (category == "copyright") {
    if (type == "p2p") {
      require(ctx, j, {"p2p_protocol", "swarm_info"}, "");
    } else if (type == "usenet") {
      require(ctx, j, {"newsgroup", "message_info"}, "");
    } else {
      require(ctx, j, {"infringing_url"}, "");
    }
  }
  if (j.contains("reporter") && j["reporter"].is_object()) {
    require(ctx, j["reporter"], {"org", "contact", "domain"}, "reporter.");
  }
}

void emit_v4(ParseContext& ctx, const Json& j, std::string_view text, const mail::ParsedMail& mail) {
  std::string category = lower(str(j, "category"));
  std::string type = lower(str(j, "type"));
  validate_v4(ctx, j, category, type);
  ctx.set_format("xarf", "v4 " + category + "/" + type);
  core::Event e = mail::new_event(mail, "xarf");
  if (j.contains("reporter") && j["reporter"].is_object()) {
    if (auto d = str(j["reporter"], "domain"); !d.empty()) e.set("feed.provider", d);
    if (auto o = str(j["reporter"], "org"); !o.empty()) e.set("extra.reporter_org", o);
  }
  auto c = mail::ReportTypes::instance(ctx.options().data_dir).find("xarf4", category + "/" + type);
  e.set("extra.report_type", category + "/" + type);
  if (!c) {
    ctx.issue("xarf-unknown-type", 0, 0,
              "XARF v4 category/type not in data/formats/report_types.yaml: " + category + "/" + type);
  }
  // An "open_service" report names its service; an amplifier service is a precise identifier.
  core::Classification cl = c ? *c : core::Classification::undetermined();
  if (c && (type == "open_service" || type == "open")) {
    cl = refine_open_service(cl, str(j, "service"), str(j, "protocol"), ctx.options().data_dir);
  }
  e.set_classification(cl);
  std::string src = str(j, "source_identifier");
  set_source(e, src, {});
  if (auto p = port(j, "source_port")) e.set_source_port(*p);
  if (auto ip = core::IpAddress::parse(str(j, "destination_ip"))) e.set_destination_ip(*ip);
  if (auto p = port(j, "destination_port")) e.set_destination_port(*p);
  if (auto p = port(j, "service_port"); p && !e.destination_port()) e.set_destination_port(*p);
  if (auto v = str(j, "protocol"); !v.empty()) e.set("protocol.transport", lower(v));
  if (auto v = str(j, "service"); !v.empty()) e.set("protocol.application", lower(v));
  if (auto v = str(j, "url"); !v.empty() && !e.has("source.url")) e.set("source.url", v);
  if (auto v = str(j, "report_id"); !v.empty()) e.set("extra.report_id", v);
  if (auto v = str(j, "description"); !v.empty()) e.set("event_description.text", v);
  if (auto v = str(j, "evidence_source"); !v.empty()) e.set("extra.evidence_source", v);
  if (auto v = str(j, "cve_id"); !v.empty()) e.set("extra.cve", v);
  if (auto v = str(j, "xarf_version"); !v.empty()) e.set("extra.xarf_version", v);
  auto t = parse_time(str(j, "timestamp"));
  if (!t) t = parse_time(str(j, "first_seen"));
  mail::set_event_time(e, t, mail);
  e.raw = cap(text);
  ctx.emit(e);
}

void emit_v3(ParseContext& ctx, const Json& j, std::string_view text, const mail::ParsedMail& mail) {
  require(ctx, j, {"Version", "ReporterInfo", "Report"}, "");
  const Json empty = Json::object();
  const Json& r = j.contains("Report") && j["Report"].is_object() ? j["Report"] : empty;
  require(ctx, r, {"ReportClass", "ReportType", "Date"}, "Report.");
  std::string cls = lower(str(r, "ReportClass"));
  std::string type = lower(str(r, "ReportType"));
  // Built by appends: g++ 12 -O2 reports a false -Wrestrict for the chained operator+.
  std::string detail = "v";
  detail.append(str(j, "Version")).append(" ").append(cls).append("/").append(type);
  ctx.set_format("xarf", detail);
  core::Event e = mail::new_event(mail, "xarf");
  if (j.contains("ReporterInfo") && j["ReporterInfo"].is_object()) {
    const Json& ri = j["ReporterInfo"];
    if (auto d = str(ri, "ReporterOrgDomain"); !d.empty()) e.set("feed.provider", d);
    if (auto o = str(ri, "ReporterOrg"); !o.empty()) e.set("extra.reporter_org", o);
  }
  auto c = mail::ReportTypes::instance(ctx.options().data_dir).find("xarf3", cls + "/" + type);
  e.set("extra.report_type", cls + "/" + type);
  if (!c) ctx.issue("xarf-unknown-type", 0, 0, "XARF ReportClass/ReportType not in the table: " + cls + "/" + type);
  core::Classification cl = c ? *c : core::Classification::undetermined();
  if (c && type == "openservice") {
    cl = refine_open_service(cl, str(r, "ServiceName"), str(r, "TransportProtocol"), ctx.options().data_dir);
  }
  e.set_classification(cl);
  std::string src = str(r, "SourceIp");
  if (src.empty()) src = str(r, "SourceUrl");
  if (src.empty()) src = str(r, "Url");
  set_source(e, src, {});
  if (auto p = port(r, "SourcePort")) e.set_source_port(*p);
  if (auto ip = core::IpAddress::parse(str(r, "DestinationIp"))) e.set_destination_ip(*ip);
  if (auto p = port(r, "DestinationPort")) e.set_destination_port(*p);
  if (auto v = str(r, "ServiceName"); !v.empty()) e.set("protocol.application", lower(v));
  if (auto v = str(r, "TransportProtocol"); !v.empty()) e.set("protocol.transport", lower(v));
  if (auto v = str(r, "BotnetName"); !v.empty()) e.set("malware.name", lower(v));
  if (auto v = str(r, "ReportSubType"); !v.empty()) e.set("extra.report_subtype", v);
  if (!e.source_ip() && !e.has("source.url") && !e.has("source.fqdn")) {
    ctx.issue("xarf-no-source", 0, 0, "XARF report without SourceIp");
  }
  mail::set_event_time(e, parse_time(str(r, "Date")), mail);
  e.raw = cap(text);
  ctx.emit(e);
}

}  // namespace

bool looks_like_xarf_json(std::string_view text) {
  std::string_view t = trim(text.substr(0, 4096));
  if (t.empty() || t.front() != '{') return false;
  return text.find("\"xarf_version\"") != std::string_view::npos ||
         (text.find("\"ReporterInfo\"") != std::string_view::npos && text.find("\"Report\"") != std::string_view::npos);
}

bool parse_xarf_json(ParseContext& ctx, std::string_view text, const mail::ParsedMail& mail) {
  if (json_depth(text) > ctx.limits().max_json_depth) {
    ctx.issue("json-depth-limit", 0, 0, "XARF JSON nested deeper than limits.max_json_depth", text.substr(0, 200));
    return false;
  }
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    // Real senders write bare words such as `"SourcePort": n/a`; retry with those nulled.
    std::string fixed(text);
    for (std::size_t at = fixed.find(": n/a"); at != std::string::npos; at = fixed.find(": n/a", at)) {
      fixed.replace(at, 5, ": null");
    }
    j = Json::parse(fixed, nullptr, false);
    if (j.is_discarded()) {
      // Recorded; the mail's other parts (or its free text) may still say what happened.
      ctx.issue("xarf-json-invalid", 0, 0, "XARF report is not valid JSON", text.substr(0, 200));
      return false;
    }
    ctx.issue("xarf-json-invalid", 0, 0, "XARF report is not valid JSON (bare n/a values); read after repair",
              text.substr(0, 200));
  }
  if (!j.is_object()) {
    ctx.issue("xarf-json-invalid", 0, 0, "XARF report is not a JSON object", text.substr(0, 200));
    return true;
  }
  if (j.contains("xarf_version")) {
    emit_v4(ctx, j, text, mail);
  } else {
    emit_v3(ctx, j, text, mail);
  }
  return true;
}

bool parse_xarf_json_mail(ParseContext& ctx, const mail::ParsedMail& mail) {
  for (const auto& p : mail.parts) {
    if (p.is_message || p.body.empty()) continue;
    bool candidate = p.content_type == "application/json" || icontains(p.filename, ".json") ||
                     (p.is_text() && p.body.size() < (4 << 20));
    if (candidate && looks_like_xarf_json(p.body)) return parse_xarf_json(ctx, p.body, mail);
  }
  return false;
}

namespace {

class XarfYamlFormat final : public Format {
 public:
  std::string_view name() const override { return "x-arf"; }
  int sniff(const Input& input) const override {
    std::string_view d = input.data.substr(0, 4096);
    if (d.starts_with("---")) d.remove_prefix(std::min(d.size(), d.find('\n') + 1));
    if (!looks_like_xarf_yaml(d)) return 0;  // no allocation for the common case
    auto fields = mail::parse_header_block(d);
    if (fields.empty()) return 0;
    bool first = iequals(fields.front().name, "Reported-From") || iequals(fields.front().name, "Category") ||
                 iequals(fields.front().name, "Report-Type");
    return first ? 80 : 0;
  }
  void parse(ParseContext& ctx) const override {
    mail::ParsedMail none;
    if (!parse_xarf_yaml(ctx, ctx.input().data, {}, none)) {
      ctx.issue("xarf-no-report", 0, 0, "no Report-Type or Category in this X-ARF report");
    }
  }
};

class XarfJsonFormat final : public Format {
 public:
  std::string_view name() const override { return "xarf"; }
  int sniff(const Input& input) const override { return looks_like_xarf_json(input.data) ? 80 : 0; }
  void parse(ParseContext& ctx) const override {
    mail::ParsedMail none;
    parse_xarf_json(ctx, ctx.input().data, none);
  }
};

}  // namespace

const Format& xarf_yaml_format() {
  static const XarfYamlFormat kFormat;
  return kFormat;
}
const Format& xarf_json_format() {
  static const XarfJsonFormat kFormat;
  return kFormat;
}

}  // namespace klartext::formats::xarf
