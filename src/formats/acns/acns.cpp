// ACNS 1.2/2.x: Source (IP, port, time, protocol) and Content (title, file) -> one fraud/copyright event.
#include "formats/acns/acns.hpp"

#include "formats/iodef/xml.hpp"
#include "formats/mail/mail.hpp"

namespace klartext::formats::acns {

using mail::lower;
using mail::trim;

namespace {

std::string_view block(std::string_view text) {
  std::size_t start = text.find("<Infringement");
  if (start == std::string_view::npos) return {};
  std::size_t end = text.find("</Infringement>", start);
  if (end == std::string_view::npos) return {};
  return text.substr(start, end + 15 - start);
}

std::string text_of(const iodef::XmlNode* n) {
  return n == nullptr ? std::string() : std::string(trim(n->text));
}

}  // namespace

bool parse_acns(ParseContext& ctx, std::string_view text, const mail::ParsedMail& mail) {
  std::string_view xml = block(text);
  if (xml.empty()) return false;
  iodef::XmlLimits limits;
  limits.max_depth = ctx.limits().max_json_depth;
  auto doc = iodef::parse_xml(xml, limits);
  ctx.set_format("acns", "copyright");
  if (!doc) {
    // Broken XML is common in these notices: record it and let the free-text reader try.
    ctx.issue(doc.error().code, 0, 0, "ACNS notice unreadable: " + doc.error().message, xml.substr(0, 200));
    return false;
  }
  const iodef::XmlNode* source = doc->child("Source");
  if (source == nullptr) {
    ctx.issue("acns-no-source", 0, 0, "ACNS notice without a Source element", xml.substr(0, 200));
    return true;
  }
  core::Event e = mail::new_event(mail, "acns");
  std::string type = lower(text_of(source->child("Type")));
  e.set_classification(
      core::Classification::of(core::IncidentType::kCopyright, type == "p2p" ? "copyright-p2p" : "copyright"));
  if (auto ip = core::IpAddress::parse(text_of(source->child("IP_Address")))) e.set_source_ip(*ip);
  std::string port = text_of(source->child("Port"));
  if (!port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos) {
    int v = std::stoi(port);
    if (v > 0 && v <= 65535) e.set_source_port(static_cast<std::uint16_t>(v));
  }
  if (auto dns = text_of(source->child("DNS_Name")); !dns.empty() && dns != "unknown") e.set("source.fqdn", dns);
  if (auto url = text_of(source->child("URL_Base")); !url.empty()) e.set("source.url", url);
  if (const iodef::XmlNode* sub = source->child("SubType")) {
    if (auto p = sub->attr("Protocol"); !p.empty()) e.set("protocol.application", lower(p));
  }
  mail::set_event_time(e, core::Timestamp::parse(text_of(source->child("TimeStamp"))), mail);
  if (const iodef::XmlNode* c = doc->child("Case")) {
    if (auto id = text_of(c->child("ID")); !id.empty()) e.set("extra.case_id", id);
  }
  if (const iodef::XmlNode* c = doc->child("Complainant")) {
    if (auto v = text_of(c->child("Entity")); !v.empty()) e.set("extra.complainant", v);
  }
  if (const iodef::XmlNode* item = doc->find_first("Item")) {
    if (auto v = text_of(item->child("Title")); !v.empty()) e.set("extra.title", v);
    if (auto v = text_of(item->child("FileName")); !v.empty()) e.set("extra.file_name", v);
  }
  if (!e.source_ip() && !e.has("source.url") && !e.has("source.fqdn")) {
    ctx.issue("acns-no-source", 0, 0, "ACNS Source without IP_Address, DNS_Name or URL_Base", xml.substr(0, 200));
  }
  e.raw.assign(xml.substr(0, 256 << 10));
  ctx.emit(e);
  return true;
}

bool parse_acns_mail(ParseContext& ctx, const mail::ParsedMail& mail) {
  for (const auto& p : mail.parts) {
    if (p.is_message || p.body.empty()) continue;
    if (p.body.find("<Infringement") == std::string::npos) continue;
    if (parse_acns(ctx, p.body, mail)) return true;
  }
  return false;
}

namespace {
class AcnsFormat final : public Format {
 public:
  std::string_view name() const override { return "acns"; }
  int sniff(const Input& input) const override {
    std::string_view head = trim(input.data.substr(0, 4096));
    if (!head.starts_with("<") || head.find("<Infringement") == std::string_view::npos) return 0;
    return mail::mail_format().sniff(input) > 0 ? 0 : 80;
  }
  void parse(ParseContext& ctx) const override {
    mail::ParsedMail none;
    if (!parse_acns(ctx, ctx.input().data, none)) ctx.issue("acns-no-notice", 0, 0, "no complete <Infringement>");
  }
};
}  // namespace

const Format& acns_format() {
  static const AcnsFormat kFormat;
  return kFormat;
}

}  // namespace klartext::formats::acns
