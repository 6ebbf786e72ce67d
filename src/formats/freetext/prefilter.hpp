// Literal prefilter for the free-text rules: one pass over the text tells which patterns cannot match.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace klartext::formats::freetext {

// Stands for a word boundary (\b) in a literal; the scan writes it into the text wherever \b
// matches, so "\bRCE\b" is looked for as "\1rce\1" and "source" does not make the pattern run.
inline constexpr char kWordBoundary = '\x01';

// The literals (ASCII, lower case, kWordBoundary markers) of which every match of a caseless PCRE2
// pattern contains at least one. Empty when the pattern has no such set or uses syntax the analysis
// does not know: then the pattern always runs. Conservative by construction: a pattern may only be skipped
// when none of its literals occurs in the (lowered) text.
std::vector<std::string> required_literals(std::string_view pattern);

// The text as the prefilter sees it: ASCII lower-cased, and the two non-ASCII characters that
// PCRE2's caseless UTF matching equates with ASCII letters (KELVIN SIGN = k, LONG S = s) mapped to
// them; a kWordBoundary byte in the text becomes '\x02' (only the scan writes markers).
std::string prefilter_fold(std::string_view text);

// Aho-Corasick automaton over the literals of all patterns (a dense DFA over the bytes that occur
// in literals). `scan_folding` marks which literals occur in a text.
class LiteralSet {
 public:
  // Returns the literal's id (the same id for the same literal).
  std::uint32_t add(const std::string& literal);
  void build();
  std::size_t size() const { return literals_.size(); }
  // found[id] = 1 for each literal occurring in prefilter_fold of the pieces joined by '\n' (with
  // word boundary markers), folding on the way (no copies); resized to size().
  void scan_folding(std::span<const std::string_view> pieces, std::vector<std::uint8_t>& found) const;

 private:
  static constexpr std::uint32_t kHasOutput = 1u << 31;
  // Where a walk of the automaton is: its row, whether the last character was a word character,
  // and the index in the text after the character it read last.
  struct Walk {
    std::uint32_t row = 0;
    bool word_before = false;
    std::size_t at = 0;
  };
  // Marks the literals ending at `row`.
  void mark(std::uint32_t row, std::vector<std::uint8_t>& found) const;
  // Advances `w` by the character at text[i], which is not ASCII.
  Walk advance_folded(std::string_view text, std::size_t i, Walk w, std::vector<std::uint8_t>& found,
                      bool& ambiguous) const;
  std::vector<std::string> literals_;
  std::uint8_t byte_class_[256] = {};
  std::uint8_t ascii_class_[128] = {};  // class of each ASCII byte's folded form
  std::uint32_t classes_ = 1;
  // row (state * classes_) + class -> target row | kHasOutput; states in breadth-first order.
  std::vector<std::uint32_t> next_;
  std::vector<std::vector<std::uint32_t>> outputs_;  // literals ending at a state (fail chain included)
};

}  // namespace klartext::formats::freetext
