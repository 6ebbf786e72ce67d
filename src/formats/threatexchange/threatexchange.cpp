// ThreatExchange threat descriptors -> events (indicator, resolved address, owner feed, status).
#include "formats/threatexchange/threatexchange.hpp"

#include <nlohmann/json.hpp>

#include "formats/mail/mail.hpp"
#include "formats/mail/report_types.hpp"

namespace klartext::formats::threatexchange {
namespace {

using Json = nlohmann::json;

// Descriptors per input beyond which the rest is recorded as one issue (hostile or runaway input).
constexpr std::size_t kMaxDescriptors = 100'000;

std::string str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Parses `text` as JSON within the depth limit; discarded (is_discarded) when invalid or too deep.
Json parse_limited(std::string_view text, std::uint64_t max_depth, bool& too_deep) {
  too_deep = false;
  Json::parser_callback_t cb = [&](int depth, Json::parse_event_t, Json&) {
    if (static_cast<std::uint64_t>(depth) > max_depth) too_deep = true;
    return !too_deep;
  };
  return Json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/false);
}

// `line`: the descriptor's line in JSON Lines input, else 0.
void emit_descriptor(ParseContext& ctx, const Json& d, std::string_view raw, const mail::ParsedMail& mail,
                     std::uint64_t line) {
  const auto& table = mail::ReportTypes::instance(ctx.options().data_dir);
  std::string owner;
  if (auto o = d.find("owner"); o != d.end() && o->is_object()) owner = str(*o, "name");
  std::string indicator = str(d, "raw_indicator");
  std::string type = str(d, "type");
  if (auto ind = d.find("indicator"); ind != d.end() && ind->is_object()) {
    if (indicator.empty()) indicator = str(*ind, "indicator");
    if (type.empty()) type = str(*ind, "type");
  }
  const std::string status = str(d, "status");
  const std::string label = owner + "/" + type;
  std::optional<core::Classification> c;
  if (mail::iequals(status, "MALICIOUS")) c = table.find("threatexchange", label);
  if (!c) {
    ctx.issue("threatexchange-unknown-type", line, 0,
              "ThreatExchange descriptor (owner/type " + label + ", status " + status +
                  ") not in data/formats/report_types.yaml: kept as other/undetermined",
              raw.substr(0, 200));
  }
  core::Event e = mail::new_event(mail, owner.empty() ? "threatexchange" : owner);
  e.set_classification(c ? *c : core::Classification::undetermined());
  const std::string ltype = mail::lower(type);
  if (ltype == "uri" || ltype == "url") {
    e.set("source.url", indicator);
  } else if (auto ip = core::IpAddress::parse(indicator); ip && (ltype == "ip_address" || ltype.empty())) {
    e.set_source_ip(*ip);
  } else if (ltype == "domain") {
    e.set("source.fqdn", indicator);
  } else if (!indicator.empty()) {
    e.set("extra.indicator", indicator);
  }
  // The address the feed resolved the indicator to, and where that address is routed.
  if (auto en = d.find("enrichments"); en != d.end() && en->is_object()) {
    if (!e.source_ip()) {
      if (auto ip = core::IpAddress::parse(str(*en, "domain_address"))) e.set_source_ip(*ip);
    }
    if (auto asn = str(*en, "ip_asn");
        !asn.empty() && asn.size() <= 10 && asn.find_first_not_of("0123456789") == std::string::npos) {
      e.set_int("source.asn", static_cast<std::int64_t>(std::stoll(asn)));
    }
    if (auto cc = str(*en, "ip_bgpcountry"); cc.size() == 2) e.set("source.geolocation.cc", cc);
    if (auto fqdn = str(*en, "domain_name"); !fqdn.empty()) e.set("extra.registered_domain", fqdn);
  }
  if (!type.empty()) e.set("extra.report_type", label);
  if (!status.empty()) e.set("extra.status", status);
  if (auto v = str(d, "description"); !v.empty()) e.set("extra.description", v);
  if (auto v = str(d, "id"); !v.empty()) e.set("extra.descriptor_id", v);
  if (auto it = d.find("confidence"); it != d.end() && it->is_number_integer()) {
    e.set_int("extra.confidence", it->get<std::int64_t>());
  }
  mail::set_event_time(e, core::Timestamp::parse(str(d, "added_on")), mail);
  e.raw.assign(raw);
  if (!e.source_ip() && !e.has("source.url") && !e.has("source.fqdn")) {
    ctx.issue("threatexchange-no-indicator", line, 0, "ThreatExchange descriptor names no address, URL or domain",
              raw.substr(0, 200));
    return;
  }
  ctx.emit(e);
}

}  // namespace

bool looks_like_threat_descriptor(std::string_view text) {
  std::string_view head = text.substr(0, 8192);
  auto first = head.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || (head[first] != '{' && head[first] != '[')) return false;
  return head.find("\"raw_indicator\"") != std::string_view::npos && head.find("\"owner\"") != std::string_view::npos &&
         head.find("\"status\"") != std::string_view::npos;
}

bool parse_threat_descriptors(ParseContext& ctx, std::string_view text, const mail::ParsedMail& mail) {
  ctx.set_format("threatexchange", "threat-descriptor");
  // A single object, an array of them, or one object per line (JSON Lines).
  std::vector<std::pair<std::string_view, std::uint64_t>> docs;  // text, line
  bool too_deep = false;
  Json whole = parse_limited(text, ctx.limits().max_json_depth, too_deep);
  if (!whole.is_discarded() && !too_deep) {
    if (whole.is_object()) whole = Json::array({std::move(whole)});
    if (!whole.is_array()) {
      ctx.issue("threatexchange-invalid", 0, 0, "ThreatExchange report is neither an object nor a list",
                text.substr(0, 200));
      return true;
    }
    std::size_t n = 0;
    for (const auto& d : whole) {
      if (++n > kMaxDescriptors) {
        ctx.issue("threatexchange-limit", 0, 0, "more descriptors than the limit; the rest is not read");
        break;
      }
      if (!d.is_object()) continue;
      // The evidence: the descriptor itself, as the reporter's JSON (a single object: its bytes).
      std::string raw = whole.size() == 1 ? std::string(text) : d.dump();
      while (!raw.empty() && (raw.back() == '\n' || raw.back() == '\r')) raw.pop_back();
      emit_descriptor(ctx, d, raw, mail, 0);
    }
    return true;
  }
  std::uint64_t line = 0;
  std::size_t n = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    auto nl = text.find('\n', pos);
    std::string_view l = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line;
    if (l.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (++n > kMaxDescriptors) {
      ctx.issue("threatexchange-limit", line, 0, "more descriptors than the limit; the rest is not read");
      break;
    }
    Json d = parse_limited(l, ctx.limits().max_json_depth, too_deep);
    if (d.is_discarded() || too_deep || !d.is_object()) {
      ctx.issue("threatexchange-invalid", line, static_cast<std::uint64_t>(l.data() - text.data()),
                too_deep ? "descriptor nested deeper than limits.max_json_depth" : "line is not a JSON object",
                l.substr(0, 200));
      continue;
    }
    emit_descriptor(ctx, d, l, mail, line);
  }
  return true;
}

namespace {
class ThreatExchangeFormat final : public Format {
 public:
  std::string_view name() const override { return "threatexchange"; }
  int sniff(const Input& input) const override { return looks_like_threat_descriptor(input.data) ? 80 : 0; }
  void parse(ParseContext& ctx) const override {
    mail::ParsedMail none;
    parse_threat_descriptors(ctx, ctx.input().data, none);
  }
};
}  // namespace

const Format& threat_exchange_format() {
  static const ThreatExchangeFormat kFormat;
  return kFormat;
}

}  // namespace klartext::formats::threatexchange
