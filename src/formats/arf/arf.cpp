// ARF: feedback-report fields to one event; spam only for an abuse complaint about a real message.
#include "formats/arf/arf.hpp"

#include <algorithm>

#include "formats/mail/mail.hpp"
#include "formats/mail/report_types.hpp"

namespace klartext::formats::arf {

using mail::header;
using mail::icontains;
using mail::iequals;
using mail::lower;
using mail::trim;

namespace {

constexpr std::size_t kMaxRawBytes = 256 << 10;

// "192.0.2.1 (mx.example.org)", "[192.0.2.1]", "IPv6:2001:db8::1" -> the address.
std::optional<core::IpAddress> parse_ip_field(std::string_view v) {
  v = trim(v);
  if (auto sp = v.find_first_of(" \t("); sp != std::string_view::npos) v = v.substr(0, sp);
  if (v.starts_with("[") && v.ends_with("]")) v = v.substr(1, v.size() - 2);
  if (mail::iequals(v.substr(0, std::min<std::size_t>(5, v.size())), "ipv6:")) v.remove_prefix(5);
  return core::IpAddress::parse(v);
}

bool usable(const core::IpAddress& ip) {
  return !ip.is_private() && !ip.is_loopback() && !ip.is_unspecified() && !ip.is_multicast() && !ip.is_broadcast();
}

bool host_in(std::string_view host, const std::vector<std::string>& domains) {
  std::string h = lower(host);
  while (!h.empty() && h.back() == '.') h.pop_back();
  for (const auto& d : domains) {
    if (d.empty()) continue;
    if (h == d || (h.size() > d.size() && h.ends_with(d) && h[h.size() - d.size() - 1] == '.')) return true;
  }
  return false;
}

// Registrable-ish domain: last two labels (three for two-letter second levels like co.uk).
std::string base_domain(std::string_view host) {
  std::string h = lower(trim(host));
  std::size_t last = h.rfind('.');
  if (last == std::string::npos || last == 0) return h;
  std::size_t second = h.rfind('.', last - 1);
  if (second == std::string::npos) return h;
  if (last - second <= 3) {
    std::size_t third = h.rfind('.', second - 1);
    return third == std::string::npos ? h : h.substr(third + 1);
  }
  return h.substr(second + 1);
}

void emit_arf(ParseContext& ctx, const mail::ParsedMail& mail, const mail::HeaderFields& f,
              std::string_view report_text, std::string_view original_headers, bool has_original) {
  std::string type = lower(trim(header(f, "Feedback-Type")));
  ctx.set_format("arf", type.empty() ? "unknown" : type);
  if (type == "not-spam") {
    // RFC 6430: the reporter says a message is NOT spam. Nothing abusive to handle.
    ctx.set_format("arf", "not-spam");
    ctx.set_kind(InputKind::kNotAReport);
    return;
  }
  const auto& table = mail::ReportTypes::instance(ctx.options().data_dir);
  std::string key = type;
  if ((type == "abuse" || type == "spam") && !has_original) key = "abuse-no-message";
  if (type == "fraud" && (icontains(mail.subject, "phish") || icontains(report_text, "phish"))) key = "fraud-phishing";
  auto c = table.find("arf", key);
  core::Classification cl = c ? *c : core::Classification::undetermined();
  if (type == "auth-failure") {
    std::string af = lower(trim(header(f, "Auth-Failure")));
    if (!af.empty()) cl.identifier = "auth-failure-" + af.substr(0, af.find_first_of(" ;"));
  }
  if (!c) {
    ctx.issue("arf-unknown-feedback-type", 0, 0, "Feedback-Type not in data/formats/report_types.yaml: " + type,
              report_text.substr(0, 200));
  }
  if ((type == "abuse" || type == "spam") && !has_original) {
    ctx.issue("arf-no-original", 0, 0, "ARF abuse report without the original message: not classified as spam",
              report_text.substr(0, 200), "RFC 5965 requires the reported message (or its header) as the third part");
  }

  core::Event e = mail::new_event(mail, "arf");
  e.set_classification(cl);
  e.set("extra.feedback_type", type);
  auto orig = mail::parse_header_block(original_headers);

  std::optional<core::IpAddress> src = parse_ip_field(header(f, "Source-IP"));
  if (src) {
    e.set("extra.source_ip_origin", "source-ip");
  } else if (!orig.empty()) {
    std::vector<std::string> own;
    if (!mail.from_domain.empty()) own.push_back(base_domain(mail.from_domain));
    std::string_view mta = header(f, "Reporting-MTA");
    if (auto semi = mta.find(';'); semi != std::string_view::npos) own.push_back(base_domain(mta.substr(semi + 1)));
    src = source_from_received(mail::headers(orig, "Received"), own);
    if (src) e.set("extra.source_ip_origin", "received-chain");
  }
  if (src) {
    e.set_source_ip(*src);
  } else {
    ctx.issue("arf-no-source", 0, 0, "ARF report without Source-IP and no usable Received hop",
              report_text.substr(0, 200));
  }
  if (auto p = trim(header(f, "Source-Port")); !p.empty()) {
    unsigned v = 0;
    bool ok = p.size() <= 5;
    for (char ch : p) ok = ok && ch >= '0' && ch <= '9' && ((v = v * 10 + static_cast<unsigned>(ch - '0')), true);
    if (ok && v > 0 && v <= 65535) e.set_source_port(static_cast<std::uint16_t>(v));
  }
  std::string_view when = header(f, "Arrival-Date");
  if (when.empty()) when = header(f, "Received-Date");
  std::optional<core::Timestamp> t;
  if (!when.empty()) t = core::Timestamp::parse_rfc5322(when);
  if (!when.empty() && !t) t = core::Timestamp::parse(when);
  if (!t) {
    if (auto d = header(orig, "Date"); !d.empty()) t = core::Timestamp::parse_rfc5322(d);
  }
  mail::set_event_time(e, t, mail);
  auto put = [&](std::string_view key, std::string_view v) {
    v = trim(v);
    if (!v.empty()) e.set(key, v);
  };
  put("extra.user_agent", header(f, "User-Agent"));
  put("extra.arf_version", header(f, "Version"));
  put("extra.reporting_mta", header(f, "Reporting-MTA"));
  put("extra.original_mail_from", header(f, "Original-Mail-From"));
  put("extra.original_rcpt_to", header(f, "Original-Rcpt-To"));
  put("extra.reported_domain", header(f, "Reported-Domain"));
  put("extra.incidents", header(f, "Incidents"));
  put("extra.auth_failure", header(f, "Auth-Failure"));
  put("extra.delivery_result", header(f, "Delivery-Result"));
  put("extra.dkim_domain", header(f, "DKIM-Domain"));
  put("source.url", header(f, "Reported-URI"));
  put("extra.original_subject", header(orig, "Subject"));
  put("extra.original_message_id", header(orig, "Message-ID"));
  e.raw.assign(report_text.substr(0, kMaxRawBytes));
  if (!original_headers.empty()) {
    if (!e.raw.ends_with("\n")) e.raw += "\n";
    e.raw += "\n";
    e.raw.append(original_headers.substr(0, kMaxRawBytes));
  }
  ctx.emit(e);
}

}  // namespace

std::optional<core::IpAddress> source_from_received(const std::vector<std::string_view>& received,
                                                    const std::vector<std::string>& own_domains) {
  for (std::string_view r : received) {
    std::string l = lower(r);
    std::size_t from = l.find("from ");
    if (from == std::string::npos) continue;
    std::size_t by = l.find(" by ", from);
    std::string_view clause =
        std::string_view(r).substr(from + 5, (by == std::string::npos ? r.size() : by) - from - 5);
    std::string_view helo = trim(clause.substr(0, clause.find_first_of(" \t(")));
    // Connecting address: inside [...] (possibly "IPv6:"), else a bare address token.
    std::optional<core::IpAddress> ip;
    std::string_view rdns;
    for (std::size_t lb = clause.find('['); lb != std::string_view::npos && !ip; lb = clause.find('[', lb + 1)) {
      std::size_t rb = clause.find(']', lb);
      if (rb == std::string_view::npos) break;
      ip = parse_ip_field(clause.substr(lb, rb - lb + 1));
      // "(rdns.example [192.0.2.1])": the name before the bracket is the verified reverse name.
      std::size_t open = clause.rfind('(', lb);
      if (open != std::string_view::npos) rdns = trim(clause.substr(open + 1, lb - open - 1));
    }
    if (!ip) ip = parse_ip_field(helo);
    if (!ip) continue;
    if (!usable(*ip)) continue;
    if (host_in(rdns, own_domains) || (rdns.empty() && host_in(helo, own_domains))) continue;
    return ip;
  }
  return std::nullopt;
}

bool parse_arf(ParseContext& ctx, const mail::ParsedMail& mail) {
  const mail::MimePart* report = nullptr;
  for (const auto& p : mail.parts) {
    if (p.content_type == "message/feedback-report") {
      report = &p;
      break;
    }
  }
  if (report == nullptr) {
    // Mislabelled senders: a text part whose header block starts with Feedback-Type.
    for (const auto& p : mail.parts) {
      if (!p.is_text() || p.body.size() > (64 << 10)) continue;
      if (!mail::icontains(p.body, "Feedback-Type")) continue;  // the field must be there: skip the parse
      auto f = mail::parse_header_block(p.body);
      if (!f.empty() && iequals(f.front().name, "Feedback-Type") && !header(f, "Version").empty()) {
        report = &p;
        break;
      }
    }
  }
  if (report == nullptr) return false;
  auto fields = mail::parse_header_block(report->body);
  // The original: the next message/rfc822 or text/rfc822-headers part after the report.
  std::string_view original_headers;
  bool has_original = false;
  for (const auto& p : mail.parts) {
    if (p.index <= report->index) continue;
    if (p.is_message || p.content_type == "text/rfc822-headers" || p.content_type == "text/rfc822-header") {
      std::string_view body = p.body;
      std::size_t end = mail::header_block_length(body, body.size());
      original_headers = end == std::string_view::npos ? body : body.substr(0, end);
      has_original = !trim(original_headers).empty();
      break;
    }
  }
  emit_arf(ctx, mail, fields, report->body, original_headers, has_original);
  return true;
}

namespace {

class ArfFormat final : public Format {
 public:
  std::string_view name() const override { return "arf"; }
  int sniff(const Input& input) const override {
    std::string_view head = input.data.substr(0, 4096);
    if (!icontains(head, "Feedback-Type")) return 0;  // the first field's name: skip the parse
    auto f = mail::parse_header_block(head);
    return !f.empty() && iequals(f.front().name, "Feedback-Type") ? 80 : 0;
  }
  void parse(ParseContext& ctx) const override {
    mail::ParsedMail none;
    auto fields = mail::parse_header_block(ctx.input().data);
    emit_arf(ctx, none, fields, ctx.input().data, {}, false);
  }
};

}  // namespace

const Format& arf_format() {
  static const ArfFormat kFormat;
  return kFormat;
}

}  // namespace klartext::formats::arf
