// The mail Format: RFC 5322 sniffing, the linking sink, and routing to the report parsers.
#include <algorithm>
#include <cstring>
#include <utility>

#include "formats/acns/acns.hpp"
#include "formats/arf/arf.hpp"
#include "formats/certnotice/certnotice.hpp"
#include "formats/freetext/freetext.hpp"
#include "formats/iodef/iodef.hpp"
#include "formats/mail/archive.hpp"
#include "formats/mail/mail.hpp"
#include "formats/shadowserver/shadowserver.hpp"
#include "formats/spamcop/spamcop.hpp"
#include "formats/threatexchange/threatexchange.hpp"
#include "formats/xarf/xarf.hpp"

namespace klartext::formats::mail {

namespace {

// Adds the link to the original mail to every event of the mail and forwards issues, so the
// counts land in the mail's own summary.
class LinkingSink : public Sink {
 public:
  LinkingSink(ParseContext& outer, const ParsedMail& mail) : outer_(outer), mail_(mail) {}
  void on_event(const core::Event& e) override {
    scratch_ = e;
    for (const auto& [key, value] : links()) scratch_.set(key, value);
    if (!scratch_.has("feed.provider") && !mail_.from_domain.empty()) scratch_.set("feed.provider", mail_.from_domain);
    outer_.emit(scratch_);
  }
  // The fast path of CSV attachments (parse's JSON Lines sink): the parser writes into the outer
  // buffer and renders link_members() itself (ParseOptions::json_extra_members). A mail inside a
  // mail takes the general path, where the outer mail's link replaces the inner one.
  std::string* event_json_buffer() override { return nested_ ? nullptr : outer_.event_json_buffer(); }
  void on_event_json(const core::Classification& classification) override { outer_.emitted_json(classification); }
  // The members on_event adds, for parsers that serialize events themselves.
  std::vector<std::pair<std::string, std::string>> link_members() { return links(); }
  void set_nested(bool nested) { nested_ = nested; }

  void on_issue(const ParseIssue& i) override {
    std::string reason = i.reason;
    if (i.input != outer_.input().name) reason += " [in " + i.input + "]";
    outer_.issue(i.code, i.line, i.byte_offset, std::move(reason), i.excerpt, i.hint);
  }

 private:
  // The link to the original mail, the same for every event; built on the first event only: most
  // mails make none, and hashing a large one costs.
  const std::vector<std::pair<std::string, std::string>>& links() {
    if (!links_.empty()) return links_;
    links_.emplace_back("extra.mail_input", outer_.input().name);
    links_.emplace_back("extra.mail_sha256", core::sha256_hex(outer_.input().data));
    if (!mail_.message_id.empty()) links_.emplace_back("extra.mail_message_id", mail_.message_id);
    if (!mail_.subject.empty()) links_.emplace_back("extra.mail_subject", mail_.subject);
    if (mail_.date) links_.emplace_back("extra.mail_date", mail_.date->to_iso());
    return links_;
  }

  ParseContext& outer_;
  const ParsedMail& mail_;
  std::vector<std::pair<std::string, std::string>> links_;
  bool nested_ = false;
  core::Event scratch_;
};

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

bool looks_like_csv(std::string_view name, std::string_view content_type, std::string_view body) {
  if (ends_with_ci(name, ".csv") || content_type == "text/csv" || content_type == "application/csv") return true;
  // First line with several commas and no spaces around them: a header row.
  std::string_view first = body.substr(0, body.find('\n'));
  return std::count(first.begin(), first.end(), ',') >= 3 && first.find("timestamp") != std::string_view::npos;
}

// Hands one attachment (or archive member) to the parser that recognizes it.
bool handle_attachment(ParseContext& ctx, const ParsedMail& mail, const std::string& name, std::string_view ctype,
                       std::string_view body) {
  if (body.empty()) return false;
  if (iodef::looks_like_iodef(body)) return iodef::parse_iodef(ctx, body, mail);
  if (xarf::looks_like_xarf_json(body)) return xarf::parse_xarf_json(ctx, body, mail);
  if (threatexchange::looks_like_threat_descriptor(body))
    return threatexchange::parse_threat_descriptors(ctx, body, mail);
  if (looks_like_csv(name, ctype, body)) {
    Input child;
    child.name = ctx.input().name + "#" + name;
    child.filename_hint = name;
    child.data = body;
    // Not a Shadowserver report: a CERT's own table (IP column plus evidence columns).
    if (shadowserver::format().sniff(child) == 0 && certnotice::parse_notice_text(ctx, mail.subject, body, mail)) {
      return true;
    }
    InputSummary s = ctx.parse_child(child);
    if (!s.format.empty() && s.format != "unknown") ctx.set_format(s.format, s.detail);
    return s.events > 0 || s.kind == InputKind::kNotAReport;
  }
  return false;
}

// Archive members are read this far before one is parsed while it decompresses (streamed).
constexpr std::size_t kStreamHeadBytes = 1 << 20;
static_assert(kStreamHeadBytes >= (64 << 10), "every sniffer must see all it looks at");

// A large member that handle_attachment would give to the Shadowserver CSV parser, as decided from
// its head alone: every check on the way looks at the first 64 KiB at most, so the decision is the
// one the whole member gets (a member that may be JSON is not streamed: its test reads further).
bool stream_as_shadowserver_csv(ParseContext& ctx, const ArchiveMember& m, const Input& child) {
  std::string_view head = m.bytes();
  if (m.complete() || head.size() < kStreamHeadBytes || !m.hint_within_limits()) return false;
  if (iodef::looks_like_iodef(head) || threatexchange::looks_like_threat_descriptor(head)) return false;
  if (std::string_view t = trim(head.substr(0, 4096)); !t.empty() && t.front() == '{') return false;
  if (head.find('\n') == std::string_view::npos || !looks_like_csv(m.name(), {}, head)) return false;
  if (static_cast<std::uint64_t>(ctx.depth() + 1) > ctx.limits().max_mime_depth) return false;
  return sniffed_format(child) == &shadowserver::format();
}

bool handle_member(ParseContext& ctx, const ParsedMail& mail, ArchiveMember& m) {
  Input child;
  child.name = ctx.input().name + "#" + m.name();
  child.filename_hint = m.name();
  child.data = m.bytes();
  child.more = &m;
  if (!stream_as_shadowserver_csv(ctx, m, child)) {
    if (!m.read_all()) return false;
    return handle_attachment(ctx, mail, m.name(), {}, m.bytes());
  }
  // What handle_attachment does for a CSV report, with the rest of the member read while parsing.
  InputSummary s = ctx.parse_child(child);
  if (!s.format.empty() && s.format != "unknown") ctx.set_format(s.format, s.detail);
  return s.events > 0 || s.kind == InputKind::kNotAReport;
}

bool parse_attachments(ParseContext& ctx, const ParsedMail& mail) {
  bool any = false;
  for (const auto& p : mail.parts) {
    if (p.is_message || p.body.empty()) continue;
    bool named = !p.filename.empty() || p.attachment;
    if (!named && p.content_type != "text/csv") continue;
    std::string name = p.filename.empty() ? "part" + std::to_string(p.index) : p.filename;
    if (looks_compressed(p.body)) {
      for_each_member(
          p.body, name, ctx, [&](ArchiveMember& member) { any = handle_member(ctx, mail, member) || any; },
          kStreamHeadBytes);
    } else {
      any = handle_attachment(ctx, mail, name, p.content_type, p.body) || any;
    }
  }
  return any;
}

class MailFormat final : public Format {
 public:
  std::string_view name() const override { return "mail"; }
  int sniff(const Input& input) const override {
    std::string_view d = input.data.substr(0, 64 << 10);  // DKIM/ARC/Received blocks can be long
    if (d.starts_with("From ")) d.remove_prefix(std::min(d.size(), d.find('\n') + 1));
    // Every line up to the empty line must be a header field or a continuation, and at least
    // two well-known mail header fields must be among them.
    int known = 0;
    std::size_t pos = 0;
    while (pos < d.size()) {
      std::size_t eol = d.find('\n', pos);
      std::string_view line = d.substr(pos, (eol == std::string_view::npos ? d.size() : eol) - pos);
      pos = eol == std::string_view::npos ? d.size() : eol + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) break;
      if (line.front() == ' ' || line.front() == '\t') {
        if (pos == line.size() + 1) return 0;  // a continuation cannot come first
        continue;
      }
      std::size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) return 0;
      for (char c : line.substr(0, colon)) {
        if (c <= ' ' || c > '~') return 0;
      }
      std::string_view name = line.substr(0, colon);
      for (std::string_view h : {"From", "Date", "Subject", "Received", "Message-ID", "MIME-Version", "To",
                                 "Return-Path", "Content-Type", "Delivered-To"}) {
        if (iequals(name, h)) {
          ++known;
          break;
        }
      }
      // Four well-known fields: certainly a mail, whatever its file name says (a file named
      // like a Shadowserver report can still be the mail that carried it).
      if (known >= 4) return 90;
    }
    return known >= 2 ? 60 : 0;
  }
  void parse(ParseContext& ctx) const override { parse_mail(ctx); }
};

}  // namespace

const Format& mail_format() {
  static const MailFormat kFormat;
  return kFormat;
}

core::Event new_event(const ParsedMail& mail, std::string_view feed_name) {
  core::Event e;
  reset_event(e, mail, feed_name);
  return e;
}

void reset_event(core::Event& e, const ParsedMail& mail, std::string_view feed_name) {
  e.clear();
  if (!mail.from_domain.empty()) e.set("feed.provider", mail.from_domain);
  e.set("feed.name", feed_name);
}

void set_event_time(core::Event& e, std::optional<core::Timestamp> t, const ParsedMail& mail) {
  if (t) {
    e.set_time_source(*t);
  } else if (mail.date) {
    e.set_time_source(*mail.date);
    e.set("extra.time_source_origin", "mail-date");
  }
}

namespace {

// Offset of the first case-insensitive occurrence of `lower_needle` (lower case) in `hay`, npos when none.
std::size_t ifind(std::string_view hay, std::string_view lower_needle) {
  if (lower_needle.empty() || hay.size() < lower_needle.size()) return std::string_view::npos;
  const std::size_t last = hay.size() - lower_needle.size();
  for (std::size_t i = 0; i <= last; ++i) {
    const void* p = std::memchr(hay.data() + i, lower_needle[0], last + 1 - i);
    if (p == nullptr) return std::string_view::npos;  // the needles start with '<': no case to fold
    i = static_cast<std::size_t>(static_cast<const char*>(p) - hay.data());
    if (iequals(hay.substr(i, lower_needle.size()), lower_needle)) return i;
  }
  return std::string_view::npos;
}

}  // namespace

std::string html_to_text(std::string_view html) {
  std::string out;
  out.reserve(html.size() / 2);
  bool in_tag = false;
  std::size_t i = 0;
  while (i < html.size()) {
    if (in_tag) {
      std::size_t gt = html.find('>', i);
      if (gt == std::string_view::npos) break;
      in_tag = false;
      i = gt + 1;
      continue;
    }
    // Plain text up to the next tag or entity in one append.
    std::size_t special = i;
    while (special < html.size() && html[special] != '<' && html[special] != '&') ++special;
    out.append(html.substr(i, special - i));
    i = special;
    if (i >= html.size()) break;
    char c = html[i];
    if (c == '<') {
      std::string_view rest = html.substr(i);
      for (std::string_view skip : {"<style", "<script", "<STYLE", "<SCRIPT"}) {
        if (rest.starts_with(skip)) {
          std::string close = "</" + lower(skip.substr(1));
          std::size_t end = ifind(rest.substr(0, std::min<std::size_t>(rest.size(), 200000)), close);
          i += end == std::string::npos ? rest.size() : end;
          break;
        }
      }
      if (iequals(rest.substr(0, 3), "<br") || iequals(rest.substr(0, 3), "<p>") ||
          iequals(rest.substr(0, 4), "<div") || iequals(rest.substr(0, 3), "<tr") ||
          iequals(rest.substr(0, 4), "</td") || iequals(rest.substr(0, 3), "<li")) {
        out += iequals(rest.substr(0, 4), "</td") ? ' ' : '\n';
      }
      in_tag = true;
      ++i;
      continue;
    }
    // c == '&'
    static constexpr std::pair<std::string_view, std::string_view> kEntities[] = {
        {"&nbsp;", " "}, {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}};
    bool done = false;
    for (auto [ent, rep] : kEntities) {
      if (html.substr(i).starts_with(ent)) {
        out += rep;
        i += ent.size();
        done = true;
        break;
      }
    }
    if (done) continue;
    out += c;
    ++i;
  }
  return out;
}

const std::string& mail_text(const ParsedMail& mail, bool include_attached_messages) {
  std::optional<std::string>& cached = mail.text_cache[include_attached_messages ? 1 : 0];
  if (cached) return *cached;
  std::string plain, html;
  int message_depth = 1 << 20;  // depth of the innermost attached message we are inside
  for (const auto& p : mail.parts) {
    if (p.depth <= message_depth) message_depth = 1 << 20;
    if (p.is_message) {
      message_depth = std::min(message_depth, p.depth);
      continue;
    }
    if (!include_attached_messages && message_depth != (1 << 20)) continue;
    if (p.attachment && !p.filename.empty() && !ends_with_ci(p.filename, ".txt")) continue;
    if (p.content_type == "text/plain" || p.content_type.empty()) {
      if (!plain.empty()) plain += "\n";
      plain += p.body;
    } else if (p.content_type == "text/html") {
      if (!html.empty()) html += "\n";
      html += html_to_text(p.body);
    }
  }
  cached = plain.empty() ? std::move(html) : std::move(plain);
  return *cached;
}

void parse_mail(ParseContext& ctx) {
  ParsedMail mail = parse_mime(ctx.input().data, ctx);
  ctx.set_format("mail");
  if (!mail.parsed) {
    ctx.set_kind(InputKind::kUnreadable);
    return;
  }
  if (std::string verdict = detect_not_a_report(mail); !verdict.empty()) {
    ctx.set_format("mail", verdict);
    ctx.set_kind(InputKind::kNotAReport);
    return;
  }
  LinkingSink sink(ctx, mail);
  ParseOptions options = ctx.options();
  sink.set_nested(static_cast<bool>(options.json_extra_members));
  if (!options.json_extra_members) options.json_extra_members = [&sink] { return sink.link_members(); };
  ParseContext inner(sink, options, ctx.input(), ctx.depth());
  inner.set_format("mail");
  bool is_arf = false;
  bool claimed = xarf::parse_xarf_json_mail(inner, mail) || (is_arf = arf::parse_arf(inner, mail)) ||
                 xarf::parse_xarf_yaml_mail(inner, mail) || iodef::parse_iodef_mail(inner, mail) ||
                 acns::parse_acns_mail(inner, mail) || parse_attachments(inner, mail) ||
                 spamcop::parse_spamcop(inner, mail) || certnotice::parse_cert_notice(inner, mail);
  if (is_arf) spamcop::parse_spamvertised(inner, mail);  // SpamCop ARF: the advertised site too
  if (!claimed) {
    if (std::string verdict = detect_acknowledgement(mail); !verdict.empty()) {
      ctx.set_format("mail", verdict);
      ctx.set_kind(InputKind::kNotAReport);
      return;
    }
    const std::string& text = mail_text(mail);
    freetext::TextReport report;
    report.subject = mail.subject;
    report.body = text;
    report.from = mail.from_address;
    report.sent = mail.date;
    report.feed_provider = mail.from_domain;
    inner.summary().detail.clear();
    inner.set_format("free-text");
    freetext::parse_free_text(inner, report);
  }
  ctx.set_format(inner.summary().format, inner.summary().detail);
  if (inner.summary().kind == InputKind::kNotAReport) ctx.set_kind(InputKind::kNotAReport);
  if (ctx.summary().events == 0 && ctx.summary().kind != InputKind::kNotAReport && ctx.summary().issues == 0) {
    ctx.issue("no-events", 0, 0,
              "mail read, but no reported address or event found (format " + inner.summary().format + ")", mail.subject,
              "check the mail by hand; the original stays stored");
  }
}

}  // namespace klartext::formats::mail
