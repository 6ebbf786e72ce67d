// SpamCop: "Email from <ip> / <date>" -> spam source; "Spamvertised web site: <url>" -> the site.
#include "formats/spamcop/spamcop.hpp"

#include "formats/mail/mail.hpp"

namespace klartext::formats::spamcop {

using mail::icontains;
using mail::trim;

namespace {

constexpr std::size_t kMaxRawBytes = 256 << 10;

std::string_view next_line(std::string_view text, std::size_t& pos) {
  std::size_t eol = text.find('\n', pos);
  std::string_view line = text.substr(pos, (eol == std::string_view::npos ? text.size() : eol) - pos);
  pos = eol == std::string_view::npos ? text.size() : eol + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// "[ Offending message ]" and everything after it: the evidence.
std::string_view offending(std::string_view text) {
  std::size_t at = text.find("[ Offending message ]");
  return at == std::string_view::npos ? std::string_view{} : text.substr(at);
}

std::size_t parse_lines(ParseContext& ctx, const mail::ParsedMail& mail, std::string_view text, bool only_sites,
                        bool& header_ip);

bool parse_text(ParseContext& ctx, const mail::ParsedMail& mail, std::string_view text) {
  bool header_ip = false;
  std::size_t n = parse_lines(ctx, mail, text, false, header_ip);
  if (n == 0) return false;
  ctx.set_format("spamcop", "spam-report");
  return true;
}

std::size_t parse_lines(ParseContext& ctx, const mail::ParsedMail& mail, std::string_view text, bool only_sites,
                        bool& header_ip_out) {
  std::size_t version = text.find("[ SpamCop V");
  bool header_ip = !only_sites && !mail::header(mail.fields, "X-Spamcop-Sourceip").empty();
  header_ip_out = header_ip;
  if (version == std::string_view::npos && !header_ip) return 0;
  std::string_view body = version == std::string_view::npos ? text : text.substr(version);
  std::string_view evidence = offending(body);
  std::size_t n = 0;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::string_view line = next_line(body, pos);
    if (line.starts_with("[ Offending message ]")) break;
    if (line.starts_with("Email from ") && !only_sites) {
      // "Email from 192.0.2.1 / Tue, 18 Jan 2022 13:24:01 +0100"
      std::string_view rest = line.substr(11);
      std::size_t slash = rest.find(" / ");
      auto ip = core::IpAddress::parse(trim(rest.substr(0, slash)));
      if (!ip) continue;
      core::Event e = mail::new_event(mail, "spamcop");
      e.set_classification(core::Classification::of(core::IncidentType::kSpam, "spam-source"));
      e.set_source_ip(*ip);
      std::optional<core::Timestamp> t;
      if (slash != std::string_view::npos) t = core::Timestamp::parse_rfc5322(trim(rest.substr(slash + 3)));
      mail::set_event_time(e, t, mail);
      e.raw = std::string(line) + "\n" + std::string(evidence.substr(0, kMaxRawBytes));
      ctx.emit(e);
      ++n;
    } else if (line.starts_with("Spamvertised web site: ")) {
      std::string_view url = trim(line.substr(23));
      // The resolution line "<url> is <ip>; <date>" follows after the SpamCop link.
      std::optional<core::IpAddress> ip;
      std::optional<core::Timestamp> t;
      std::string resolved;
      std::size_t look = pos;
      for (int i = 0; i < 3 && look < body.size(); ++i) {
        std::string_view l2 = next_line(body, look);
        std::size_t is = l2.rfind(" is ");
        if (is == std::string_view::npos) continue;
        std::string_view tail = l2.substr(is + 4);
        std::size_t semi = tail.find(';');
        ip = core::IpAddress::parse(trim(tail.substr(0, semi)));
        if (ip && semi != std::string_view::npos) t = core::Timestamp::parse_rfc5322(trim(tail.substr(semi + 1)));
        if (ip) {
          resolved = std::string(l2);
          break;
        }
      }
      core::Event e = mail::new_event(mail, "spamcop");
      e.set_classification(core::Classification::of(core::IncidentType::kSpam, "spamvertised"));
      e.set("source.url", url);
      if (ip) e.set_source_ip(*ip);
      mail::set_event_time(e, t, mail);
      e.raw = std::string(line) + "\n" + resolved + "\n" + std::string(evidence.substr(0, kMaxRawBytes));
      ctx.emit(e);
      ++n;
    }
  }
  if (n == 0 && header_ip) {
    auto ip = core::IpAddress::parse(trim(mail::header(mail.fields, "X-Spamcop-Sourceip")));
    if (ip) {
      core::Event e = mail::new_event(mail, "spamcop");
      e.set_classification(core::Classification::of(core::IncidentType::kSpam, "spam-source"));
      e.set_source_ip(*ip);
      mail::set_event_time(e, std::nullopt, mail);
      e.raw = "X-Spamcop-Sourceip: " + ip->to_string() + "\n" + std::string(body.substr(0, kMaxRawBytes));
      ctx.emit(e);
      ++n;
    }
  }
  return n;
}

}  // namespace

std::size_t parse_spamvertised(ParseContext& ctx, const mail::ParsedMail& mail) {
  for (const auto& p : mail.parts) {
    if (!p.is_text() || p.body.find("[ SpamCop V") == std::string::npos) continue;
    bool unused = false;
    return parse_lines(ctx, mail, p.body, true, unused);
  }
  return 0;
}

bool parse_spamcop(ParseContext& ctx, const mail::ParsedMail& mail) {
  if (!icontains(mail.subject, "spamcop") && mail::header(mail.fields, "X-Spamcop-Sourceip").empty()) {
    bool marker = false;
    for (const auto& p : mail.parts) {
      if (p.is_text() && p.body.find("[ SpamCop V") != std::string::npos) marker = true;
    }
    if (!marker) return false;
  }
  const std::string& text = mail::mail_text(mail);
  return parse_text(ctx, mail, text);
}

namespace {
class SpamcopFormat final : public Format {
 public:
  std::string_view name() const override { return "spamcop"; }
  int sniff(const Input& input) const override {
    if (input.data.substr(0, 4096).find("[ SpamCop V") == std::string_view::npos) return 0;
    return mail::mail_format().sniff(input) > 0 ? 0 : 70;  // a whole mail goes through MIME first
  }
  void parse(ParseContext& ctx) const override {
    mail::ParsedMail none;
    if (!parse_text(ctx, none, ctx.input().data)) {
      ctx.issue("spamcop-no-source", 0, 0, "SpamCop report without an \"Email from\" or spamvertised site line");
    }
  }
};
}  // namespace

const Format& spamcop_format() {
  static const SpamcopFormat kFormat;
  return kFormat;
}

}  // namespace klartext::formats::spamcop
