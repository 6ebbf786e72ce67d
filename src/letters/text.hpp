// Small text helpers for letters: making original bytes safe to show in a UTF-8 body, tidying output.
#pragma once

#include <string>
#include <string_view>

namespace klartext::letters {

// One line of original evidence as it can be shown in a UTF-8 text body: invalid UTF-8 becomes U+FFFD,
// CR/LF and other control characters (except TAB) become U+FFFD too, so a row stays one line.
std::string printable_line(std::string_view bytes);
// Like printable_line but keeps line breaks (CRLF and CR become LF).
std::string printable_text(std::string_view bytes);
// "From: ... / Date: ... / Subject: ..." of an original report mail, for the inline excerpt.
std::string mail_summary(std::string_view mail);
// Without leading and trailing whitespace and blank lines.
std::string trim_block(std::string_view s);
// Whitespace runs (including line breaks) collapsed to one space, trimmed.
std::string single_line(std::string_view s);
// Trailing spaces removed, runs of blank lines collapsed to one, exactly one final line end.
std::string normalize_body(std::string_view s);

}  // namespace klartext::letters
