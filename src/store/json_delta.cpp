// Event JSON as a delta to a per-report base JSON (format in json_delta.hpp).
#include "store/json_delta.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "store/varint.hpp"

namespace klartext::store::detail {
namespace {

// How far ahead of its cursor the encoder looks for a member that is still in the base (a member
// of the base missing from this event). Events of one report differ in a few members only.
constexpr std::size_t kLookahead = 8;

// The end of the JSON value starting at `pos` (a string, number, literal, object or array), or npos.
std::size_t value_end(std::string_view s, std::size_t pos) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = pos; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      // Jump to the next quote; it ends the string unless an odd number of backslashes precedes it.
      const void* q = std::memchr(s.data() + i, '"', s.size() - i);
      if (q == nullptr) return std::string_view::npos;
      i = static_cast<std::size_t>(static_cast<const char*>(q) - s.data());
      std::size_t slashes = 0;
      while (slashes < i - pos && s[i - 1 - slashes] == '\\') ++slashes;
      if (slashes % 2 == 0) {
        in_string = false;
        if (depth == 0) return i + 1;
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '{':
      case '[': ++depth; break;
      case '}':
      case ']':
        if (depth == 0) return i;  // the end of the enclosing object: a bare value ends here
        if (--depth == 0) return i + 1;
        break;
      case ',':
        if (depth == 0) return i;
        break;
      default: break;
    }
  }
  return std::string_view::npos;
}

// The key part of a member (`"key"`), for "same key, other value".
std::string_view key_of(std::string_view member) {
  auto colon = value_end(member, 0);  // the key is a string: its end
  return colon == std::string_view::npos ? member : member.substr(0, colon);
}

// The end of the member (`"key":value`) starting at `pos` of an object's text, or npos when there is
// none there.
std::size_t member_end(std::string_view json, std::size_t pos) {
  if (pos >= json.size() || json[pos] != '"') return std::string_view::npos;
  std::size_t key_end = value_end(json, pos);
  if (key_end == std::string_view::npos || key_end >= json.size() || json[key_end] != ':') {
    return std::string_view::npos;
  }
  std::size_t end = value_end(json, key_end + 1);
  return end == key_end + 1 ? std::string_view::npos : end;
}

}  // namespace

bool split_members(std::string_view json, std::vector<std::string_view>& out) {
  out.clear();
  if (json.size() < 2 || json.front() != '{' || json.back() != '}') return false;
  if (json.size() == 2) return true;
  std::size_t pos = 1;
  while (true) {
    std::size_t end = member_end(json, pos);
    if (end == std::string_view::npos) return false;
    out.push_back(json.substr(pos, end - pos));
    if (end == json.size() - 1) return true;
    if (json[end] != ',') return false;
    pos = end + 1;
  }
}

bool encode_delta(const std::vector<std::string_view>& base, std::string_view json, std::string& out) {
  // Walks the JSON against the base: a base member found verbatim at the cursor (followed by ',' or
  // the closing brace) is copied without scanning it; only the other members are parsed.
  if (json.size() < 2 || json.front() != '{' || json.back() != '}') return false;
  std::size_t j = 0, copy = 0;
  auto flush_copy = [&] {
    if (copy == 0) return;
    out.push_back('c');
    put_varint(out, copy);
    copy = 0;
  };
  std::size_t pos = 1;
  if (json.size() == 2) return true;
  while (true) {
    std::size_t end = std::string_view::npos;
    if (j < base.size() && json.compare(pos, base[j].size(), base[j]) == 0) {
      end = pos + base[j].size();
      if (end < json.size() && (json[end] == ',' || end == json.size() - 1)) {
        ++copy, ++j;
      } else {
        end = std::string_view::npos;
      }
    }
    if (end == std::string_view::npos) {
      end = member_end(json, pos);
      if (end == std::string_view::npos) return false;
      std::string_view m = json.substr(pos, end - pos);
      std::size_t k = j + 1;
      while (k < base.size() && k < j + kLookahead && base[k] != m) ++k;
      flush_copy();
      if (k < base.size() && k < j + kLookahead) {
        out.push_back('s');
        put_varint(out, k - j);
        j = k + 1;
        copy = 1;
      } else {
        const std::string_view key = j < base.size() ? key_of(base[j]) : std::string_view();
        if (!key.empty() && m.size() > key.size() && m.compare(0, key.size(), key) == 0 && m[key.size()] == ':') {
          // Same key, other value (the usual case: an event's own id, address, time): the value only.
          out.push_back('v');
          put_varint(out, m.size() - key.size() - 1);
          out.append(m.substr(key.size() + 1));
          ++j;
        } else {
          out.push_back('l');
          put_varint(out, m.size());
          out.append(m);
        }
      }
    }
    if (end == json.size() - 1) break;
    if (json[end] != ',') return false;
    pos = end + 1;
  }
  flush_copy();
  return true;
}

namespace {

// a == b for members: most differ near their end (the value) or not at all, and are short, so
// 8-byte words from the end are compared inline instead of calling memcmp.
bool same_member(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  if (n < 8) return std::memcmp(a.data(), b.data(), n) == 0;
  std::size_t i = n;
  while (i >= 8) {
    i -= 8;
    std::uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) return false;
  }
  if (i == 0) return true;
  std::uint64_t x, y;  // the first i bytes, as part of the first word
  std::memcpy(&x, a.data(), 8);
  std::memcpy(&y, b.data(), 8);
  return x == y;
}

}  // namespace

bool distinct_keys(const std::vector<std::string_view>& members) {
  std::vector<std::string_view> keys;
  keys.reserve(members.size());
  for (const auto m : members) keys.push_back(key_of(m));
  std::sort(keys.begin(), keys.end());
  return std::adjacent_find(keys.begin(), keys.end()) == keys.end();
}

void encode_delta(const std::vector<std::string_view>& base, std::string_view json,
                  std::span<const std::uint32_t> member_ends, std::string& out) {
  // The walk of the scanning encode_delta above, with the members cut where they are known to end,
  // written through a pointer into room for the worst case: every member literal (its text and an
  // op with a ten-byte varint), and a copy op before each.
  const std::size_t old = out.size();
  out.resize(old + json.size() + 22 * (member_ends.size() + 1));
  char* const begin = out.data() + old;
  char* o = begin;
  auto op = [&](char c, std::uint64_t n) {
    *o++ = c;
    while (n >= 0x80) {
      *o++ = static_cast<char>((n & 0x7F) | 0x80);
      n >>= 7;
    }
    *o++ = static_cast<char>(n);
  };
  std::size_t j = 0, copy = 0, pos = 1;
  auto flush_copy = [&] {
    if (copy == 0) return;
    op('c', copy);
    copy = 0;
  };
  for (const std::uint32_t end : member_ends) {
    const std::string_view m(json.data() + pos, end - pos);
    pos = end + 1;
    if (j < base.size() && same_member(base[j], m)) {
      ++copy, ++j;
      continue;
    }
    flush_copy();
    // The key (`"key"`) has no quote inside: it ends at the first one after the opening quote. The
    // base member has the same key when it starts with it (then its own key ends there as well),
    // and then no later base member (all other keys) can be this member: no need to look ahead.
    const std::size_t key_size = m.find('"', 1) + 1;
    const bool same_key =
        j < base.size() && base[j].size() >= key_size && std::memcmp(base[j].data(), m.data(), key_size) == 0;
    if (!same_key) {
      std::size_t k = j + 1;
      while (k < base.size() && k < j + kLookahead && !same_member(base[k], m)) ++k;
      if (k < base.size() && k < j + kLookahead) {
        op('s', k - j);
        j = k + 1;
        copy = 1;
        continue;
      }
    }
    if (same_key) {
      op('v', m.size() - key_size - 1);
      std::memcpy(o, m.data() + key_size + 1, m.size() - key_size - 1);
      o += m.size() - key_size - 1;
      ++j;
    } else {
      op('l', m.size());
      std::memcpy(o, m.data(), m.size());
      o += m.size();
    }
  }
  flush_copy();
  out.resize(old + static_cast<std::size_t>(o - begin));
}

bool decode_delta(const std::vector<std::string_view>& base, std::string_view delta, std::string& out) {
  out.push_back('{');
  bool first = true;
  auto member = [&](std::string_view m) {
    if (!first) out.push_back(',');
    first = false;
    out.append(m);
  };
  std::size_t j = 0, pos = 0;
  while (pos < delta.size()) {
    char op = delta[pos++];
    std::uint64_t n = 0;
    if (!get_varint(delta, pos, n)) return false;
    switch (op) {
      case 'c':
        if (n > base.size() - j) return false;
        for (std::size_t i = 0; i < n; ++i) member(base[j++]);
        break;
      case 's':
        if (n > base.size() - j) return false;
        j += n;
        break;
      case 'l':
      case 'r':
        if (n > delta.size() - pos) return false;
        if (op == 'r') {
          if (j >= base.size()) return false;
          ++j;
        }
        member(delta.substr(pos, n));
        pos += n;
        break;
      case 'v': {
        if (n > delta.size() - pos || j >= base.size()) return false;
        const std::string_view key = key_of(base[j++]);
        if (key.size() == base[j - 1].size()) return false;  // not a member text
        member(key);
        out.push_back(':');
        out.append(delta.substr(pos, n));
        pos += n;
        break;
      }
      default: return false;
    }
  }
  out.push_back('}');
  return true;
}

}  // namespace klartext::store::detail
