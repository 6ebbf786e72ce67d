// The small XML reader behind IODEF and ACNS: structure, entities, and refusal of DTD tricks.
#include "formats/iodef/xml.hpp"

#include <gtest/gtest.h>

namespace klartext::formats::iodef {
namespace {

TEST(Xml, ReadsElementsAttributesTextAndEntities) {
  auto doc = parse_xml(
      "<?xml version=\"1.0\"?><!-- c --><ns:Root a=\"1 &amp; 2\"><B>x &lt;y&gt; &#65;&#x42;</B><C/>"
      "<![CDATA[<raw>]]></ns:Root>");
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->name, "Root");
  EXPECT_EQ(doc->attr("a"), "1 & 2");
  ASSERT_NE(doc->child("B"), nullptr);
  EXPECT_EQ(doc->child("B")->text, "x <y> AB");
  EXPECT_NE(doc->child("C"), nullptr);
  EXPECT_EQ(doc->text, "<raw>");
}

TEST(Xml, RefusesInternalDtdSubsets) {
  auto doc = parse_xml("<!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, "xml-dtd");
}

TEST(Xml, EnforcesDepthLimit) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  for (int i = 0; i < 100; ++i) deep += "</a>";
  XmlLimits limits;
  limits.max_depth = 50;
  auto doc = parse_xml(deep, limits);
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, "xml-depth-limit");
}

TEST(Xml, ReportsMismatchedTags) {
  auto doc = parse_xml("<a><b></a>");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, "xml-syntax");
}

}  // namespace
}  // namespace klartext::formats::iodef
