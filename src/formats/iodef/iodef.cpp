// IODEF: Incident -> events (source System addresses, times, Impact class, RecordItem evidence).
#include "formats/iodef/iodef.hpp"

#include "formats/iodef/xml.hpp"
#include "formats/mail/mail.hpp"
#include "formats/mail/report_types.hpp"

namespace klartext::formats::iodef {

using mail::lower;
using mail::trim;

namespace {

constexpr std::size_t kMaxRawBytes = 256 << 10;

std::string text_of(const XmlNode* n) {
  return n == nullptr ? std::string() : std::string(trim(n->text));
}

std::optional<core::Timestamp> time_of(const XmlNode& scope, std::initializer_list<std::string_view> names) {
  for (auto n : names) {
    if (const XmlNode* t = scope.find_first(n)) {
      if (auto ts = core::Timestamp::parse(trim(t->text))) return ts;
    }
  }
  return std::nullopt;
}

struct Source {
  const XmlNode* system = nullptr;
  std::optional<core::IpAddress> ip;
  std::string fqdn;
  std::string url;
  std::optional<std::uint16_t> port;
  std::string protocol;
};

std::vector<Source> sources_of(const XmlNode& incident) {
  std::vector<Source> out;
  std::vector<const XmlNode*> systems;
  incident.find_all("System", systems);
  for (const XmlNode* sys : systems) {
    std::string_view cat = sys->attr("category");
    if (!cat.empty() && cat != "source") continue;
    Source s;
    s.system = sys;
    std::vector<const XmlNode*> addrs;
    sys->find_all("Address", addrs);
    for (const XmlNode* a : addrs) {
      std::string v = text_of(a);
      std::string_view ac = a->attr("category");
      if (auto ip = core::IpAddress::parse(v); ip && !s.ip) {
        s.ip = ip;
      } else if ((ac == "url" || v.find("://") != std::string::npos) && s.url.empty()) {
        s.url = v;
      }
    }
    if (const XmlNode* name = sys->find_first("NodeName"); name != nullptr && s.fqdn.empty()) s.fqdn = text_of(name);
    if (const XmlNode* name = sys->find_first("DomainName"); name != nullptr && s.fqdn.empty()) s.fqdn = text_of(name);
    if (const XmlNode* svc = sys->find_first("Service")) {
      std::string proto = std::string(svc->attr("ip_protocol"));
      if (proto.empty()) proto = std::string(svc->attr("ip-protocol"));
      if (proto == "6") s.protocol = "tcp";
      if (proto == "17") s.protocol = "udp";
      if (const XmlNode* p = svc->child("Port")) {
        std::string pv = text_of(p);
        unsigned v = 0;
        bool ok = !pv.empty() && pv.size() <= 5;
        for (char c : pv) ok = ok && c >= '0' && c <= '9' && ((v = v * 10 + static_cast<unsigned>(c - '0')), true);
        if (ok && v > 0 && v <= 65535) s.port = static_cast<std::uint16_t>(v);
      }
    }
    if (s.ip || !s.fqdn.empty() || !s.url.empty()) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

bool looks_like_iodef(std::string_view text) {
  std::string_view head = text.substr(0, 4096);
  return head.find("IODEF-Document") != std::string_view::npos;
}

bool parse_iodef(ParseContext& ctx, std::string_view xml, const mail::ParsedMail& mail) {
  XmlLimits limits;
  limits.max_depth = ctx.limits().max_json_depth;
  auto doc = parse_xml(xml, limits);
  if (!doc) {
    ctx.set_format("iodef", "invalid-xml");
    ctx.issue(doc.error().code, 0, 0, "IODEF document unreadable: " + doc.error().message, xml.substr(0, 200));
    return true;
  }
  const XmlNode& root = *doc;
  if (root.name != "IODEF-Document") {
    ctx.issue("iodef-no-document", 0, 0, "XML root is not IODEF-Document but " + root.name);
    return false;
  }
  std::string version(root.attr("version"));
  ctx.set_format("iodef", version.empty() ? "iodef" : "iodef-" + version);
  const auto& table = mail::ReportTypes::instance(ctx.options().data_dir);
  std::size_t n = 0;
  for (const XmlNode* incident : root.children_named("Incident")) {
    // Impact (v1) or SystemImpact (v2); AbuseIO puts its class into ext-type of an ext-value.
    std::string impact_type, ext_type;
    const XmlNode* impact = incident->find_first("Impact");
    if (impact == nullptr) impact = incident->find_first("SystemImpact");
    if (impact != nullptr) {
      impact_type = lower(impact->attr("type"));
      ext_type = lower(impact->attr("ext-type"));
    }
    std::optional<core::Classification> c;
    std::string label = impact_type;
    if (!ext_type.empty()) {
      c = table.find("iodef", ext_type);
      label = ext_type;
    }
    if (!c && !impact_type.empty() && impact_type != "ext-value") c = table.find("iodef", impact_type);
    if (!c) {
      ctx.issue("iodef-unknown-impact", 0, 0, "IODEF Impact not in data/formats/report_types.yaml: " + label,
                text_of(impact));
    }
    std::string method;
    if (const XmlNode* m = incident->find_first("Method")) {
      if (const XmlNode* rn = m->find_first("ReferenceName")) method = text_of(rn);
      if (method.empty()) method = text_of(m->find_first("Description"));
    }
    std::string incident_id = text_of(incident->child("IncidentID"));
    auto t = time_of(*incident, {"StartTime", "DetectTime", "EndTime"});
    auto observed = time_of(*incident, {"ReportTime", "GenerationTime"});
    // The evidence: RecordItems (logs, the original complaint) and the Incident's description.
    std::string evidence;
    std::vector<const XmlNode*> items;
    incident->find_all("RecordItem", items);
    for (const XmlNode* it : items) {
      if (!evidence.empty()) evidence += "\n";
      evidence += trim(it->text);
    }
    auto sources = sources_of(*incident);
    if (sources.empty()) {
      ctx.issue("iodef-no-source", 0, 0, "IODEF Incident without a source System address", incident_id);
      continue;
    }
    for (const auto& s : sources) {
      core::Event e = mail::new_event(mail, "iodef");
      e.set_classification(c ? *c : core::Classification::undetermined());
      if (s.ip) e.set_source_ip(*s.ip);
      if (!s.fqdn.empty()) e.set("source.fqdn", s.fqdn);
      if (!s.url.empty()) e.set("source.url", s.url);
      if (s.port) e.set_source_port(*s.port);
      if (!s.protocol.empty()) e.set("protocol.transport", s.protocol);
      if (!label.empty()) e.set("extra.report_type", label);
      if (!method.empty()) e.set("extra.method", method);
      if (!incident_id.empty()) e.set("extra.incident_id", incident_id);
      if (auto d = text_of(incident->child("Description")); !d.empty()) e.set("event_description.text", d);
      mail::set_event_time(e, t ? t : observed, mail);
      if (observed) e.set_time_observation(*observed);
      // The Incident element is the evidence; with several sources each event quotes its own
      // System element plus the records, so events stay distinct.
      if (sources.size() == 1) {
        e.raw.assign(xml.substr(incident->begin, std::min(kMaxRawBytes, incident->end - incident->begin)));
      } else {
        e.raw.assign(xml.substr(s.system->begin, s.system->end - s.system->begin));
        e.raw += "\n";
        e.raw += evidence.substr(0, kMaxRawBytes);
      }
      ctx.emit(e);
      ++n;
    }
  }
  if (n == 0 && root.children_named("Incident").empty()) {
    ctx.issue("iodef-no-incident", 0, 0, "IODEF document without an Incident");
  }
  return true;
}

bool parse_iodef_mail(ParseContext& ctx, const mail::ParsedMail& mail) {
  for (const auto& p : mail.parts) {
    if (p.is_message || p.body.empty()) continue;
    if (looks_like_iodef(p.body)) return parse_iodef(ctx, p.body, mail);
  }
  return false;
}

namespace {
class IodefFormat final : public Format {
 public:
  std::string_view name() const override { return "iodef"; }
  int sniff(const Input& input) const override {
    std::string_view head = trim(input.data.substr(0, 4096));
    return head.starts_with("<") && looks_like_iodef(head) ? 80 : 0;
  }
  void parse(ParseContext& ctx) const override {
    mail::ParsedMail none;
    parse_iodef(ctx, ctx.input().data, none);
  }
};
}  // namespace

const Format& iodef_format() {
  static const IodefFormat kFormat;
  return kFormat;
}

}  // namespace klartext::formats::iodef
