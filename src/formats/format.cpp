// Format dispatch, parse contexts and the JSON forms of issues and summaries.
#include "formats/format.hpp"

#include <exception>

namespace klartext::formats {

using core::append_json_string;

std::string_view to_string(InputKind k) {
  switch (k) {
    case InputKind::kAbuseReport: return "abuse-report";
    case InputKind::kNotAReport: return "not-a-report";
    case InputKind::kUnreadable: return "unreadable";
    case InputKind::kEmpty: break;
  }
  return "empty";
}

std::string ParseIssue::to_json() const {
  std::string s = "{\"code\":";
  append_json_string(s, code);
  s += ",\"input\":";
  append_json_string(s, input);
  s += ",\"line\":" + std::to_string(line);
  s += ",\"byte_offset\":" + std::to_string(byte_offset);
  s += ",\"reason\":";
  append_json_string(s, reason);
  s += ",\"excerpt\":";
  append_json_string(s, excerpt);
  if (!hint.empty()) {
    s += ",\"hint\":";
    append_json_string(s, hint);
  }
  s += '}';
  return s;
}

std::string InputSummary::to_json() const {
  std::string s = "{\"input\":";
  append_json_string(s, input);
  s += ",\"format\":";
  append_json_string(s, format);
  s += ",\"detail\":";
  append_json_string(s, detail);
  s += ",\"kind\":";
  append_json_string(s, to_string(kind));
  s += ",\"events\":" + std::to_string(events);
  s += ",\"issues\":" + std::to_string(issues);
  s += ",\"classifications\":{";
  bool first = true;
  for (const auto& [k, v] : classifications) {
    if (!first) s += ',';
    first = false;
    append_json_string(s, k);
    s += ':' + std::to_string(v);
  }
  s += "}}";
  return s;
}

std::string make_excerpt(std::string_view bytes, std::size_t max) {
  if (bytes.size() <= max) return std::string(bytes);
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(bytes[n]) & 0xc0) == 0x80) --n;
  return std::string(bytes.substr(0, n)) + "...";
}

void ParseContext::emit(const core::Event& event) {
  count(event.classification());
  sink_.on_event(event);
}

void ParseContext::emitted_json(const core::Classification& classification) {
  count(classification);
  sink_.on_event_json(classification);
}

void ParseContext::count(const core::Classification& classification) {
  ++summary_.events;
  // Streams repeat one classification: count into the last map entry without building its key.
  // (The size check notices a map changed through summary().)
  if (last_count_ == nullptr || summary_.classifications.size() != last_size_ ||
      !(classification == last_classification_)) {
    last_classification_ = classification;
    last_count_ = &summary_.classifications[last_classification_.to_string()];
    last_size_ = summary_.classifications.size();
  }
  ++*last_count_;
  if (summary_.kind == InputKind::kEmpty || summary_.kind == InputKind::kUnreadable) {
    summary_.kind = InputKind::kAbuseReport;
  }
}

void ParseContext::issue(std::string code, std::uint64_t line, std::uint64_t byte_offset, std::string reason,
                         std::string_view excerpt, std::string hint) {
  ++summary_.issues;
  ParseIssue i{std::move(code), input_.name,       line,
               byte_offset,     std::move(reason), make_excerpt(excerpt, options_.limits.max_excerpt_bytes),
               std::move(hint)};
  sink_.on_issue(i);
}

void ParseContext::set_format(std::string_view format, std::string_view detail) {
  summary_.format = std::string(format);
  if (!detail.empty()) summary_.detail = std::string(detail);
}

InputSummary ParseContext::parse_child(const Input& child) {
  InputSummary s = parse_input(child, sink_, options_, depth_ + 1);
  summary_.events += s.events;
  summary_.issues += s.issues;
  for (const auto& [k, v] : s.classifications) summary_.classifications[k] += v;
  if (s.events > 0) summary_.kind = InputKind::kAbuseReport;
  return s;
}

const Format* find_format(std::string_view name) {
  for (const Format* f : all_formats()) {
    if (f->name() == name) return f;
  }
  return nullptr;
}

const Format* sniffed_format(const Input& input) {
  const Format* best = nullptr;
  int best_score = 0;
  for (const Format* f : all_formats()) {
    int score = f->sniff(input);
    if (score > best_score) {
      best = f;
      best_score = score;
    }
  }
  return best;
}

InputSummary parse_input(const Input& input, Sink& sink, const ParseOptions& options, int depth) {
  ParseContext ctx(sink, options, input, depth);
  if (static_cast<std::uint64_t>(depth) > options.limits.max_mime_depth) {
    ctx.issue("nesting-limit", 0, 0, "input nested deeper than limits.max_mime_depth", {});
    ctx.set_kind(InputKind::kUnreadable);
    return ctx.summary();
  }
  if (input.data.empty()) {
    ctx.issue("empty-input", 0, 0, "input is empty");
    ctx.set_kind(InputKind::kEmpty);
    return ctx.summary();
  }
  const Format* best = sniffed_format(input);
  if (best == nullptr) {
    ctx.set_format("unknown");
    ctx.set_kind(InputKind::kUnreadable);
    ctx.issue("unknown-format", 0, 0, "no parser recognizes this input", input.data.substr(0, 200),
              "pass --report-type for Shadowserver files with unusual names");
    return ctx.summary();
  }
  ctx.set_format(best->name());
  try {
    best->parse(ctx);
  } catch (const std::exception& e) {
    ctx.issue("parser-failure", 0, 0, std::string("parser stopped: ") + e.what());
    if (ctx.summary().events == 0) ctx.set_kind(InputKind::kUnreadable);
  }
  return ctx.summary();
}

}  // namespace klartext::formats
