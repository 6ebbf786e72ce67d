// Letter rendering: per-case blocks from the classification type's template, framed by the letter template.
#include "letters/renderer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_map>

#include "core/embedded.hpp"
#include "knowledge/knowledge.hpp"
#include "letters/mustache.hpp"
#include "letters/text.hpp"

namespace klartext::letters {

bool supported_language(std::string_view lang) {
  return lang == "de" || lang == "en";
}

namespace {

// Mustache's "standalone" rule: a line holding only a section, inverted-section, end or comment tag
// disappears with its line end. kainjow leaves a blank line where a false section stood, so such tags
// are moved to the start of the next line before compiling. On a blank line a marker character (removed
// after rendering) keeps kainjow from treating the moved tags as standalone and eating that blank line.
// (MustacheTemplate renders exactly as kainjow does.)
constexpr char kKeepLine = '\x1f';

std::string strip_standalone_tags(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::string pending;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    const std::size_t next = end == std::string_view::npos ? text.size() : end + 1;
    std::string_view line = text.substr(pos, (end == std::string_view::npos ? text.size() : end) - pos);
    std::string_view t = line;
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '\r')) t.remove_suffix(1);
    const bool standalone = t.size() > 5 && t.substr(0, 2) == "{{" && t.substr(t.size() - 2) == "}}" &&
                            (t[2] == '#' || t[2] == '^' || t[2] == '/' || t[2] == '!') && t.find("}}") == t.size() - 2;
    if (standalone) {
      pending.append(t);
    } else {
      out.append(pending);
      if (!pending.empty() && t.empty()) out.push_back(kKeepLine);
      pending.clear();
      out.append(text.substr(pos, next - pos));
    }
    pos = next;
  }
  out.append(pending);
  return out;
}

}  // namespace

// Compiled templates by "<lang>/<name>", loaded from the operator's directory, the data directory or
// the embedded copy, in that order; each is parsed once per run and rendered for every letter.
class Renderer::Templates {
 public:
  explicit Templates(const RendererOptions& o) : template_dir_(o.template_dir), data_dir_(o.data_dir) {}

  // nullptr when no such template exists anywhere.
  MustacheTemplate* find(std::string_view lang, std::string_view name) {
    std::string key = fmt::format("{}/{}", lang, name);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second.get();
    std::unique_ptr<MustacheTemplate> compiled;
    if (auto text = load(key)) {
      try {
        compiled = std::make_unique<MustacheTemplate>(strip_standalone_tags(*text), kKeepLine);
      } catch (const std::runtime_error& e) {
        throw std::runtime_error(fmt::format("template {}.mustache: {}", key, e.what()));
      }
    }
    return cache_.emplace(std::move(key), std::move(compiled)).first->second.get();
  }

  MustacheTemplate& get(std::string_view lang, std::string_view name) {
    if (MustacheTemplate* m = find(lang, name)) return *m;
    throw std::runtime_error(fmt::format("template {}/{}.mustache not found", lang, name));
  }

 private:
  std::optional<std::string> load(const std::string& key) {
    const std::string rel = key + ".mustache";
    if (!template_dir_.empty()) {
      try {
        return core::load_data_file(rel, template_dir_);
      } catch (const std::runtime_error&) {
        // not overridden by the operator
      }
    }
    try {
      return core::load_data_file("templates/" + rel, data_dir_);
    } catch (const std::runtime_error&) {
      return std::nullopt;
    }
  }

  std::string template_dir_, data_dir_;
  std::unordered_map<std::string, std::unique_ptr<MustacheTemplate>> cache_;
};

namespace {

std::string render_checked(const MustacheTemplate& t, const TemplateValue& d, std::string_view what) {
  std::string out;
  try {
    t.render(d, out);
  } catch (const std::runtime_error& e) {  // a partial that does not parse
    throw std::runtime_error(fmt::format("template {}: {}", what, e.what()));
  }
  // The templates' markers are not written (MustacheTemplate's line keeper); one can only come from a value.
  if (const auto first = out.find(kKeepLine); first != std::string::npos) {
    out.erase(std::remove(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(), kKeepLine), out.end());
  }
  return out;
}

std::string format_factor(double f) {
  if (f <= 0) return {};
  return fmt::format("{}", static_cast<std::int64_t>(std::llround(f)));
}

std::string safe_name(std::string_view s) {
  std::string out;
  for (char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    out.push_back(ok ? c : '_');
  }
  return out.empty() ? std::string("evidence") : out;
}

struct CaseEvidence {
  std::string inline_text;  // verbatim excerpt for the body
  std::size_t inline_rows = 0;
  std::size_t total_rows = 0;
  std::vector<Attachment> attachments;
};

// The evidence of one case: an inline excerpt (header plus the first rows) and the attachments that
// carry all of it with the original header (rows grouped by header, since a feed's header can change).
CaseEvidence build_evidence(const Case& c, std::size_t max_inline) {
  CaseEvidence out;
  const std::string base = fmt::format("case-{}", safe_name(c.id));
  std::vector<std::pair<std::string, std::string>> csv_groups;  // header -> rows
  std::string text_records;
  std::size_t mails = 0;
  std::string last_header;
  for (const Evidence& e : c.evidence) {
    ++out.total_rows;
    const bool show = out.inline_rows < max_inline;
    switch (e.kind) {
      case EvidenceKind::kCsvRow: {
        auto it =
            std::find_if(csv_groups.begin(), csv_groups.end(), [&](const auto& g) { return g.first == e.header; });
        if (it == csv_groups.end()) it = csv_groups.insert(csv_groups.end(), {e.header, {}});
        it->second += e.bytes;
        it->second += '\n';
        if (show) {
          if (out.inline_rows == 0 || e.header != last_header) {
            out.inline_text += printable_line(e.header);
            out.inline_text += '\n';
            last_header = e.header;
          }
          out.inline_text += printable_line(e.bytes);
          out.inline_text += '\n';
        }
        break;
      }
      case EvidenceKind::kMail: {
        ++mails;
        out.attachments.push_back({fmt::format("{}-report-{}.eml", base, mails), "message/rfc822", e.bytes});
        if (show) {
          out.inline_text += mail_summary(e.bytes);
          if (!e.excerpt.empty()) {
            out.inline_text += "\n";
            out.inline_text += printable_text(e.excerpt);
            if (out.inline_text.back() != '\n') out.inline_text += '\n';
          }
          last_header.clear();
        }
        break;
      }
      case EvidenceKind::kText: {
        text_records += e.bytes;
        if (e.bytes.empty() || e.bytes.back() != '\n') text_records += '\n';
        if (show) {
          out.inline_text += printable_text(e.bytes);
          if (out.inline_text.empty() || out.inline_text.back() != '\n') out.inline_text += '\n';
          last_header.clear();
        }
        break;
      }
    }
    if (show) ++out.inline_rows;
  }
  const std::string feed = safe_name(c.feed_name.empty() ? std::string_view("report") : c.feed_name);
  for (std::size_t i = 0; i < csv_groups.size(); ++i) {
    std::string name =
        csv_groups.size() == 1 ? fmt::format("{}-{}.csv", base, feed) : fmt::format("{}-{}-{}.csv", base, feed, i + 1);
    out.attachments.push_back({std::move(name), "text/csv", csv_groups[i].first + "\n" + csv_groups[i].second});
  }
  if (!text_records.empty()) {
    out.attachments.push_back({fmt::format("{}-{}.txt", base, feed), "text/plain", std::move(text_records)});
  }
  return out;
}

TemplateValue flag(bool b) {
  return TemplateValue::flag(b);
}

}  // namespace

Renderer::Renderer(RendererOptions options, const knowledge::KnowledgeBase& kb)
    : options_(std::move(options)),
      kb_(kb),
      local_time_(options_.default_time_zone),
      templates_(std::make_unique<Templates>(options_)) {
  if (!supported_language(options_.default_language)) options_.default_language = "en";
}

Renderer::~Renderer() = default;

Letter Renderer::render(const LetterInput& input) {
  const Customer& cu = input.customer;
  Letter letter;
  letter.customer_id = cu.id;
  letter.to = cu.emails;
  const std::string lang = supported_language(cu.language) ? cu.language : options_.default_language;
  letter.language = lang;
  const std::string& zone = cu.time_zone;

  TemplateValue blocks = TemplateValue::list();
  TemplateValue summary = TemplateValue::list();
  const std::size_t max_inline =
      options_.evidence_rows_inline < 0 ? 0 : static_cast<std::size_t>(options_.evidence_rows_inline);
  std::size_t n = 0;
  for (const Case& c : input.cases) {
    ++n;
    letter.case_ids.push_back(c.id);
    const knowledge::LocalizedText* kb_found = kb_.find_text(c.classification, lang);
    if (kb_found && kb_found->title.empty() && kb_found->explanation.empty()) kb_found = nullptr;
    // Knowledge texts may name the address and the reporter's identifier or malware family.
    std::optional<knowledge::LocalizedText> kb_rendered;
    if (kb_found) {
      kb_rendered = knowledge::render(
          *kb_found, knowledge::TextVars{c.source_ip.to_string(), c.classification.identifier, c.malware});
    }
    const knowledge::LocalizedText* kb_text = kb_rendered ? &*kb_rendered : nullptr;
    if (!kb_text) letter.cases_without_text.push_back(c.id);

    CaseEvidence ev = build_evidence(c, max_inline);
    TemplateValue d;
    d.reserve(48);  // the members below, without regrowing
    d.set("number", std::to_string(n));
    d.set("total", std::to_string(input.cases.size()));
    d.set("case_id", c.id);
    d.set("classification", c.classification.to_string());
    d.set("taxonomy", std::string(core::to_string(c.classification.taxonomy)));
    d.set("type", std::string(core::to_string(c.classification.type)));
    if (!c.classification.identifier.empty()) d.set("identifier", c.classification.identifier);
    d.set("reported_as", c.reported_as.empty() ? c.feed_name : c.reported_as);
    d.set("address", c.source_ip.to_string());
    if (c.port) {
      d.set("port", std::to_string(*c.port));
      d.set("has_port", flag(true));
    }
    if (!c.transport.empty()) d.set("transport", c.transport);
    d.set("first_seen", local_time_.format(c.first_seen, zone, lang));
    d.set("last_seen", local_time_.format(c.last_seen, zone, lang));
    d.set("single_time", flag(c.first_seen.seconds() == c.last_seen.seconds()));
    d.set("event_count", std::to_string(c.event_count));
    d.set("once", flag(c.event_count <= 1));
    d.set("severity", std::string(core::to_string(c.severity)));
    d.set("provider", c.feed_provider);
    d.set("feed_name", c.feed_name);
    if (!c.feed_documentation_url.empty()) d.set("documentation_url", c.feed_documentation_url);
    d.set("previously_notified", flag(c.previously_notified));
    d.set("has_text", flag(kb_text != nullptr));
    if (kb_text) {
      d.set("title", trim_block(kb_text->title));
      d.set("explanation", trim_block(kb_text->explanation));
      if (!kb_text->remediation.empty()) d.set("remediation", trim_block(kb_text->remediation));
      if (!kb_text->check.empty()) d.set("check", trim_block(kb_text->check));
    }
    if (const knowledge::Amplifier* a = kb_.find_amplifier(c.classification.identifier);
        a && c.classification.type == core::IncidentType::kDdosAmplifier) {
      TemplateValue amp;
      amp.set("service", a->service);
      amp.set("service_port", std::to_string(a->port));
      amp.set("service_transport", a->transport);
      if (a->baf_typical > 0) amp.set("baf_typical", format_factor(a->baf_typical));
      if (a->baf_max > 0) amp.set("baf_max", format_factor(a->baf_max));
      if (!a->source.empty()) amp.set("baf_source", a->source);
      d.set("amplifier", std::move(amp));
    }
    if (c.probe) {
      TemplateValue p;
      p.set("probe_time", local_time_.format(c.probe->at, zone, lang));
      p.set("probe_name", c.probe->probe);
      p.set("request_bytes", std::to_string(c.probe->request_bytes));
      p.set("response_bytes", std::to_string(c.probe->response_bytes));
      p.set("response_packets", std::to_string(c.probe->response_packets));
      if (c.probe->request_bytes > 0) {
        p.set("factor", format_factor(static_cast<double>(c.probe->response_bytes) /
                                      static_cast<double>(c.probe->request_bytes)));
      }
      d.set("probe", std::move(p));
    }
    d.set("evidence", trim_block(ev.inline_text));
    d.set("has_evidence", flag(!ev.inline_text.empty()));
    d.set("evidence_shown", std::to_string(ev.inline_rows));
    d.set("evidence_total", std::to_string(ev.total_rows));
    d.set("evidence_truncated", flag(ev.inline_rows < ev.total_rows));
    d.set("evidence_sampled", flag(ev.total_rows < c.event_count));
    TemplateValue files = TemplateValue::list();
    for (const Attachment& a : ev.attachments) {
      TemplateValue file;
      file.set("name", a.filename);
      files.push_back(std::move(file));
    }
    d.set("attachments", std::move(files));
    d.set("has_attachments", flag(!ev.attachments.empty()));

    // The type template says what happened; the honest "unknown" text is rendered once for it to use.
    const std::string type_name(core::to_string(c.classification.type));
    if (!kb_text) d.set("unknown_text", render_checked(templates_->get(lang, "unknown"), d, "unknown"));
    MustacheTemplate* type_template = templates_->find(lang, "types/" + type_name);
    if (!type_template) type_template = &templates_->get(lang, "types/unlisted-type");
    d.set("what", trim_block(render_checked(*type_template, d, type_name)));
    std::string heading = kb_text ? trim_block(kb_text->title)
                                  : render_checked(templates_->get(lang, "unknown-title"), d, "unknown-title");
    d.set("heading", trim_block(heading));

    TemplateValue s;
    s.set("number", std::to_string(n));
    s.set("heading", trim_block(heading));
    s.set("address", c.source_ip.to_string());
    summary.push_back(std::move(s));
    TemplateValue block;
    block.set("block", render_checked(templates_->get(lang, "case"), d, "case"));
    blocks.push_back(std::move(block));

    for (Attachment& a : ev.attachments) letter.attachments.push_back(std::move(a));
  }

  TemplateValue frame;
  frame.set("customer_name", cu.name);
  frame.set("customer_id", cu.id);
  frame.set("organisation", options_.organisation);
  frame.set("sender_name", options_.sender_name);
  frame.set("sender_address", options_.sender_address);
  frame.set("case_count", std::to_string(input.cases.size()));
  frame.set("one_case", flag(input.cases.size() == 1));
  if (!input.cases.empty()) {
    frame.set("first_heading", summary.items().front().get("heading")->string_value());
    frame.set("first_address", input.cases.front().source_ip.to_string());
  }
  frame.set("cases", std::move(blocks));
  frame.set("summary", std::move(summary));
  letter.body = normalize_body(render_checked(templates_->get(lang, "letter"), frame, "letter"));
  letter.subject = single_line(render_checked(templates_->get(lang, "subject"), frame, "subject"));
  return letter;
}

}  // namespace klartext::letters
