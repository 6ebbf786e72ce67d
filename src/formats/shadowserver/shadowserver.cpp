// Shadowserver CSV parsing: report type detection, header binding and the streaming row loop.
#include "formats/shadowserver/shadowserver.hpp"

#include <map>
#include <memory>
#include <mutex>

#include "formats/shadowserver/csv_reader.hpp"
#include "formats/shadowserver/normalizer.hpp"
#include "formats/shadowserver/schema.hpp"
#include "knowledge/knowledge.hpp"

namespace klartext::formats::shadowserver {
namespace {

constexpr std::size_t kReleaseStep = 4u << 20;  // hand parsed bytes back to the mapping every 4 MiB

const knowledge::KnowledgeBase& knowledge_for(const std::string& data_dir) {
  if (data_dir.empty()) return knowledge::KnowledgeBase::instance();
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<knowledge::KnowledgeBase>> cache;
  std::lock_guard lock(mu);
  auto& slot = cache[data_dir];
  if (!slot) slot = std::make_unique<knowledge::KnowledgeBase>(knowledge::KnowledgeBase::load(data_dir));
  return *slot;
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == ' ';
}

std::string_view first_line(std::string_view data) {
  if (data.substr(0, 3) == "\xEF\xBB\xBF") data.remove_prefix(3);
  std::size_t nl = data.find('\n');
  std::string_view line = data.substr(0, nl == std::string_view::npos ? std::min<std::size_t>(data.size(), 65536) : nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string report_type_from_filename(std::string_view filename) {
  std::size_t slash = filename.find_last_of("/\\");
  if (slash != std::string_view::npos) filename.remove_prefix(slash + 1);
  for (std::string_view ext : {".zip", ".ZIP", ".csv", ".CSV", ".txt"}) {
    if (filename.size() > ext.size() && filename.substr(filename.size() - ext.size()) == ext) {
      filename.remove_suffix(ext.size());
    }
  }
  // Optional date prefix "YYYY-MM-DD-".
  auto digits = [&](std::size_t at, std::size_t n) {
    if (filename.size() < at + n) return false;
    for (std::size_t i = at; i < at + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(filename[i]))) return false;
    }
    return true;
  };
  if (digits(0, 4) && filename.size() > 11 && filename[4] == '-' && digits(5, 2) && filename[7] == '-' &&
      digits(8, 2) && filename[10] == '-') {
    filename.remove_prefix(11);
  }
  std::size_t dash = filename.find('-');
  std::string_view type = filename.substr(0, dash);
  for (char c : type) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return {};
  }
  std::string out(type);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool looks_like_header(std::string_view data) {
  std::string_view line = first_line(data);
  if (line.empty() || line.find(',') == std::string_view::npos) return false;
  bool has_timestamp = false;
  std::size_t pos = 0, columns = 0;
  while (pos <= line.size()) {
    std::size_t comma = line.find(',', pos);
    if (comma == std::string_view::npos) comma = line.size();
    std::string_view f = trim(line.substr(pos, comma - pos));
    pos = comma + 1;
    if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = f.substr(1, f.size() - 2);
    if (f.empty()) return false;
    for (char c : f) {
      if (!is_name_char(c)) return false;
    }
    has_timestamp = has_timestamp || f == "timestamp";
    ++columns;
  }
  return has_timestamp && columns >= 2;
}

int ShadowserverFormat::sniff(const Input& input) const {
  bool header = looks_like_header(input.data);
  std::string type = report_type_from_filename(input.filename_hint.empty() ? input.name : input.filename_hint);
  bool known = false;
  if (!type.empty()) {
    try {
      known = Schema::get()->find(type) != nullptr;
    } catch (const std::exception&) {
      known = false;
    }
  }
  if (known && header) return 95;
  if (known) {
    // Named like a report but not CSV-like (junk, truncated, binary): ours, to report what is wrong,
    // unless it clearly is something else (a mail or an XML/JSON document).
    std::string_view line = first_line(input.data);
    if (line.find(',') != std::string_view::npos || line.empty()) return 70;
    return 40;
  }
  if (header) return 60;
  return 0;
}

void ShadowserverFormat::parse(ParseContext& ctx) const {
  const ParseOptions& opt = ctx.options();
  const Input& in = ctx.input();
  std::shared_ptr<const Schema> schema = Schema::get(opt.schema_path, opt.data_dir);
  const knowledge::KnowledgeBase& kb = knowledge_for(opt.data_dir);
  std::shared_ptr<const ClassificationMap> classes = ClassificationMap::get(opt.data_dir);

  std::string type = !opt.report_type.empty()
                         ? opt.report_type
                         : report_type_from_filename(in.filename_hint.empty() ? in.name : in.filename_hint);
  const ReportSpec* spec = type.empty() ? nullptr : schema->find(type);
  ctx.set_format(name(), spec != nullptr ? std::string_view(spec->file_name)
                         : type.empty()  ? std::string_view("unknown")
                                         : std::string_view(type));

  CsvReader reader = in.more != nullptr ? CsvReader(in.data, in.more, opt.limits.max_line_bytes)
                                        : CsvReader(in.data, opt.limits.max_line_bytes);
  CsvRecord rec;
  if (!reader.next(rec)) {
    ctx.issue("csv-empty", 1, 0, "no header line: the file holds no CSV data", in.data.substr(0, 200));
    ctx.set_kind(InputKind::kEmpty);
    return;
  }
  std::string_view header_bytes = reader.bytes(rec);
  std::size_t where = 0;
  TextProblem header_text = check_text(header_bytes, where);
  if (rec.error != CsvError::kNone || header_text != TextProblem::kNone || !looks_like_header(header_bytes)) {
    std::string why = rec.error != CsvError::kNone        ? std::string(to_string(rec.error))
                      : header_text != TextProblem::kNone ? std::string(to_string(header_text))
                                                          : "no 'timestamp' column or not a list of column names";
    ctx.issue("csv-bad-header", rec.line, rec.begin, "first line is not a Shadowserver CSV header (" + why + ")",
              header_bytes, "is this file a Shadowserver CSV report?");
    ctx.set_kind(InputKind::kUnreadable);
    return;
  }
  std::vector<std::string> header;
  header.reserve(rec.fields.size());
  for (std::string_view f : rec.fields) header.emplace_back(trim(f));
  const std::uint64_t header_line = rec.line;
  const std::size_t header_offset = rec.begin;

  if (spec == nullptr) {
    ctx.issue("shadowserver-unknown-report-type", header_line, header_offset,
              type.empty() ? "the file name does not name a Shadowserver report type"
                           : "report type '" + type + "' is not in the Shadowserver schema" +
                                 (schema->date_created().empty() ? "" : " of " + schema->date_created()),
              in.name,
              "rows become other/undetermined with their evidence; pass --report-type, or --schema with a newer "
              "schema file");
  }
  Normalizer norm(spec, type, std::move(header), std::string(header_bytes), kb, *classes);
  if (opt.json_extra_members && ctx.event_json_buffer() != nullptr) norm.add_json_members(opt.json_extra_members());
  for (const Problem& p : norm.file_problems()) ctx.issue(p.code, header_line, header_offset, p.reason, p.excerpt);

  core::Event event;
  std::string* const json_out = ctx.event_json_buffer();
  std::size_t released = 0;
  std::uint64_t emitted = 0;
  while (reader.next(rec)) {
    if (in.release && rec.begin >= released + kReleaseStep) {
      in.release(rec.begin);
      released = rec.begin;
    }
    std::string_view row = reader.bytes(rec);
    if (rec.error != CsvError::kNone) {
      switch (rec.error) {
        case CsvError::kTooLong:
          ctx.issue(
              "csv-line-too-long", rec.line, rec.begin,
              "row longer than limits.max_line_bytes (" + std::to_string(opt.limits.max_line_bytes) + "); skipped", row,
              "raise limits.max_line_bytes if such rows are legitimate");
          break;
        case CsvError::kTooManyFields:
          ctx.issue("csv-field-count", rec.line, rec.begin, "row has more than 65536 fields; skipped", row);
          break;
        case CsvError::kUnterminatedQuote:
          ctx.issue("csv-unterminated-quote", rec.line, rec.begin,
                    rec.terminated ? "quoted field not closed on its line (stray quote); row skipped"
                                   : "input ends inside a quoted field (truncated file?); row skipped",
                    row);
          break;
        case CsvError::kNone: break;
      }
      continue;
    }
    TextProblem tp = check_text(row, where);
    if (tp != TextProblem::kNone) {
      const char* code = tp == TextProblem::kNulByte       ? "csv-nul-byte"
                         : tp == TextProblem::kControlByte ? "csv-binary-data"
                                                           : "csv-invalid-utf8";
      ctx.issue(code, rec.line, rec.begin + where,
                std::string("row contains ") +
                    (tp == TextProblem::kNulByte       ? "a NUL byte"
                     : tp == TextProblem::kControlByte ? "control bytes (binary data)"
                                                       : "bytes that are not UTF-8") +
                    " at byte " + std::to_string(where) + " of the row; skipped",
                row);
      continue;
    }
    if (rec.fields.size() != norm.columns()) {
      // Short complete rows are read as csv.DictReader reads them (missing trailing columns empty),
      // which is how Shadowserver files have always been consumed; anything else is skipped.
      bool pad = rec.fields.size() < norm.columns() && rec.terminated;
      ctx.issue("csv-field-count", rec.line, rec.begin,
                "row has " + std::to_string(rec.fields.size()) + " fields, the header " +
                    std::to_string(norm.columns()) +
                    (pad              ? "; the missing trailing columns are taken as empty"
                     : rec.terminated ? "; skipped"
                                      : "; last line without terminator (truncated file?); skipped"),
                row);
      if (!pad) continue;
      rec.fields.resize(norm.columns());
    }
    // The fast path writes the event straight into a JSON Lines sink; rows it declines, and the
    // last row (no terminator) or the one over the event limit, whose issues come before the
    // event, take the general path.
    if (json_out != nullptr && rec.terminated && emitted < opt.limits.max_events_per_input &&
        norm.normalize_json(rec.fields, row, *json_out)) {
      ctx.emitted_json(norm.json_classification());
      ++emitted;
      continue;
    }
    bool ok = norm.normalize(rec.fields, row, event);
    for (const Problem& p : norm.problems()) {
      ctx.issue(p.code, rec.line, rec.begin, p.reason, p.excerpt.empty() ? row : std::string_view(p.excerpt));
    }
    if (!ok) continue;
    if (!rec.terminated) {
      ctx.issue("csv-no-final-newline", rec.line, rec.begin,
                "last row has no line terminator; it is complete by field count but the file may be truncated", row);
    }
    if (emitted >= opt.limits.max_events_per_input) {
      ctx.issue("event-limit", rec.line, rec.begin,
                "more events than limits.max_events_per_input; the rest of the input is not read", row);
      break;
    }
    ctx.emit(event);
    ++emitted;
  }
  if (emitted == 0 && ctx.summary().kind == InputKind::kEmpty) ctx.set_kind(InputKind::kEmpty);
}

const Format& format() {
  static const ShadowserverFormat kFormat;
  return kFormat;
}

}  // namespace klartext::formats::shadowserver
