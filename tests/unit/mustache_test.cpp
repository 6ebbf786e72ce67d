// MustacheTemplate against its oracle, kainjow/mustache 4.1: every template and edge case, random data.
#include "letters/mustache.hpp"

#include <gtest/gtest.h>

#include <kainjow/mustache.hpp>
#include <optional>
#include <random>
#include <stdexcept>

#include "core/embedded.hpp"

using namespace klartext;

namespace {

namespace mu = kainjow::mustache;

// The same data in both models.
struct Both {
  letters::TemplateValue ours;
  mu::data theirs;
};

const std::vector<std::string> kNames = {"a",
                                         "b",
                                         "c",
                                         "number",
                                         "heading",
                                         "address",
                                         "has_port",
                                         "port",
                                         "transport",
                                         "single_time",
                                         "once",
                                         "probe",
                                         "factor",
                                         "amplifier",
                                         "baf_max",
                                         "baf_typical",
                                         "has_text",
                                         "one_case",
                                         "summary",
                                         "cases",
                                         "block",
                                         "attachments",
                                         "name",
                                         "has_evidence",
                                         "evidence",
                                         "remediation",
                                         "check",
                                         "documentation_url",
                                         "organisation",
                                         "customer_id",
                                         "first_heading",
                                         "unknown_text",
                                         "explanation",
                                         "what"};

const std::vector<std::string> kStrings = {"",      "x",     " ",        "\t ",  "two\nlines", "trailing\n",
                                           "{{a}}", "Größe", "\r\nCRLF", "\x1f", "  indented", "{{#a}}open"};

Both random_value(std::mt19937& rng, int depth);

Both random_object(std::mt19937& rng, int depth) {
  Both out;
  const int members = std::uniform_int_distribution<int>(0, depth > 1 ? 4 : 14)(rng);
  for (int i = 0; i < members; ++i) {
    const std::string& name = kNames[std::uniform_int_distribution<std::size_t>(0, kNames.size() - 1)(rng)];
    Both v = random_value(rng, depth + 1);
    out.ours.set(name, std::move(v.ours));
    out.theirs.set(name, v.theirs);
  }
  return out;
}

Both random_value(std::mt19937& rng, int depth) {
  const int kind = std::uniform_int_distribution<int>(0, depth > 2 ? 2 : 5)(rng);
  switch (kind) {
    case 0: {
      const std::string& s = kStrings[std::uniform_int_distribution<std::size_t>(0, kStrings.size() - 1)(rng)];
      return {letters::TemplateValue(s), mu::data(s)};
    }
    case 1: return {letters::TemplateValue::flag(true), mu::data(mu::data::type::bool_true)};
    case 2: return {letters::TemplateValue::flag(false), mu::data(mu::data::type::bool_false)};
    case 3:
    case 4: return random_object(rng, depth);
    default: {
      Both out{letters::TemplateValue::list(), mu::data(mu::data::type::list)};
      const int items = std::uniform_int_distribution<int>(0, 3)(rng);
      for (int i = 0; i < items; ++i) {
        Both v = random_value(rng, depth + 1);
        out.ours.push_back(std::move(v.ours));
        out.theirs.push_back(v.theirs);
      }
      return out;
    }
  }
}

// nullopt when rendering failed (a partial that does not parse).
std::optional<std::string> kainjow_render(const std::string& text, const mu::data& d) {
  mu::mustache t(text);
  EXPECT_TRUE(t.is_valid()) << t.error_message();
  t.set_custom_escape([](const std::string& s) { return s; });
  std::string out = t.render(d);
  if (!t.is_valid()) return std::nullopt;
  return out;
}

std::optional<std::string> our_render(const letters::MustacheTemplate& t, const letters::TemplateValue& d) {
  try {
    return t.render(d);
  } catch (const std::runtime_error&) {
    return std::nullopt;
  }
}

void expect_same(const std::string& text, int rounds, std::uint32_t seed) {
  const letters::MustacheTemplate ours(text);
  std::mt19937 rng(seed);
  for (int i = 0; i < rounds; ++i) {
    const Both d = random_object(rng, 0);
    ASSERT_EQ(our_render(ours, d.ours), kainjow_render(text, d.theirs)) << "template:\n" << text << "\nround " << i;
  }
}

TEST(Mustache, EveryShippedTemplateRendersAsKainjow) {
  const auto files = core::embedded_files("templates/");
  ASSERT_FALSE(files.empty());
  std::uint32_t seed = 1;
  for (std::string_view path : files) {
    SCOPED_TRACE(std::string(path));
    expect_same(std::string(*core::embedded_file(path)), 50, seed++);
  }
}

TEST(Mustache, EdgeCasesRenderAsKainjow) {
  const std::vector<std::string> templates = {
      "",
      "plain text\nno tags\n",
      "{{a}}",
      "{{{a}}} {{&b}} {{ c }}",
      "{{#a}}\n{{b}}\n{{/a}}\n",
      "  {{#a}}  \n  x\n  {{/a}}  \nend",
      "{{^a}}none{{/a}}{{#a}}some{{/a}}",
      "line\n\n{{#a}}{{/a}}\n\nafter\n",
      "{{#summary}}\n  {{number}}. {{heading}} ({{address}})\n{{/summary}}\n",
      "{{#cases}}\n{{{block}}}\n\n{{/cases}}\nEnd",
      "{{#a}}{{#b}}{{c}}{{/b}}{{/a}}",
      "{{a.b}} {{a.b.c}} {{summary.number}} {{a.}} {{.a}} {{a..b}}",
      "{{#a}}{{.}}{{/a}}|{{^a}}{{.}}{{/a}}",
      "{{! comment }}\n{{!another}}text\n  {{! standalone }}  \n",
      "{{=<% %>=}}<% a %> {{a}} <%#b%>x<%/b%><%={{ }}=%>{{c}}",
      "{{>a}} and {{>block}}",
      "a\r\nb\rc\n{{#a}}\r\n{{/a}}\r\n",
      "{{}}",
      "\t{{#has_port}}\t\n{{port}}\t\n\t{{/has_port}}\t",
      "{{#a}}x{{/a}}   \n",
      "x{{#a}}\n{{/a}}",
      "{{#a}}{{/a}}",
      "{{^a}}{{/a}}\n\n",
      "end{{",
  };
  std::uint32_t seed = 1000;
  for (const std::string& t : templates) {
    if (!mu::mustache(t).is_valid()) continue;  // "end{{" is rejected; see the next test
    expect_same(t, 100, seed++);
  }
}

// The line keeper renders as kainjow renders the text with it, minus the keeper itself.
TEST(Mustache, LineKeeperIsKainjowWithTheMarkerDeleted) {
  const std::vector<std::string> templates = {
      "a\n{{#a}}{{/a}}\x1f\nb\n",
      "{{#a}}\n\x1f\n{{/a}}\n\x1f{{^b}}{{/b}}\nend\x1f",
      "\x1f",
      "x\x1fy {{c}}\x1f\n\n{{#summary}}\x1f  {{number}}\n{{/summary}}",
  };
  std::uint32_t seed = 5000;
  for (const std::string& text : templates) {
    const letters::MustacheTemplate ours(text, '\x1f');
    std::mt19937 rng(seed++);
    for (int i = 0; i < 100; ++i) {
      const Both d = random_object(rng, 0);
      std::optional<std::string> theirs = kainjow_render(text, d.theirs);
      ASSERT_TRUE(theirs);
      std::optional<std::string> mine = our_render(ours, d.ours);
      ASSERT_TRUE(mine);
      // Values may hold the marker too (kStrings has one): delete it from both for the comparison.
      std::erase(*theirs, '\x1f');
      std::erase(*mine, '\x1f');
      ASSERT_EQ(*mine, *theirs) << "template:\n" << text << "\nround " << i;
    }
  }
}

TEST(Mustache, ParseErrorsAreKainjows) {
  for (const std::string t : {"{{#a}}open", "{{/a}}", "{{a", "{{#a}}{{/b}}", "end{{", "{{=x=}}"}) {
    const mu::mustache theirs(t);
    ASSERT_FALSE(theirs.is_valid()) << t;
    try {
      letters::MustacheTemplate ours(t);
      ADD_FAILURE() << "parsed: " << t;
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(e.what(), theirs.error_message());
    }
  }
}

TEST(Mustache, PartialThatDoesNotParseThrows) {
  const letters::MustacheTemplate t("x {{>a}} y");
  letters::TemplateValue d;
  d.set("a", "{{#open}}");
  EXPECT_THROW(t.render(d), std::runtime_error);
  d.set("a", "[{{b}}]");
  d.set("b", "B");
  EXPECT_EQ(t.render(d), "x [B] y");
}

TEST(Mustache, ValuesReplaceAndIgnoreWrongKinds) {
  letters::TemplateValue o;
  o.set("k", "1");
  o.set("k", "2");
  ASSERT_NE(o.get("k"), nullptr);
  EXPECT_EQ(o.get("k")->string_value(), "2");
  letters::TemplateValue s("text");
  s.set("k", "1");
  s.push_back("x");
  EXPECT_EQ(s.get("k"), nullptr);
  EXPECT_EQ(letters::MustacheTemplate("{{k}}").render(o), "2");
}

}  // namespace
