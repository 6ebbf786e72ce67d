// Mustache templates compiled once and rendered many times, with kainjow/mustache 4.1's exact output.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace klartext::letters {

namespace detail {
class MustacheRenderer;
}

// The data a template is rendered with: an object (named members), a string, a list or a flag. Built
// per letter, so it is kept flat and cheap (members in two vectors, strings moved in) instead of
// kainjow's heap-allocated node per value and hash map per object.
class TemplateValue {
 public:
  enum class Kind : std::uint8_t { kObject, kString, kList, kTrue, kFalse };

  TemplateValue() = default;                                                     // an empty object
  TemplateValue(std::string s) : kind_(Kind::kString), string_(std::move(s)) {}  // NOLINT: implicit on purpose
  TemplateValue(const char* s) : kind_(Kind::kString), string_(s) {}             // NOLINT
  static TemplateValue flag(bool b) { return TemplateValue(b ? Kind::kTrue : Kind::kFalse); }
  static TemplateValue list() { return TemplateValue(Kind::kList); }

  Kind kind() const { return kind_; }
  // Objects: sets (or replaces) a member; ignored on other kinds, as kainjow does.
  void set(std::string_view name, TemplateValue value);
  // The member `name` of an object; nullptr when absent or not an object.
  const TemplateValue* get(std::string_view name) const;
  // Room for `n` members or items.
  void reserve(std::size_t n);
  // Lists: appends; ignored on other kinds.
  void push_back(TemplateValue value);
  const std::vector<TemplateValue>& items() const { return values_; }
  const std::string& string_value() const { return string_; }

 private:
  explicit TemplateValue(Kind k) : kind_(k) {}

  Kind kind_ = Kind::kObject;
  std::string string_;
  // Object: one bit per member name's (length, first character) hash; a name whose bit is clear is not
  // a member, so most lookups through the section stack and most sets skip the scan of names_.
  std::uint64_t name_bits_ = 0;
  std::vector<std::string> names_;     // object: member names, parallel to values_
  std::vector<TemplateValue> values_;  // object: member values; list: items
};

// A parsed template. Rendering follows kainjow/mustache 4.1 (the library the templates were written
// and tested against) byte for byte, including its line rule: a line that held a rendered section tag
// and is left blank or whitespace-only disappears with its line end. Nothing is HTML-escaped (letters
// are plain text). Partials ({{>name}}) render a string member of the data as a template, as kainjow
// does; lambdas do not exist in this data model.
class MustacheTemplate {
 public:
  // Throws std::runtime_error with kainjow's message ("Unclosed tag at 12", ...) when `text` does not parse.
  // `line_keeper` (when not '\0') in the template's text is not written but keeps its line: the output
  // is that of rendering the text with it and then deleting it, without a pass over the output.
  explicit MustacheTemplate(std::string_view text, char line_keeper = '\0');
  ~MustacheTemplate();
  MustacheTemplate(MustacheTemplate&&) noexcept;
  MustacheTemplate& operator=(MustacheTemplate&&) noexcept;

  // Throws std::runtime_error when a partial does not parse.
  std::string render(const TemplateValue& data) const;
  void render(const TemplateValue& data, std::string& out) const;

  struct Node;

 private:
  friend class detail::MustacheRenderer;  // renders partials' nodes in the same line state
  std::vector<Node> nodes_;
};

}  // namespace klartext::letters
