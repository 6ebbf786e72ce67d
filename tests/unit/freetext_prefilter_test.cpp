// The literal prefilter of the free-text rules never skips a pattern that matches (and skips what it can).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "formats/freetext/prefilter.hpp"
#include "formats/freetext/rules.hpp"

namespace klartext::formats::freetext {
namespace {

std::vector<std::string> lits(std::string_view p) {
  auto v = required_literals(p);
  std::sort(v.begin(), v.end());
  return v;
}

TEST(FreetextPrefilter, Literals) {
  EXPECT_EQ(lits("Failed password"), (std::vector<std::string>{"failed\1 \1password"}));
  // \b is a marker in the literal (the scan writes one wherever \b matches); a literal spells out
  // the markers between its own word and non-word characters.
  EXPECT_EQ(lits("\\bspam(s|mer)?\\b"), (std::vector<std::string>{"\1spam\1", "\1spammer\1", "\1spams\1"}));
  EXPECT_EQ(lits("\\bC&C\\b|\\b\\bRCE"), (std::vector<std::string>{"\1c\1&\1c\1", "\1rce"}));
  EXPECT_EQ(lits("brute[ -]?forc|bruteforc"),
            (std::vector<std::string>{"brute\1 \1forc", "brute\1-\1forc", "bruteforc"}));
  EXPECT_EQ(lits("CVE-\\d{4}-\\d{4,}"), (std::vector<std::string>{"cve\1-"}));
  EXPECT_EQ(lits("(?m)^[> \\t]*Received:\\s+from\\s"), (std::vector<std::string>{"received\1:"}));
  // A branch without a literal, or a pattern matching the empty string: no prefilter.
  EXPECT_TRUE(lits("ssh|\\d+").empty());
  EXPECT_TRUE(lits("(abc)?").empty());
  // Latin-1 and basic Cyrillic letters are folded like ASCII; other non-ASCII characters are not literals.
  EXPECT_EQ(lits("Überlastung"), (std::vector<std::string>{"ü\1berlastung"}));
  EXPECT_EQ(lits("СПАМ|фишинг"), (std::vector<std::string>{"спам", "фишинг"}));
  EXPECT_EQ(lits("Straße"), (std::vector<std::string>{"stra"}));
  // Syntax the analysis does not know: no prefilter (the pattern always runs).
  EXPECT_TRUE(lits("\\x41bc").empty());
  EXPECT_TRUE(lits("(?x) a b").empty());
}

TEST(FreetextPrefilter, ScanFindsOverlappingLiterals) {
  LiteralSet set;
  auto he = set.add("he");
  auto she = set.add("she");
  auto hers = set.add("hers");
  auto x = set.add("xyz");
  set.build();
  std::vector<std::uint8_t> found;
  const std::string_view text[] = {"uSHErs"};
  set.scan_folding(text, found);
  EXPECT_TRUE(found[he] && found[she] && found[hers]);
  EXPECT_FALSE(found[x]);
  // Caseless UTF matching equates KELVIN SIGN with k and LONG S with s.
  EXPECT_EQ(prefilter_fold("\xE2\x84\xAAILL \xC5\xBFPAM"), "kill spam");
  EXPECT_EQ(prefilter_fold("ÜBER Ѐ СПАМ \xE1\xB2\x83пам \xE2\x84\xABngström"), "über ѐ спам спам ångström");
  // An invalid sequence keeps the byte after it (PCRE2 can match there).
  EXPECT_EQ(prefilter_fold("\xC3"
                           "A\xD0"),
            "\xC3"
            "a\xD0");
}

// The scan writes a marker wherever \b matches: at the ends of the text and of each piece, and
// between word and non-word characters (non-ASCII characters are no word characters for PCRE2).
TEST(FreetextPrefilter, ScanMarksWordBoundaries) {
  LiteralSet set;
  auto rce = set.add(required_literals("\\bRCE\\b").front());
  auto cc = set.add(required_literals("\\bC&C\\b").front());
  auto over = set.add(required_literals("über").front());
  set.build();
  auto scan = [&set](std::vector<std::string_view> pieces) {
    std::vector<std::uint8_t> found;
    set.scan_folding(pieces, found);
    return found;
  };
  EXPECT_FALSE(scan({"the source of force"})[rce]);
  EXPECT_TRUE(scan({"an RCE attempt"})[rce]);
  EXPECT_TRUE(scan({"RCE"})[rce]);
  EXPECT_TRUE(scan({"x", "rce", "y"})[rce]);
  EXPECT_TRUE(scan({"(rce)"})[rce]);
  EXPECT_TRUE(scan({"\xC3\xA4rce\xC3\xA4"})[rce]);  // äRCEä: \b matches between ä and R
  EXPECT_FALSE(scan({"rce_1"})[rce]);
  EXPECT_TRUE(scan({"a C&C server"})[cc]);
  EXPECT_FALSE(scan({"aC&C"})[cc]);
  EXPECT_TRUE(
      scan({"\xC3\x9C"
            "BER"})[over]);
  // A control byte in the text is a non-word character like any other (PCRE2 matches there too).
  EXPECT_TRUE(scan({"x\1rce\1y"})[rce]);
  // KELVIN SIGN and LONG S fold to word letters but are no word characters: everything runs.
  auto all = scan({"\xE2\x84\xAA"});
  EXPECT_TRUE(all[rce] && all[cc] && all[over]);
}

// The folded text with its word-boundary markers, as the scan reads it (for texts without KELVIN
// SIGN and LONG S): plain search in it is the oracle for the scan over long texts.
std::string marked_text(const std::vector<std::string_view>& pieces) {
  std::string marked;
  bool word_before = false;
  auto emit = [&](char c) {
    auto b = static_cast<unsigned char>(c);
    bool word = (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '_';
    if (word != word_before) {
      marked += kWordBoundary;
      word_before = word;
    }
    marked += c;
  };
  for (std::size_t k = 0; k < pieces.size(); ++k) {
    if (k > 0) emit('\n');
    for (char c : prefilter_fold(pieces[k])) emit(c);
  }
  if (word_before) marked += kWordBoundary;
  return marked;
}

TEST(FreetextPrefilter, LongTextsScanLikeShortOnes) {
  const std::vector<std::string_view> words = {"failed", "password", "for",  "root", "from", "RCE",
                                               "c&c",    "Über",     "спам", "port", "scan", "192.0.2.1",
                                               "ä",      "x",        "__",   "-",    ".",    "Ж"};
  std::uint32_t seed = 12345;
  auto next = [&seed] {
    seed = seed * 1103515245u + 12345u;
    return seed >> 16;
  };
  for (int round = 0; round < 20; ++round) {
    std::string text;
    while (text.size() < 9000 + static_cast<std::size_t>(round) * 700) {
      text += words[next() % words.size()];
      text += " \n\t,:"[next() % 5];
    }
    const std::string marked = marked_text({text});
    // Literals of the rules' kind, and literals cut from the text.
    std::vector<std::string> literals = {
        required_literals("\\bRCE\\b").front(), required_literals("failed password").front(),
        required_literals("über").front(), required_literals("\\bC&C\\b").front(), "nowhere in the text"};
    for (int k = 0; k < 40; ++k) {
      std::size_t at = next() * 7919u % (marked.size() - 16), len = 2 + next() % 14;
      literals.push_back(marked.substr(at, len));
    }
    LiteralSet set;
    std::vector<std::string> by_id;
    for (const auto& l : literals) {
      if (set.add(l) == by_id.size()) by_id.push_back(l);
    }
    set.build();
    for (const std::vector<std::string_view>& pieces :
         {std::vector<std::string_view>{text}, std::vector<std::string_view>{"subject RCE", text, "tail"}}) {
      std::vector<std::uint8_t> found;
      set.scan_folding(pieces, found);
      const std::string m = marked_text(pieces);
      for (std::size_t id = 0; id < by_id.size(); ++id) {
        EXPECT_EQ(found[id] != 0, m.find(by_id[id]) != std::string::npos) << "round " << round << " literal " << id;
      }
    }
  }
}

// Every pattern of the shipped rules: wherever PCRE2 finds a match, the prefilter lets it run.
TEST(FreetextPrefilter, NeverSkipsAMatch) {
  const RuleSet& rules = rules_for({});
  YAML::Node cases = YAML::LoadFile(std::string(KLARTEXT_TEST_DATA) + "/freetext/rule_cases.yaml")["cases"];
  std::vector<std::string> texts;
  for (const auto& c : cases) texts.push_back(c["subject"].as<std::string>("") + "\n" + c["body"].as<std::string>());
  texts.push_back("SPAM from \xC5\xBFpam SSH BRUTE-FORCE Überlastungsangriff DDoS-Angriff");
  texts.push_back("ФИШИНГ СПАМ \xE1\xB2\x83ПАМ ЗАРАЖЕН БОТНЕТ ВЗЛОМ Перебор DÉNI DE SERVICE FUERZA BRUTA");
  std::size_t filtered = 0, total = 0;
  for (const Rule& r : rules.rules) {
    std::vector<const Regex*> all;
    for (const auto& v : r.veto) all.push_back(&v);
    for (const auto& p : r.words) all.push_back(&p.regex);
    for (const auto& p : r.evidence) all.push_back(&p.regex);
    for (const Regex* re : all) {
      ++total;
      if (!re->literals().empty()) ++filtered;
      for (const auto& t : texts) {
        LiteralSet one;
        for (const auto& l : re->literals()) one.add(l);
        one.build();
        std::vector<std::uint8_t> found;
        const std::string_view pieces[] = {t};
        one.scan_folding(pieces, found);
        bool any = re->literals().empty() || std::find(found.begin(), found.end(), 1) != found.end();
        if (re->search(t)) {
          EXPECT_TRUE(any) << r.id << ": " << re->pattern();
        }
      }
    }
  }
  // Most patterns get a prefilter (the point of it).
  EXPECT_GE(filtered * 10, total * 8) << filtered << " of " << total;
}

}  // namespace
}  // namespace klartext::formats::freetext
