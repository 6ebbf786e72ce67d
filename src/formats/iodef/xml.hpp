// A small, strict-enough XML reader for IODEF documents: elements, attributes, text, CDATA.
// No DTDs and no entity declarations (so no entity-expansion or external-entity attacks).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/expected.hpp"

namespace klartext::formats::iodef {

struct XmlNode {
  std::string name;  // local name, namespace prefix removed
  std::vector<std::pair<std::string, std::string>> attrs;
  std::string text;  // concatenated character data directly inside this element
  std::vector<XmlNode> children;
  std::size_t begin = 0, end = 0;  // byte range of the whole element in the document

  std::string_view attr(std::string_view name) const;
  const XmlNode* child(std::string_view name) const;
  std::vector<const XmlNode*> children_named(std::string_view name) const;
  // All descendants (depth first) with this local name.
  void find_all(std::string_view name, std::vector<const XmlNode*>& out) const;
  const XmlNode* find_first(std::string_view name) const;
};

struct XmlLimits {
  std::size_t max_depth = 64;
  std::size_t max_nodes = 200'000;
};

// The root element, or an error ("xml-syntax", "xml-dtd", "xml-depth-limit", "xml-node-limit").
core::Expected<XmlNode> parse_xml(std::string_view text, const XmlLimits& limits = {});

}  // namespace klartext::formats::iodef
