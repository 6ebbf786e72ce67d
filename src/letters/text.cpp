// Text helpers for letters (UTF-8 validation, whitespace tidying, report mail summaries).
#include "letters/text.hpp"

#include <cctype>
#include <cstdint>

#include "letters/letter.hpp"

namespace klartext::letters {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not valid (overlongs, surrogates rejected).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  const std::uint8_t c = b(i);
  if (c < 0x80) return 1;
  std::size_t len = 0;
  std::uint32_t cp = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

std::string printable(std::string_view bytes, bool keep_lines) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    const char c = bytes[i];
    if (keep_lines && (c == '\n' || c == '\r')) {
      out.push_back('\n');
      i += (c == '\r' && i + 1 < bytes.size() && bytes[i + 1] == '\n') ? 2 : 1;
      continue;
    }
    const auto u = static_cast<std::uint8_t>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F) {
      out += kReplacement;
      ++i;
      continue;
    }
    const std::size_t len = utf8_length(bytes, i);
    if (len == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(bytes.substr(i, len));
      i += len;
    }
  }
  return out;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

std::string printable_line(std::string_view bytes) {
  return printable(bytes, false);
}
std::string printable_text(std::string_view bytes) {
  return printable(bytes, true);
}

std::string mail_summary(std::string_view mail) {
  std::string out;
  std::size_t pos = 0;
  while (pos < mail.size()) {
    std::size_t end = mail.find('\n', pos);
    if (end == std::string_view::npos) end = mail.size();
    std::string_view line = mail.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header
    for (std::string_view name : {"from:", "date:", "subject:"}) {
      if (istarts_with(line, name)) {
        out += printable_line(line);
        out += '\n';
      }
    }
    pos = end + 1;
  }
  return out;
}

std::string trim_block(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

std::string single_line(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (is_space(c)) {
      space = !out.empty();
    } else {
      if (space) out.push_back(' ');
      space = false;
      out.push_back(c);
    }
  }
  return out;
}

std::string normalize_body(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t blank_run = 0;
  std::size_t pos = 0;
  bool started = false;
  while (pos <= s.size()) {
    std::size_t end = s.find('\n', pos);
    if (end == std::string_view::npos) end = s.size();
    std::string_view line = s.substr(pos, end - pos);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.remove_suffix(1);
    if (line.empty()) {
      ++blank_run;
    } else {
      if (started && blank_run > 0) out += '\n';
      out.append(line);
      out += '\n';
      blank_run = 0;
      started = true;
    }
    pos = end + 1;
  }
  return out;
}

Evidence evidence_from_raw(std::string_view raw, bool csv, std::string source_name) {
  Evidence e;
  e.source_name = std::move(source_name);
  auto strip_eol = [](std::string_view v) {
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.remove_suffix(1);
    return v;
  };
  if (csv) {
    const std::size_t nl = raw.find('\n');
    if (nl != std::string_view::npos) {
      e.kind = EvidenceKind::kCsvRow;
      e.header = std::string(strip_eol(raw.substr(0, nl)));
      e.bytes = std::string(strip_eol(raw.substr(nl + 1)));
      return e;
    }
  }
  e.kind = EvidenceKind::kText;
  e.bytes = std::string(strip_eol(raw));
  return e;
}

}  // namespace klartext::letters
