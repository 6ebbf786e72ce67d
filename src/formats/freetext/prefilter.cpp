// Required-literal analysis of the rule patterns and the Aho-Corasick pass that skips the ones that cannot match.
#include "formats/freetext/prefilter.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <limits>
#include <stdexcept>

namespace klartext::formats::freetext {

namespace {

// Bounds of the analysis: beyond them a node keeps only "contains one of" literals.
constexpr std::size_t kMaxExactStrings = 64;
constexpr std::size_t kMaxLiterals = 256;

// PCRE2's word characters without PCRE2_UCP (\b, \w): ASCII letters, digits and '_' only.
constexpr bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// What a pattern node can match. exact: `set` lists every string it can match (lower case, may hold
// ""). Not exact: every match contains one of `set`; an empty set says nothing.
struct Info {
  bool exact = false;
  std::vector<std::string> set;
};

// The caseless form prefilter_fold gives a two-byte UTF-8 letter of Latin-1 (U+00C0-U+00FE) or
// basic Cyrillic (U+0400-U+045F), or "" for any other character. Left out: letters whose caseless
// set reaches beyond the pair the fold handles (ß, ÿ, µ) and the signs × and ÷.
std::string fold_letter(std::string_view ch) {
  if (ch.size() != 2) return {};
  auto b0 = static_cast<unsigned char>(ch[0]), b1 = static_cast<unsigned char>(ch[1]);
  if ((b0 & 0xE0) != 0xC0 || (b1 & 0xC0) != 0x80) return {};  // not one two-byte character
  char32_t c = (static_cast<char32_t>(b0 & 0x1F) << 6) | (b1 & 0x3F);
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7 && c != 0xDF) {
    c += 0x20;
  } else if (c >= 0xE0 && c <= 0xFE && c != 0xF7) {
  } else if (c >= 0x400 && c <= 0x40F) {
    c += 0x50;
  } else if (c >= 0x410 && c <= 0x42F) {
    c += 0x20;
  } else if (c >= 0x430 && c <= 0x45F) {
  } else {
    return {};
  }
  return {static_cast<char>(0xC0 | (c >> 6)), static_cast<char>(0x80 | (c & 0x3F))};
}

Info any_char() {
  return {};
}
Info empty_match() {
  return {true, {std::string()}};
}

constexpr char fold(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

void dedupe(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// The literals that every match contains one of, or nothing.
std::vector<std::string> usable(const Info& i) {
  if (i.set.empty()) return {};
  if (i.exact && std::find(i.set.begin(), i.set.end(), std::string()) != i.set.end()) return {};
  return i.set;
}

// The more selective of two literal sets (longest shortest literal, then fewer literals).
std::vector<std::string> better(std::vector<std::string> a, std::vector<std::string> b) {
  auto shortest = [](const std::vector<std::string>& v) {
    std::size_t m = std::numeric_limits<std::size_t>::max();
    for (const auto& s : v) m = std::min(m, s.size());
    return v.empty() ? 0 : m;
  };
  std::size_t sa = shortest(a), sb = shortest(b);
  if (sa != sb) return sa > sb ? a : b;
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a.size() <= b.size() ? a : b;
}

Info concat(const Info& a, const Info& b) {
  if (a.exact && b.exact && a.set.size() * b.set.size() <= kMaxExactStrings) {
    Info out{true, {}};
    for (const auto& x : a.set) {
      for (const auto& y : b.set) {
        // \b\b is one boundary, and the scan writes one marker per boundary.
        bool twice = !x.empty() && !y.empty() && x.back() == kWordBoundary && y.front() == kWordBoundary;
        out.set.push_back(twice ? x + y.substr(1) : x + y);
      }
    }
    dedupe(out.set);
    return out;
  }
  return {false, better(usable(a), usable(b))};
}

Info alternate(const std::vector<Info>& branches) {
  bool all_exact = std::all_of(branches.begin(), branches.end(), [](const Info& i) { return i.exact; });
  Info out{all_exact, {}};
  for (const Info& b : branches) out.set.insert(out.set.end(), b.set.begin(), b.set.end());
  dedupe(out.set);
  if (all_exact && out.set.size() <= kMaxExactStrings) return out;
  out.exact = false;
  out.set.clear();
  for (const Info& b : branches) {
    auto u = usable(b);
    if (u.empty()) return any_char();
    out.set.insert(out.set.end(), u.begin(), u.end());
  }
  dedupe(out.set);
  return out;
}

class Analyzer {
 public:
  explicit Analyzer(std::string_view p) : p_(p) {}
  bool bad = false;

  Info alternation() {
    std::vector<Info> branches{sequence()};
    while (!bad && pos_ < p_.size() && p_[pos_] == '|') {
      ++pos_;
      branches.push_back(sequence());
    }
    return branches.size() == 1 ? branches.front() : alternate(branches);
  }
  bool at_end() const { return pos_ >= p_.size(); }

 private:
  std::string_view p_;
  std::size_t pos_ = 0;

  Info fail() {
    bad = true;
    return any_char();
  }

  // A run of exact items multiplies out; where the run breaks, its literals compete with the best so far.
  Info sequence() {
    Info run = empty_match();
    std::vector<std::string> best;
    bool broken = false;
    while (!bad && pos_ < p_.size() && p_[pos_] != '|' && p_[pos_] != ')') {
      Info item = quantified(atom());
      if (item.exact && run.set.size() * item.set.size() <= kMaxExactStrings) {
        run = concat(run, item);
        continue;
      }
      broken = true;
      best = better(best, usable(run));
      if (item.exact) {
        run = item;
      } else {
        best = better(best, usable(item));
        run = empty_match();
      }
    }
    if (!broken) return run;
    return {false, better(best, usable(run))};
  }

  Info quantified(Info a) {
    if (bad || pos_ >= p_.size()) return a;
    char c = p_[pos_];
    std::size_t min = 1, max = 1;
    if (c == '?') {
      min = 0;
      ++pos_;
    } else if (c == '*') {
      min = 0, max = 2;
      ++pos_;
    } else if (c == '+') {
      max = 2;
      ++pos_;
    } else if (c == '{') {
      std::size_t close = p_.find('}', pos_);
      if (close == std::string_view::npos) return fail();
      std::string_view q = p_.substr(pos_ + 1, close - pos_ - 1);
      std::size_t comma = q.find(',');
      auto num = [](std::string_view s, std::size_t& out) {
        if (s.empty() || s.size() > 6) return false;
        out = 0;
        for (char d : s) {
          if (d < '0' || d > '9') return false;
          out = out * 10 + static_cast<std::size_t>(d - '0');
        }
        return true;
      };
      if (!num(q.substr(0, comma), min)) return fail();
      if (comma == std::string_view::npos) {
        max = min;
      } else if (comma + 1 == q.size()) {
        max = min + 1;
      } else if (!num(q.substr(comma + 1), max)) {
        return fail();
      }
      pos_ = close + 1;
    } else {
      return a;
    }
    if (pos_ < p_.size() && (p_[pos_] == '?' || p_[pos_] == '+')) ++pos_;  // lazy, possessive
    if (min == 0) {
      if (max == 1 && a.exact && a.set.size() < kMaxExactStrings) {
        a.set.push_back(std::string());
        dedupe(a.set);
        return a;
      }
      return any_char();
    }
    if (min == 1 && max == 1) return a;
    return {false, usable(a)};  // repeated: contains the node's literals
  }

  // One non-ASCII character: a literal when prefilter_fold maps all its caseless variants to one
  // form (Latin-1 and basic Cyrillic letters), else it says nothing.
  Info non_ascii() {
    std::size_t start = pos_++;
    while (pos_ < p_.size() && (static_cast<unsigned char>(p_[pos_]) & 0xC0) == 0x80) ++pos_;
    std::string folded = fold_letter(p_.substr(start, pos_ - start));
    if (folded.empty()) return any_char();
    return {true, {folded}};
  }

  Info group() {
    ++pos_;  // '('
    bool zero_width = false;
    if (pos_ < p_.size() && p_[pos_] == '?') {
      std::string_view rest = p_.substr(pos_);
      if (rest.starts_with("?:")) {
        pos_ += 2;
      } else if (rest.starts_with("?=") || rest.starts_with("?!")) {
        pos_ += 2;
        zero_width = true;
      } else if (rest.starts_with("?<=") || rest.starts_with("?<!")) {
        pos_ += 3;
        zero_width = true;
      } else if (rest.starts_with("?m)") || rest.starts_with("?i)")) {
        pos_ += 3;
        return empty_match();  // multiline only moves ^ and $; caseless is already on
      } else {
        return fail();
      }
    }
    Info inner = alternation();
    if (bad || pos_ >= p_.size() || p_[pos_] != ')') return fail();
    ++pos_;
    return zero_width ? empty_match() : inner;
  }

  Info char_class() {
    ++pos_;  // '['
    bool negated = pos_ < p_.size() && p_[pos_] == '^';
    if (negated) ++pos_;
    bool unknown = negated;
    std::vector<std::string> chars;
    bool first = true;
    while (pos_ < p_.size() && (p_[pos_] != ']' || first)) {
      first = false;
      unsigned char c = static_cast<unsigned char>(p_[pos_]);
      if (c >= 0x80) {
        Info letter = non_ascii();
        if (letter.exact) {
          chars.push_back(letter.set.front());
        } else {
          unknown = true;
        }
        continue;
      }
      if (c == '[') return fail();  // POSIX classes
      char lit = static_cast<char>(c);
      if (c == '\\') {
        if (pos_ + 1 >= p_.size()) return fail();
        char e = p_[pos_ + 1];
        pos_ += 2;
        if (e == 'd' || e == 'D' || e == 's' || e == 'S' || e == 'w' || e == 'W' || e == 'h' || e == 'v') {
          unknown = true;
          continue;
        }
        if (e == 't') {
          lit = '\t';
        } else if (e == 'n') {
          lit = '\n';
        } else if (e == 'r') {
          lit = '\r';
        } else if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
          return fail();
        } else {
          lit = e;
        }
      } else {
        ++pos_;
      }
      if (pos_ + 1 < p_.size() && p_[pos_] == '-' && p_[pos_ + 1] != ']') {
        unsigned char hi = static_cast<unsigned char>(p_[pos_ + 1]);
        if (hi >= 0x80 || hi == '\\' || hi == '[') return fail();
        pos_ += 2;
        if (hi < static_cast<unsigned char>(lit)) return fail();
        if (hi - static_cast<unsigned char>(lit) > 8) {
          unknown = true;
          continue;
        }
        for (int x = static_cast<unsigned char>(lit); x <= hi; ++x) chars.emplace_back(1, fold(static_cast<char>(x)));
        continue;
      }
      chars.emplace_back(1, fold(lit));
    }
    if (pos_ >= p_.size()) return fail();
    ++pos_;  // ']'
    dedupe(chars);
    if (unknown || chars.empty() || chars.size() > 8) return any_char();
    return {true, chars};
  }

  Info escape() {
    if (pos_ + 1 >= p_.size()) return fail();
    char e = p_[pos_ + 1];
    pos_ += 2;
    switch (e) {
      case 'b': return {true, {std::string(1, kWordBoundary)}};
      case 'B':
      case 'A':
      case 'z':
      case 'Z':
      case 'G': return empty_match();
      case 'd':
      case 'D':
      case 's':
      case 'S':
      case 'w':
      case 'W':
      case 'h':
      case 'H':
      case 'v':
      case 'V':
      case 'N': return any_char();
      case 't': return {true, {"\t"}};
      case 'n': return {true, {"\n"}};
      case 'r': return {true, {"\r"}};
      default: break;
    }
    if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) return fail();
    if (static_cast<unsigned char>(e) >= 0x80) return fail();
    return {true, {std::string(1, e)}};
  }

  Info atom() {
    unsigned char c = static_cast<unsigned char>(p_[pos_]);
    if (c >= 0x80) return non_ascii();
    switch (c) {
      case '(': return group();
      case '[': return char_class();
      case '\\': return escape();
      case '.': ++pos_; return any_char();
      case '^':
      case '$': ++pos_; return empty_match();
      case '*':
      case '+':
      case '?':
      case '{': return fail();
      default: ++pos_; return {true, {std::string(1, fold(static_cast<char>(c)))}};
    }
  }
};

}  // namespace

std::vector<std::string> required_literals(std::string_view pattern) {
  Analyzer a(pattern);
  Info root = a.alternation();
  if (a.bad || !a.at_end()) return {};
  auto out = usable(root);
  if (out.size() > kMaxLiterals) return {};
  // The scan writes a marker wherever the text changes between word and non-word characters; a
  // literal spells out the same markers inside it (a "c&c" in the text reads "c\1&\1c").
  for (std::string& l : out) {
    std::string marked;
    for (std::size_t i = 0; i < l.size(); ++i) {
      if (l[i] == kWordBoundary) {
        if (marked.empty() || marked.back() != kWordBoundary) marked += kWordBoundary;
        continue;
      }
      if (!marked.empty() && marked.back() != kWordBoundary &&
          is_word_byte(static_cast<unsigned char>(marked.back())) != is_word_byte(static_cast<unsigned char>(l[i]))) {
        marked += kWordBoundary;
      }
      marked += l[i];
    }
    l = std::move(marked);
  }
  dedupe(out);
  return out;
}

namespace {

// The folded form of each ASCII byte: lower case, and a raw marker byte made another control byte
// (only the scan writes markers).
constexpr std::array<char, 128> kAsciiFold = [] {
  std::array<char, 128> t{};
  for (int i = 0; i < 128; ++i) t[static_cast<std::size_t>(i)] = fold(static_cast<char>(i));
  t[static_cast<unsigned char>(kWordBoundary)] = '\x02';
  return t;
}();

// Calls emit(byte, word) for each byte of the folded form of `text` (prefilter_fold), so a scan can
// fold as it goes instead of building the folded copy; `word` says whether PCRE2 counts the
// original character as a word character. Sets `ambiguous` on KELVIN SIGN and LONG S: they fold to
// word letters but are no word characters, so the markers around them may differ from a literal's.
// Calls emit(byte, word) for the folded form of the character at text[i], which is not ASCII,
// and returns the index after it (see fold_each).
template <class Emit>
std::size_t fold_at(std::string_view text, std::size_t i, Emit&& emit, bool& ambiguous) {
  auto c = static_cast<unsigned char>(text[i]);
  if (c == 0xE2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x84 &&
      static_cast<unsigned char>(text[i + 2]) == 0xAA) {
    ambiguous = true;
    emit('k', false);  // U+212A KELVIN SIGN
    return i + 3;
  }
  if (c == 0xC5 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xBF) {
    ambiguous = true;
    emit('s', false);  // U+017F LATIN SMALL LETTER LONG S
    return i + 2;
  }
  if (c == 0xE2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x84 &&
      static_cast<unsigned char>(text[i + 2]) == 0xAB) {
    emit(static_cast<char>(0xC3), false);  // U+212B ANGSTROM SIGN = å
    emit(static_cast<char>(0xA5), false);
    return i + 3;
  }
  if (c == 0xE1 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xB2 &&
      static_cast<unsigned char>(text[i + 2]) >= 0x80 && static_cast<unsigned char>(text[i + 2]) <= 0x86) {
    // U+1C80-U+1C86, old Cyrillic letter forms that fold to в д о с т т ъ.
    static constexpr char32_t kBase[] = {0x432, 0x434, 0x43E, 0x441, 0x442, 0x442, 0x44A};
    char32_t b = kBase[static_cast<unsigned char>(text[i + 2]) - 0x80];
    emit(static_cast<char>(0xC0 | (b >> 6)), false);
    emit(static_cast<char>(0x80 | (b & 0x3F)), false);
    return i + 3;
  }
  if ((c == 0xC3 || c == 0xD0 || c == 0xD1) && i + 1 < text.size()) {
    std::string f = fold_letter(text.substr(i, 2));
    if (f.empty()) {
      emit(static_cast<char>(c), false);
      return i + 1;
    }
    emit(f[0], false);
    emit(f[1], false);
    return i + 2;
  }
  emit(static_cast<char>(c), false);
  return i + 1;
}

// Calls emit(byte, word) for each byte of the folded form of `text` (prefilter_fold), so a scan can
// fold as it goes instead of building the folded copy; `word` says whether PCRE2 counts the
// original character as a word character. Sets `ambiguous` on KELVIN SIGN and LONG S: they fold to
// word letters but are no word characters, so the markers around them may differ from a literal's.
template <class Emit>
void fold_each(std::string_view text, Emit&& emit, bool& ambiguous) {
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      emit(kAsciiFold[c], is_word_byte(c));
      ++i;
    } else {
      i = fold_at(text, i, emit, ambiguous);
    }
  }
}

}  // namespace

std::string prefilter_fold(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool ambiguous = false;
  fold_each(
      text, [&out](char c, bool) { out.push_back(c); }, ambiguous);
  return out;
}

std::uint32_t LiteralSet::add(const std::string& literal) {
  for (std::uint32_t i = 0; i < literals_.size(); ++i) {
    if (literals_[i] == literal) return i;
  }
  literals_.push_back(literal);
  return static_cast<std::uint32_t>(literals_.size() - 1);
}

void LiteralSet::build() {
  std::fill(std::begin(byte_class_), std::end(byte_class_), 0);
  classes_ = 1;
  for (const auto& l : literals_) {
    for (char ch : l) {
      auto b = static_cast<unsigned char>(ch);
      if (byte_class_[b] == 0) byte_class_[b] = static_cast<std::uint8_t>(classes_++);
    }
  }
  // Trie first (0 = no edge yet, the root is state 0 and never a target).
  std::vector<std::vector<std::uint32_t>> trie(1, std::vector<std::uint32_t>(classes_, 0));
  outputs_.assign(1, {});
  for (std::uint32_t id = 0; id < literals_.size(); ++id) {
    std::uint32_t s = 0;
    for (char ch : literals_[id]) {
      std::uint32_t k = byte_class_[static_cast<unsigned char>(ch)];
      if (trie[s][k] == 0) {
        trie[s][k] = static_cast<std::uint32_t>(trie.size());
        trie.emplace_back(classes_, 0);
        outputs_.emplace_back();
      }
      s = trie[s][k];
    }
    outputs_[s].push_back(id);
  }
  // Breadth first: failure links folded into the transitions (a DFA).
  std::vector<std::uint32_t> fail(trie.size(), 0);
  std::deque<std::uint32_t> queue;
  // The states in breadth-first order become the new state numbers: the root and the shallow
  // states, where a scan of ordinary text spends nearly all its steps, share a few cache lines
  // instead of being spread over the whole table (trie order puts each literal's states together).
  std::vector<std::uint32_t> order{0};
  order.reserve(trie.size());
  for (std::uint32_t k = 0; k < classes_; ++k) {
    if (trie[0][k] != 0) queue.push_back(trie[0][k]);
  }
  while (!queue.empty()) {
    std::uint32_t s = queue.front();
    queue.pop_front();
    order.push_back(s);
    const auto& inherited = outputs_[fail[s]];
    outputs_[s].insert(outputs_[s].end(), inherited.begin(), inherited.end());
    for (std::uint32_t k = 0; k < classes_; ++k) {
      std::uint32_t t = trie[s][k];
      if (t != 0) {
        fail[t] = trie[fail[s]][k];
        queue.push_back(t);
      } else {
        trie[s][k] = trie[fail[s]][k];
      }
    }
  }
  std::vector<std::uint32_t> number(trie.size(), 0);
  for (std::uint32_t n = 0; n < order.size(); ++n) number[order[n]] = n;
  std::vector<std::vector<std::uint32_t>> outputs(trie.size());
  for (std::uint32_t n = 0; n < order.size(); ++n) outputs[n] = std::move(outputs_[order[n]]);
  outputs_ = std::move(outputs);
  // Transitions hold the target's row offset, with kHasOutput set when literals end there: the
  // scan loop then touches the outputs only on a hit.
  if (order.size() * classes_ >= kHasOutput) throw std::runtime_error("rules: too many pattern literals");
  next_.assign(order.size() * classes_, 0);
  for (std::size_t n = 0; n < order.size(); ++n) {
    for (std::uint32_t k = 0; k < classes_; ++k) {
      std::uint32_t t = number[trie[order[n]][k]];
      next_[n * classes_ + k] = t * classes_ | (outputs_[t].empty() ? 0 : kHasOutput);
    }
  }
  for (std::size_t c = 0; c < kAsciiFold.size(); ++c)
    ascii_class_[c] = byte_class_[static_cast<unsigned char>(kAsciiFold[c])];
}

void LiteralSet::mark(std::uint32_t row, std::vector<std::uint8_t>& found) const {
  for (std::uint32_t id : outputs_[row / classes_]) found[id] = 1;
}

LiteralSet::Walk LiteralSet::advance_folded(std::string_view text, std::size_t i, Walk w,
                                            std::vector<std::uint8_t>& found, bool& ambiguous) const {
  auto step = [&](std::uint8_t cls) {
    const std::uint32_t t = next_[w.row + cls];
    w.row = t & ~kHasOutput;
    if ((t & kHasOutput) != 0) mark(w.row, found);
  };
  w.at = fold_at(
      text, i,
      [&](char ch, bool word) {
        if (word != w.word_before) {
          step(byte_class_[static_cast<unsigned char>(kWordBoundary)]);
          w.word_before = word;
        }
        step(byte_class_[static_cast<unsigned char>(ch)]);
      },
      ambiguous);
  return w;
}

void LiteralSet::scan_folding(std::span<const std::string_view> pieces, std::vector<std::uint8_t>& found) const {
  found.assign(literals_.size(), 0);
  if (literals_.empty()) return;
  bool ambiguous = false;
  const std::uint32_t* const next = next_.data();
  const std::uint8_t boundary = byte_class_[static_cast<unsigned char>(kWordBoundary)];
  // One step of the walk of the automaton over the folded text; a marker goes before each
  // character that is a word character when the one before is not, or the other way round (the
  // start and the end count as non-word). The walk's row and flag are plain locals (kept in
  // registers): a character that is not ASCII goes through advance_folded.
  auto step = [&](std::uint32_t& row, std::uint8_t cls) {
    const std::uint32_t t = next[row + cls];
    row = t & ~kHasOutput;
    if ((t & kHasOutput) != 0) mark(row, found);
  };
  auto ascii = [&](std::uint32_t& row, bool& word_before, unsigned char c) {
    const bool word = is_word_byte(c);
    if (word != word_before) {
      step(row, boundary);
      word_before = word;
    }
    step(row, ascii_class_[c]);
  };
  // Advances the walk by the character of `text` at `i`.
  auto advance = [&](std::string_view text, std::size_t& i, std::uint32_t& row, bool& word_before) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ascii(row, word_before, c);
      ++i;
      return;
    }
    Walk w = advance_folded(text, i, Walk{row, word_before, 0}, found, ambiguous);
    row = w.row;
    word_before = w.word_before;
    i = w.at;
  };
  std::uint32_t row = 0;
  bool word_before = false;
  for (std::size_t k = 0; k < pieces.size(); ++k) {
    if (k > 0) ascii(row, word_before, '\n');
    const std::string_view text = pieces[k];
    for (std::size_t i = 0; i < text.size();) advance(text, i, row, word_before);
  }
  if (word_before) step(row, boundary);
  // Around a KELVIN SIGN or LONG S the markers may not be where a match has them: run everything.
  if (ambiguous) std::fill(found.begin(), found.end(), 1);
}

}  // namespace klartext::formats::freetext
