// Mustache parsing and rendering with kainjow/mustache 4.1's semantics on a flat, reusable template.
#include "letters/mustache.hpp"

#include <cctype>
#include <kainjow/mustache.hpp>
#include <stdexcept>

namespace klartext::letters {

namespace {

std::uint64_t name_bit(std::string_view name) {
  const unsigned first = name.empty() ? 0U : static_cast<unsigned char>(name.front());
  return std::uint64_t{1} << ((name.size() * 7 + first) & 63);
}

}  // namespace

void TemplateValue::set(std::string_view name, TemplateValue value) {
  if (kind_ != Kind::kObject) return;
  const std::uint64_t bit = name_bit(name);
  if (name_bits_ & bit) {
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) {
        values_[i] = std::move(value);
        return;
      }
    }
  }
  name_bits_ |= bit;
  names_.emplace_back(name);
  values_.push_back(std::move(value));
}

const TemplateValue* TemplateValue::get(std::string_view name) const {
  if (kind_ != Kind::kObject || !(name_bits_ & name_bit(name))) return nullptr;
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (names_[i].size() == name.size() && names_[i] == name) return &values_[i];
  }
  return nullptr;
}

void TemplateValue::reserve(std::size_t n) {
  if (kind_ == Kind::kObject) names_.reserve(n);
  values_.reserve(n);
}

void TemplateValue::push_back(TemplateValue value) {
  if (kind_ == Kind::kList) values_.push_back(std::move(value));
}

struct MustacheTemplate::Node {
  enum class Kind : std::uint8_t { kText, kNewline, kVariable, kSection, kInverted, kPartial, kKeepLine };
  Kind kind = Kind::kText;
  std::string text;               // kText, kNewline: the text; tags: the name
  std::vector<std::string> path;  // tags: the name split at '.' (kainjow's lookup of "a.b")
  std::vector<Node> children;     // sections
};

namespace {

using Node = MustacheTemplate::Node;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// kainjow splits with std::getline: an empty last piece (after a trailing '.') is dropped.
std::vector<std::string> split_path(std::string_view name) {
  std::vector<std::string> out;
  if (name == "." || name.find('.') == std::string_view::npos) return out;
  std::size_t pos = 0;
  while (pos < name.size()) {
    const std::size_t dot = name.find('.', pos);
    if (dot == std::string_view::npos) {
      out.emplace_back(name.substr(pos));
      break;
    }
    out.emplace_back(name.substr(pos, dot - pos));
    pos = dot + 1;
  }
  return out;
}

// The parse of kainjow's parser::parse for a text kainjow accepted: text runs, line ends, tags, with
// set-delimiter tags applied while parsing (they do nothing when rendering).
std::vector<Node> parse(std::string_view input, char line_keeper) {
  std::vector<Node> root;
  std::vector<std::vector<Node>*> sections{&root};
  std::string begin = "{{", end = "}}";
  bool brace = true;
  std::string text;
  auto flush_text = [&] {
    if (text.empty()) return;
    std::vector<Node>& into = *sections.back();
    if (!into.empty() && into.back().kind == Node::Kind::kText) {
      into.back().text += text;  // adjacent runs render the same joined
    } else {
      into.push_back({Node::Kind::kText, std::move(text), {}, {}});
    }
    text.clear();
  };
  std::size_t pos = 0;
  const std::size_t n = input.size();
  while (pos != n) {
    if (input.compare(pos, begin.size(), begin) != 0) {
      const char c = input[pos];
      if (c == '\r' || c == '\n') {
        flush_text();
        const std::size_t len = c == '\r' && pos + 1 < n && input[pos + 1] == '\n' ? 2 : 1;
        sections.back()->push_back({Node::Kind::kNewline, std::string(input.substr(pos, len)), {}, {}});
        pos += len;
      } else if (c == line_keeper && c != '\0') {
        flush_text();
        sections.back()->push_back({Node::Kind::kKeepLine, {}, {}, {}});
        ++pos;
      } else {
        text.push_back(c);  // spaces and tabs are components of their own in kainjow, but render as text
        ++pos;
      }
      continue;
    }
    flush_text();
    const std::size_t start = pos;
    std::size_t contents = start + begin.size();
    const bool unescaped = brace && start != n - 2 && contents < n && input[contents] == begin[0];
    const std::string_view tag_end = unescaped ? std::string_view("}}}") : std::string_view(end);
    if (unescaped) ++contents;
    const std::size_t stop = input.find(tag_end, contents);
    if (stop == std::string_view::npos) throw std::runtime_error("template changed between parses");
    const std::string_view body = trim(input.substr(contents, stop - contents));
    pos = stop + tag_end.size();
    if (!body.empty() && body[0] == '=') {
      const std::string_view inner = trim(body.substr(1, body.size() - 2));
      const std::size_t space = inner.find(' ');
      const std::size_t other = inner.find_first_not_of(' ', space + 1);
      begin = std::string(inner.substr(0, space));
      end = std::string(inner.substr(other));
      brace = begin == "{{" && end == "}}";
      continue;
    }
    Node node;
    char type = 0;
    if (unescaped || body.empty()) {
      node.text = std::string(body);
    } else if (body[0] == '#' || body[0] == '^' || body[0] == '/' || body[0] == '>' || body[0] == '&' ||
               body[0] == '!') {
      type = body[0];
      node.text = std::string(trim(body.substr(1)));
    } else {
      node.text = std::string(body);
    }
    switch (type) {
      case '!': continue;  // comments render nothing and touch no line state
      case '/': sections.pop_back(); continue;
      case '#':
      case '^':
        node.kind = type == '#' ? Node::Kind::kSection : Node::Kind::kInverted;
        node.path = split_path(node.text);
        sections.back()->push_back(std::move(node));
        sections.push_back(&sections.back()->back().children);
        continue;
      case '>': node.kind = Node::Kind::kPartial; break;
      default:
        node.kind = Node::Kind::kVariable;
        node.path = split_path(node.text);
        break;
    }
    sections.back()->push_back(std::move(node));
  }
  flush_text();
  return root;
}

}  // namespace

namespace detail {

// kainjow's line_buffer_state, context stack and output handler in one.
class MustacheRenderer {
 public:
  MustacheRenderer(const TemplateValue& data, std::string& out) : out_(out) { stack_.push_back(&data); }

  void render_nodes(const std::vector<Node>& nodes) {
    for (const Node& node : nodes) render_node(node);
  }

  // The last line is written unless it held a section tag and is blank (kainjow's root renderer).
  void finish() { end_line(std::string_view()); }

 private:
  void render_node(const Node& node) {
    switch (node.kind) {
      case Node::Kind::kText: line_ += node.text; return;
      case Node::Kind::kNewline: end_line(node.text); return;
      case Node::Kind::kVariable:
        if (const TemplateValue* v = lookup(node); v && v->kind() == TemplateValue::Kind::kString) {
          line_ += v->string_value();
        }
        return;
      case Node::Kind::kSection: {
        const TemplateValue* v = lookup(node);
        if (v && !is_falsy(*v)) section(node, v);
        return;
      }
      case Node::Kind::kInverted: {
        const TemplateValue* v = lookup(node);
        if (!v || is_falsy(*v)) section(node, v);
        return;
      }
      case Node::Kind::kPartial: partial(node); return;
      case Node::Kind::kKeepLine: keep_line_ = true; return;
    }
  }

  static bool is_falsy(const TemplateValue& v) {
    return v.kind() == TemplateValue::Kind::kFalse || (v.kind() == TemplateValue::Kind::kList && v.items().empty());
  }

  void section(const Node& node, const TemplateValue* v) {
    if (v && v->kind() == TemplateValue::Kind::kList && !v->items().empty()) {
      for (const TemplateValue& item : v->items()) {
        in_section_ = true;
        stack_.push_back(&item);
        render_nodes(node.children);
        stack_.pop_back();
        in_section_ = true;
      }
    } else {
      in_section_ = true;
      if (v) stack_.push_back(v);
      render_nodes(node.children);
      if (v) stack_.pop_back();
      in_section_ = true;
    }
  }

  // kainjow renders a string member named like the partial as a template, in the same context.
  void partial(const Node& node) {
    const TemplateValue* v = nullptr;
    for (auto it = stack_.rbegin(); it != stack_.rend() && !v; ++it) v = (*it)->get(node.text);
    if (!v || v->kind() != TemplateValue::Kind::kString) return;
    const MustacheTemplate t(v->string_value());
    render_nodes(t.nodes_);
  }

  const TemplateValue* lookup(const Node& node) const {
    if (node.text.size() == 1 && node.text[0] == '.') return stack_.back();
    if (node.path.empty()) {
      for (auto it = stack_.rbegin(); it != stack_.rend(); ++it) {
        if (const TemplateValue* v = (*it)->get(node.text)) return v;
      }
      return nullptr;
    }
    for (auto it = stack_.rbegin(); it != stack_.rend(); ++it) {
      const TemplateValue* v = *it;
      for (const std::string& name : node.path) {
        v = v->get(name);
        if (!v) break;
      }
      if (v) return v;
    }
    return nullptr;
  }

  void end_line(std::string_view line_end) {
    const bool blank = !keep_line_ && line_.find_first_not_of(" \t") == std::string::npos;
    if (!(in_section_ && blank)) {
      out_ += line_;
      out_ += line_end;
    }
    line_.clear();
    in_section_ = false;
    keep_line_ = false;
  }

  std::string& out_;
  std::string line_;
  bool in_section_ = false;  // the current line held a rendered section's begin or end tag
  bool keep_line_ = false;   // the current line held the line keeper (not blank, whatever else it holds)
  std::vector<const TemplateValue*> stack_;
};

}  // namespace detail

MustacheTemplate::MustacheTemplate(std::string_view text, char line_keeper) {
  // kainjow decides what parses and words the errors; the flat copy is what renders.
  const kainjow::mustache::mustache checked{std::string(text)};
  if (!checked.is_valid()) throw std::runtime_error(checked.error_message());
  nodes_ = parse(text, line_keeper);
}

MustacheTemplate::~MustacheTemplate() = default;
MustacheTemplate::MustacheTemplate(MustacheTemplate&&) noexcept = default;
MustacheTemplate& MustacheTemplate::operator=(MustacheTemplate&&) noexcept = default;

std::string MustacheTemplate::render(const TemplateValue& data) const {
  std::string out;
  render(data, out);
  return out;
}

void MustacheTemplate::render(const TemplateValue& data, std::string& out) const {
  detail::MustacheRenderer r(data, out);
  r.render_nodes(nodes_);
  r.finish();
}

}  // namespace klartext::letters
