// CERT notices: inline CSV rows / key-value blocks -> one event each, class from the notice's
// phrase table (data/formats/cert_notices.yaml) unless a row's own malware column says more.
#include "formats/certnotice/certnotice.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <mutex>

#include "core/embedded.hpp"
#include "formats/mail/mail.hpp"

namespace klartext::formats::certnotice {

using mail::icontains;
using mail::lower;
using mail::trim;

namespace {

constexpr std::size_t kMaxRows = 1'000'000;

struct Phrase {
  std::string match;
  core::Classification classification;
};

const std::vector<Phrase>& phrases(const std::string& data_dir) {
  static std::once_flag once;
  static std::vector<Phrase> table;
  std::call_once(once, [&] {
    YAML::Node root = YAML::Load(core::load_data_file("formats/cert_notices.yaml", data_dir));
    for (const auto& n : root) {
      auto c = core::Classification::parse(n["taxonomy"].as<std::string>(""), n["type"].as<std::string>(""),
                                           n["identifier"].as<std::string>(""));
      if (!c)
        throw std::runtime_error("formats/cert_notices.yaml: bad classification for " + n["match"].as<std::string>(""));
      table.push_back(Phrase{n["match"].as<std::string>(), *c});
    }
  });
  return table;
}

bool is_ip_column(std::string_view name) {
  std::string_view n = trim(name);  // compared caseless: checked for every cell of every line with a separator
  // The names below are 2 to 14 bytes long and start with i, s, h, a or c: most cells are none.
  if (n.size() < 2 || n.size() > 14) return false;
  if (std::string_view("iIsShHaAcC").find(n.front()) == std::string_view::npos) return false;
  for (std::string_view k :
       {"ip", "ip address", "ip_address", "ipaddress", "ip-address", "ip-adresse", "src_ip", "source_ip", "source ip",
        "source", "src", "ip adresse", "host ip", "address", "client_ip", "source.ip", "src_addr", "source_address"}) {
    if (mail::iequals(n, k)) return true;
  }
  return false;
}

// The cells of one row into `out` (cleared first; its capacity serves the next row).
void split_row(std::string_view line, char sep, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t i = 0;
  while (i <= line.size()) {
    std::size_t start = i;
    if (i < line.size() && line[i] == '"') {
      std::size_t end = i + 1;
      while (end < line.size()) {
        if (line[end] == '"' && end + 1 < line.size() && line[end + 1] == '"') {
          end += 2;
          continue;
        }
        if (line[end] == '"') break;
        ++end;
      }
      out.push_back(line.substr(start + 1, std::min(end, line.size()) - start - 1));
      i = line.find(sep, end);
      if (i == std::string_view::npos) break;
      ++i;
      continue;
    }
    std::size_t next = line.find(sep, i);
    if (next == std::string_view::npos) {
      out.push_back(trim(line.substr(i)));
      break;
    }
    out.push_back(trim(line.substr(i, next - i)));
    i = next + 1;
  }
}

std::optional<std::uint16_t> parse_port(std::string_view s) {
  s = trim(s);
  unsigned v = 0;
  if (s.empty() || s.size() > 5) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v == 0 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

std::string field_key(std::string_view column) {
  std::string k;
  for (char c : lower(trim(column))) {
    k += (std::isalnum(static_cast<unsigned char>(c)) != 0) ? c : '_';
  }
  return "extra." + k;
}

enum class ColumnKind : std::uint8_t {
  kIp,
  kTime,
  kSourcePort,
  kDestinationPort,
  kDestinationIp,
  kAsn,
  kFqdn,
  kUrl,
  kProtocol,
  kReportedClass,
  kMalware,
  kOther
};

// What a column name means, worked out once per table header (not once per cell).
struct Column {
  ColumnKind kind = ColumnKind::kOther;
  std::string key;  // the event key for kReportedClass, kOther and a kTime value that is no time
};

Column column_of(std::string_view column) {
  std::string c = lower(trim(column));
  Column col;
  if (is_ip_column(c)) {
    col.kind = ColumnKind::kIp;
    return col;
  }
  if (c.starts_with("timestamp") || c == "time" || c == "date" || c == "first_seen" || c == "last_seen" ||
      c == "datetime") {
    col.kind = ColumnKind::kTime;
  } else if (c == "source_port" || c == "src_port" || c == "sport" || c == "port" || c == "srcport") {
    col.kind = ColumnKind::kSourcePort;
  } else if (c == "destination_port" || c == "dst_port" || c == "dport" || c == "dstport") {
    col.kind = ColumnKind::kDestinationPort;
  } else if (c == "dst_ip" || c == "destination_ip" || c == "dest_ip") {
    col.kind = ColumnKind::kDestinationIp;
  } else if (c == "asn" || c == "as") {
    col.kind = ColumnKind::kAsn;
  } else if (c == "hostname" || c == "host" || c == "fqdn" || c == "domain") {
    col.kind = ColumnKind::kFqdn;
  } else if (c == "url") {
    col.kind = ColumnKind::kUrl;
  } else if (c == "proto" || c == "protocol") {
    col.kind = ColumnKind::kProtocol;
  } else if (c == "classification_taxonomy" || c == "classification.taxonomy" || c == "classification_type" ||
             c == "classification.type" || c == "classification_identifier" || c == "classification.identifier") {
    col.kind = ColumnKind::kReportedClass;
    std::string key = c;
    std::replace(key.begin(), key.end(), '_', '.');
    col.key = "extra.reported_" + key.substr(15);  // kept; validated in classify_row
    return col;
  } else if (c == "malware" || c == "infection" || c == "botnet" || c == "malware_family") {
    col.kind = ColumnKind::kMalware;
    return col;
  }
  col.key = field_key(c);
  return col;
}

// Applies one column value to the event; returns true for a malware-family column with a value.
bool apply_column(core::Event& e, const Column& column, std::string_view value) {
  value = trim(value);
  if (value.empty()) return false;
  switch (column.kind) {
    case ColumnKind::kIp: return false;
    case ColumnKind::kTime:
      if (auto t = core::Timestamp::parse(value)) {
        if (!e.time_source()) e.set_time_source(*t);
        return false;
      }
      break;  // not a time: kept under its own name
    case ColumnKind::kSourcePort:
      if (auto p = parse_port(value)) e.set_source_port(*p);
      return false;
    case ColumnKind::kDestinationPort:
      if (auto p = parse_port(value)) e.set_destination_port(*p);
      return false;
    case ColumnKind::kDestinationIp:
      if (auto ip = core::IpAddress::parse(value)) e.set_destination_ip(*ip);
      return false;
    case ColumnKind::kAsn: e.set("source.asn", value, core::JsonKind::kString); return false;
    case ColumnKind::kFqdn: e.set("source.fqdn", value); return false;
    case ColumnKind::kUrl: e.set("source.url", value); return false;
    case ColumnKind::kProtocol: e.set("protocol.transport", lower(value)); return false;
    case ColumnKind::kReportedClass: e.set(column.key, value); return false;
    case ColumnKind::kMalware: e.set("malware.name", lower(value)); return true;
    case ColumnKind::kOther: break;
  }
  e.set(column.key, value);
  return false;
}

core::Classification classify(const std::vector<Phrase>& table, std::string_view subject, std::string_view text,
                              std::string& matched) {
  for (const auto& p : table) {
    if (icontains(subject, p.match)) {
      matched = p.match;
      return p.classification;
    }
  }
  // In the body only multi-word phrases count: a single word ("Phishing") in a notice's boiler-
  // plate says nothing about the listed rows, and a wrong class is worse than none.
  std::string_view head = text.substr(0, 3000);
  for (const auto& p : table) {
    if (p.match.find_first_of(" -") == std::string::npos) continue;
    if (icontains(head, p.match)) {
      matched = p.match;
      return p.classification;
    }
  }
  return core::Classification::undetermined();
}

std::string_view line_at(std::string_view text, std::size_t& pos) {
  std::size_t eol = text.find('\n', pos);
  std::string_view line = text.substr(pos, (eol == std::string_view::npos ? text.size() : eol) - pos);
  pos = eol == std::string_view::npos ? text.size() : eol + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

bool parse_notice_text(ParseContext& ctx, std::string_view subject, std::string_view text,
                       const mail::ParsedMail& mail) {
  const auto& table = phrases(ctx.options().data_dir);
  std::string matched;
  // The notice's class, worked out at the first row: most texts have none.
  std::optional<core::Classification> base;
  std::size_t n = 0;
  auto emit = [&](core::Event& e, bool has_malware) {
    if (!base) base = classify(table, subject, text, matched);
    core::Classification cl = *base;
    // A row that carries a valid RSIT classification of its own (IntelMQ-style CSV from a CERT)
    // is more specific than the notice's words.
    auto rt = e.get("extra.reported_taxonomy");
    auto ry = e.get("extra.reported_type");
    bool own_class = false;
    if (rt && ry) {
      auto ri = e.get("extra.reported_identifier");
      if (auto own = core::Classification::parse(*rt, *ry, ri ? *ri : std::string_view{})) {
        cl = *own;
        own_class = true;
      }
    }
    if (has_malware && !own_class && base->type != core::IncidentType::kInfectedSystem) {
      // A malware family per address is the evidence of an infection, whatever the words say.
      cl = core::Classification::of(core::IncidentType::kInfectedSystem, "");
      e.set("extra.classification_basis", "evidence");
    }
    e.set_classification(cl);
    if (!e.time_source()) mail::set_event_time(e, std::nullopt, mail);
    ctx.emit(e);
    ++n;
  };

  // Inline CSV tables. The cell vectors and the event are reused from row to row (an event
  // cleared and filled again in the same order is the one new_event would give).
  std::vector<std::string_view> header, first, cells;
  core::Event e;
  std::size_t pos = 0;
  while (pos < text.size() && n < kMaxRows) {
    std::string_view line = line_at(text, pos);
    char sep = 0;
    for (char s : {',', ';', '\t', '|'}) {
      if (line.find(s) != std::string_view::npos) {
        sep = s;
        break;
      }
    }
    if (sep == 0) continue;
    split_row(line, sep, header);
    std::size_t ip_col = header.size();
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (is_ip_column(header[i])) {
        ip_col = i;
        break;
      }
    }
    if (ip_col == header.size() && header.size() >= 2) {
      // Header names we do not know (other languages, other charsets): the column whose value
      // in the first row is an address.
      std::size_t peek = pos;
      split_row(line_at(text, peek), sep, first);
      if (first.size() == header.size()) {
        for (std::size_t i = 0; i < first.size(); ++i) {
          if (core::IpAddress::parse(trim(first[i])) && !core::IpAddress::parse(trim(header[i]))) {
            ip_col = i;
            break;
          }
        }
      }
    }
    if (ip_col == header.size() || header.size() < 2) continue;
    std::vector<Column> columns;
    columns.reserve(header.size());
    for (std::string_view h : header) columns.push_back(column_of(h));
    std::string header_line(line);
    std::size_t rows_pos = pos;
    while (rows_pos < text.size() && n < kMaxRows) {
      std::size_t before = rows_pos;
      std::string_view row = line_at(text, rows_pos);
      if (trim(row).empty()) break;
      split_row(row, sep, cells);
      if (cells.size() != header.size()) {
        rows_pos = before;
        break;
      }
      auto ip = core::IpAddress::parse(trim(cells[ip_col]));
      if (!ip) {
        rows_pos = before;
        break;
      }
      mail::reset_event(e, mail, "cert-notice");
      e.set_source_ip(*ip);
      bool malware = false;
      for (std::size_t i = 0; i < cells.size(); ++i) {
        if (i != ip_col) malware = apply_column(e, columns[i], cells[i]) || malware;
      }
      e.raw.assign(header_line);
      e.raw += '\n';
      e.raw.append(row);
      emit(e, malware);
    }
    pos = rows_pos;
  }

  // Key/value blocks: paragraphs of "Key: value" lines with an IP key.
  if (n == 0) {
    std::size_t p = 0;
    // The next CRLF blank line is searched again only once passed (searching it from every
    // paragraph scanned the rest of an LF-only text each time: quadratic in the paragraphs).
    std::size_t crlf = text.find("\r\n\r\n");
    while (p < text.size()) {
      std::size_t end = text.find("\n\n", p);
      if (crlf != std::string_view::npos && crlf < p) crlf = text.find("\r\n\r\n", p);
      if (crlf != std::string_view::npos && (end == std::string_view::npos || crlf < end)) end = crlf;
      std::string_view para = text.substr(p, (end == std::string_view::npos ? text.size() : end) - p);
      p = end == std::string_view::npos ? text.size() : end + 2;
      auto fields = mail::parse_header_block(para);
      if (fields.size() < 2) continue;
      std::optional<core::IpAddress> ip;
      for (const auto& f : fields) {
        if (is_ip_column(f.name)) ip = core::IpAddress::parse(trim(f.value));
        if (ip) break;
      }
      if (!ip) continue;
      mail::reset_event(e, mail, "cert-notice");
      e.set_source_ip(*ip);
      bool malware = false;
      for (const auto& f : fields) malware = apply_column(e, column_of(f.name), f.value) || malware;
      e.raw = std::string(trim(para));
      emit(e, malware);
    }
  }
  if (n == 0) return false;
  ctx.set_format("cert-notice", matched.empty() ? "undetermined" : lower(matched));
  return true;
}

bool parse_cert_notice(ParseContext& ctx, const mail::ParsedMail& mail) {
  const std::string& text = mail::mail_text(mail, false);
  return parse_notice_text(ctx, mail.subject, text, mail);
}

namespace {
class CertNoticeFormat final : public Format {
 public:
  std::string_view name() const override { return "cert-notice"; }
  // Standalone notices are plain text: only taken when nothing else claims the input.
  int sniff(const Input&) const override { return 0; }
  void parse(ParseContext& ctx) const override {
    mail::ParsedMail none;
    if (!parse_notice_text(ctx, {}, ctx.input().data, none)) {
      ctx.issue("cert-notice-no-rows", 0, 0, "no table or key/value block with IP addresses found");
    }
  }
};
}  // namespace

const Format& cert_notice_format() {
  static const CertNoticeFormat kFormat;
  return kFormat;
}

}  // namespace klartext::formats::certnotice
