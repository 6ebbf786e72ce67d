// Recursive-descent XML reader with depth and node limits.
#include "formats/iodef/xml.hpp"

#include <cstdint>

namespace klartext::formats::iodef {

std::string_view XmlNode::attr(std::string_view n) const {
  for (const auto& [k, v] : attrs) {
    if (k == n) return v;
  }
  return {};
}

const XmlNode* XmlNode::child(std::string_view n) const {
  for (const auto& c : children) {
    if (c.name == n) return &c;
  }
  return nullptr;
}

std::vector<const XmlNode*> XmlNode::children_named(std::string_view n) const {
  std::vector<const XmlNode*> out;
  for (const auto& c : children) {
    if (c.name == n) out.push_back(&c);
  }
  return out;
}

void XmlNode::find_all(std::string_view n, std::vector<const XmlNode*>& out) const {
  for (const auto& c : children) {
    if (c.name == n) out.push_back(&c);
    c.find_all(n, out);
  }
}

const XmlNode* XmlNode::find_first(std::string_view n) const {
  for (const auto& c : children) {
    if (c.name == n) return &c;
    if (const XmlNode* f = c.find_first(n)) return f;
  }
  return nullptr;
}

namespace {

class Reader {
 public:
  Reader(std::string_view s, const XmlLimits& l) : s_(s), limits_(l) {}

  core::Expected<XmlNode> run() {
    if (s_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
    if (!skip_misc(true)) return fail();
    if (pos_ >= s_.size() || s_[pos_] != '<') return error("xml-syntax", "no root element");
    XmlNode root;
    if (!element(root, 1)) return fail();
    return root;
  }

 private:
  core::Expected<XmlNode> fail() { return core::make_error(code_, message_); }
  core::Expected<XmlNode> error(std::string code, std::string msg) {
    set_error(std::move(code), std::move(msg));
    return fail();
  }
  bool set_error(std::string code, std::string msg) {
    if (code_.empty()) {
      code_ = std::move(code);
      message_ = std::move(msg) + " at byte " + std::to_string(pos_);
    }
    return false;
  }

  bool starts(std::string_view p) const { return s_.substr(pos_).starts_with(p); }
  static bool space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
  void skip_space() {
    while (pos_ < s_.size() && space(s_[pos_])) ++pos_;
  }
  bool skip_past(std::string_view end) {
    std::size_t at = s_.find(end, pos_);
    if (at == std::string_view::npos) return set_error("xml-syntax", "unterminated construct");
    pos_ = at + end.size();
    return true;
  }

  // Prolog/epilog: declarations, comments, processing instructions, whitespace, DOCTYPE.
  bool skip_misc(bool prolog) {
    while (true) {
      skip_space();
      if (starts("<?")) {
        if (!skip_past("?>")) return false;
      } else if (starts("<!--")) {
        if (!skip_past("-->")) return false;
      } else if (prolog && starts("<!DOCTYPE")) {
        std::size_t end = s_.find('>', pos_);
        std::size_t bracket = s_.find('[', pos_);
        if (bracket != std::string_view::npos && (end == std::string_view::npos || bracket < end)) {
          return set_error("xml-dtd", "internal DTD subsets are not read (entity declarations refused)");
        }
        if (end == std::string_view::npos) return set_error("xml-syntax", "unterminated DOCTYPE");
        pos_ = end + 1;
      } else {
        return true;
      }
    }
  }

  std::string name() {
    std::size_t start = pos_;
    while (pos_ < s_.size() && !space(s_[pos_]) && s_[pos_] != '>' && s_[pos_] != '/' && s_[pos_] != '=') ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }
  static std::string local(std::string n) {
    auto colon = n.find(':');
    return colon == std::string::npos ? n : n.substr(colon + 1);
  }

  void append_entity_decoded(std::string_view raw, std::string& out) {
    std::size_t i = 0;
    while (i < raw.size()) {
      char c = raw[i];
      if (c != '&') {
        out += c;
        ++i;
        continue;
      }
      std::size_t semi = raw.find(';', i);
      if (semi == std::string_view::npos || semi - i > 10) {
        out += c;
        ++i;
        continue;
      }
      std::string_view ent = raw.substr(i + 1, semi - i - 1);
      if (ent == "lt") {
        out += '<';
      } else if (ent == "gt") {
        out += '>';
      } else if (ent == "amp") {
        out += '&';
      } else if (ent == "quot") {
        out += '"';
      } else if (ent == "apos") {
        out += '\'';
      } else if (!ent.empty() && ent[0] == '#') {
        std::uint32_t cp = 0;
        bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
        for (char d : ent.substr(hex ? 2 : 1)) {
          int v = (d >= '0' && d <= '9')          ? d - '0'
                  : hex && (d >= 'a' && d <= 'f') ? d - 'a' + 10
                  : hex && (d >= 'A' && d <= 'F') ? d - 'A' + 10
                                                  : -1;
          if (v < 0 || cp > 0x10FFFF) {
            cp = 0xFFFD;
            break;
          }
          cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(v);
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
        if (cp < 0x80) {
          out += static_cast<char>(cp);
        } else if (cp < 0x800) {
          out += static_cast<char>(0xC0 | (cp >> 6));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          out += static_cast<char>(0xE0 | (cp >> 12));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
          out += static_cast<char>(0xF0 | (cp >> 18));
          out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        }
      } else {
        out.append(raw.substr(i, semi - i + 1));  // unknown entity kept verbatim
      }
      i = semi + 1;
    }
  }

  bool element(XmlNode& node, std::size_t depth) {
    if (depth > limits_.max_depth) return set_error("xml-depth-limit", "XML nested too deeply");
    if (++nodes_ > limits_.max_nodes) return set_error("xml-node-limit", "too many XML elements");
    node.begin = pos_;
    ++pos_;  // '<'
    std::string qname = name();
    if (qname.empty()) return set_error("xml-syntax", "element without a name");
    node.name = local(qname);
    while (true) {
      skip_space();
      if (pos_ >= s_.size()) return set_error("xml-syntax", "unterminated start tag");
      if (s_[pos_] == '/') {
        if (!starts("/>")) return set_error("xml-syntax", "bad empty-element tag");
        pos_ += 2;
        node.end = pos_;
        return true;
      }
      if (s_[pos_] == '>') {
        ++pos_;
        break;
      }
      std::string an = name();
      skip_space();
      if (an.empty() || pos_ >= s_.size() || s_[pos_] != '=') return set_error("xml-syntax", "bad attribute");
      ++pos_;
      skip_space();
      if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\''))
        return set_error("xml-syntax", "unquoted attribute");
      char q = s_[pos_++];
      std::size_t end = s_.find(q, pos_);
      if (end == std::string_view::npos) return set_error("xml-syntax", "unterminated attribute");
      std::string value;
      append_entity_decoded(s_.substr(pos_, end - pos_), value);
      pos_ = end + 1;
      node.attrs.emplace_back(local(an), std::move(value));
    }
    // Content.
    while (true) {
      std::size_t lt = s_.find('<', pos_);
      if (lt == std::string_view::npos) return set_error("xml-syntax", "unterminated element " + node.name);
      append_entity_decoded(s_.substr(pos_, lt - pos_), node.text);
      pos_ = lt;
      if (starts("</")) {
        pos_ += 2;
        std::string close = name();
        skip_space();
        if (pos_ >= s_.size() || s_[pos_] != '>') return set_error("xml-syntax", "bad end tag");
        ++pos_;
        if (local(close) != node.name)
          return set_error("xml-syntax", "end tag " + close + " does not match " + node.name);
        node.end = pos_;
        return true;
      }
      if (starts("<!--")) {
        if (!skip_past("-->")) return false;
      } else if (starts("<![CDATA[")) {
        std::size_t end = s_.find("]]>", pos_ + 9);
        if (end == std::string_view::npos) return set_error("xml-syntax", "unterminated CDATA");
        node.text.append(s_.substr(pos_ + 9, end - pos_ - 9));
        pos_ = end + 3;
      } else if (starts("<?")) {
        if (!skip_past("?>")) return false;
      } else if (starts("<!")) {
        return set_error("xml-dtd", "declarations inside elements are not allowed");
      } else {
        node.children.emplace_back();
        if (!element(node.children.back(), depth + 1)) return false;
      }
    }
  }

  std::string_view s_;
  XmlLimits limits_;
  std::size_t pos_ = 0;
  std::size_t nodes_ = 0;
  std::string code_, message_;
};

}  // namespace

core::Expected<XmlNode> parse_xml(std::string_view text, const XmlLimits& limits) {
  return Reader(text, limits).run();
}

}  // namespace klartext::formats::iodef
