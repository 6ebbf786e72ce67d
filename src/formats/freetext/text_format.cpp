// The "text" format: standalone .txt/.log files (and simple header+body mails) read as free text.
#include <algorithm>
#include <string>

#include "core/event.hpp"
#include "formats/freetext/extract.hpp"
#include "formats/freetext/freetext.hpp"
#include "formats/mail/mail.hpp"

namespace klartext::formats {
namespace freetext::detail {
namespace {

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (std::size_t i = 0; i < suffix.size(); ++i) {
    char a = s[s.size() - suffix.size() + i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != suffix[i]) return false;
  }
  return true;
}

bool looks_textual(std::string_view head) {
  std::size_t bad = 0;
  for (char c : head) {
    auto u = static_cast<unsigned char>(c);
    if (u == 0) return false;
    if (u < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f') ++bad;
  }
  return bad * 100 <= head.size();
}

bool header_name_line(std::string_view line) {
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 76) return false;
  for (std::size_t i = 0; i < colon; ++i) {
    char c = line[i];
    if (c <= ' ' || c > '~') return false;  // RFC 5322 field names: printable ASCII except ':'
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

struct SimpleMail {
  std::string subject, from, date, encoding;
  std::string_view body;
  bool is_mail = false;
};

// Splits "Header: value" lines (unfolded) from the body, when the text starts like a mail.
SimpleMail split_headers(std::string_view data, std::size_t max_header_bytes) {
  SimpleMail m;
  m.body = data;
  if (data.empty() || !header_name_line(data.substr(0, data.find('\n')))) return m;
  std::size_t pos = 0;
  std::string* last = nullptr;
  int known = 0;
  while (pos < data.size() && pos < max_header_bytes) {
    std::size_t e = data.find('\n', pos);
    if (e == std::string_view::npos) e = data.size();
    std::string_view line = data.substr(pos, e - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = e + 1;
    if (line.empty()) {
      m.is_mail = known > 0;
      if (m.is_mail) m.body = data.substr(std::min(pos, data.size()));
      return m;
    }
    if (line.front() == ' ' || line.front() == '\t') {  // folded continuation
      std::size_t text = line.find_first_not_of(" \t");
      if (last != nullptr && text != std::string_view::npos) {
        *last += ' ';
        *last += line.substr(text);
      }
      continue;
    }
    if (!header_name_line(line)) return m;
    std::size_t colon = line.find(':');
    std::string name = lower(line.substr(0, colon));
    std::string_view value = line.substr(colon + 1);
    value.remove_prefix(std::min(value.find_first_not_of(" \t"), value.size()));
    last = nullptr;
    if (name == "subject") last = &m.subject;
    if (name == "from") last = &m.from;
    if (name == "date") last = &m.date;
    if (name == "content-transfer-encoding") last = &m.encoding;
    if (last != nullptr) *last = std::string(value);
    if (name == "subject" || name == "from" || name == "date" || name == "received" || name == "message-id" ||
        name == "return-path" || name == "to") {
      ++known;
    }
  }
  return m;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode_quoted_printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '=') {
      out += s[i];
      continue;
    }
    if (i + 1 < s.size() && (s[i + 1] == '\n' || s[i + 1] == '\r')) {
      i += (s[i + 1] == '\r' && i + 2 < s.size() && s[i + 2] == '\n') ? 2 : 1;
      continue;
    }
    if (i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
      continue;
    }
    out += '=';
  }
  return out;
}

// The domain of a From address: "Abuse <abuse@example.org>" -> "example.org".
std::string sender_domain(std::string_view from) {
  std::size_t at = from.rfind('@');
  if (at == std::string_view::npos) return {};
  std::size_t e = from.find_first_of("> \t\"", at);
  return lower(from.substr(at + 1, e == std::string_view::npos ? std::string_view::npos : e - at - 1));
}

class TextFormat final : public Format {
 public:
  std::string_view name() const override { return "text"; }

  int sniff(const Input& input) const override {
    // A mail scores at least 60, more than this reader ever gives: skip the address search.
    if (mail::mail_format().sniff(input) > 0) return 0;
    std::string_view head = input.data.substr(0, 64 << 10);
    if (!looks_textual(head)) return 0;
    const std::string& n = input.filename_hint.empty() ? input.name : input.filename_hint;
    if (ends_with_ci(n, ".txt") || ends_with_ci(n, ".log")) return 40;
    // Anything else textual that names an address: the last resort, below every structured format.
    if (freetext::find_ips(head.substr(0, std::min<std::size_t>(head.size(), 16 << 10))).empty()) {
      bool any = false;
      std::size_t lines = 0;
      for (std::size_t b = 0; b < head.size() && lines < 2000 && !any; ++lines) {
        std::size_t e = head.find('\n', b);
        if (e == std::string_view::npos) e = head.size();
        any = !freetext::find_ips(freetext::refang(head.substr(b, e - b))).empty();
        b = e + 1;
      }
      if (!any) return 0;
    }
    std::string_view first = head.substr(0, head.find('\n'));
    std::size_t delims = static_cast<std::size_t>(std::count(first.begin(), first.end(), ',') +
                                                  std::count(first.begin(), first.end(), '\t'));
    if (delims >= 3 && freetext::find_ips(first).empty()) return 0;  // a table: leave it to the CSV readers
    return 2;
  }

  void parse(ParseContext& ctx) const override {
    SimpleMail m = split_headers(ctx.input().data, ctx.limits().max_header_bytes);
    TextReport report;
    std::string decoded;
    std::string provider;
    if (m.is_mail) {
      // A whole mail that the mail format's sniffing passed over (e.g. a header block longer than
      // it looks at): the mail parser still reads it better than we do, with MIME decoding.
      if (const Format* mail = find_format("mail"); mail != nullptr && mail != this) {
        ctx.set_format(mail->name());
        mail->parse(ctx);
        return;
      }
      ctx.set_format("text", "mail-headers");
      std::string enc = lower(m.encoding);
      if (enc.find("quoted-printable") != std::string::npos) {
        decoded = decode_quoted_printable(m.body);
        report.body = decoded;
      } else if (enc.find("base64") != std::string::npos) {
        decoded = core::base64_decode(m.body);
        report.body = decoded;
      } else {
        report.body = m.body;
      }
      report.subject = m.subject;
      report.from = m.from;
      if (!m.date.empty()) report.sent = core::Timestamp::parse_rfc5322(m.date);
      provider = sender_domain(m.from);
      report.feed_provider = provider;
    } else {
      report.body = ctx.input().data;
    }
    // A text without an address is still a report we read (the issue says what was missing).
    ctx.set_kind(InputKind::kAbuseReport);
    parse_free_text(ctx, report);
  }
};

}  // namespace
}  // namespace freetext::detail

const Format* text_format() {
  static const freetext::detail::TextFormat kFormat;
  return &kFormat;
}

}  // namespace klartext::formats
