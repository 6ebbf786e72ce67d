// Event field storage, identity and JSON Lines serialization.
#include "core/event.hpp"

#include "core/json_text.hpp"

#include <openssl/evp.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <new>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_set>

namespace klartext::core {

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::kInfo: return "info";
    case Severity::kLow: return "low";
    case Severity::kMedium: return "medium";
    case Severity::kHigh: return "high";
    case Severity::kCritical: return "critical";
    case Severity::kUnknown: break;
  }
  return "unknown";
}

std::optional<Severity> parse_severity(std::string_view s) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  for (Severity v :
       {Severity::kInfo, Severity::kLow, Severity::kMedium, Severity::kHigh, Severity::kCritical, Severity::kUnknown}) {
    const std::string_view name = to_string(v);
    bool same = name.size() == s.size();
    for (std::size_t i = 0; same && i < s.size(); ++i) same = lower(s[i]) == name[i];
    if (same) return v;
  }
  return std::nullopt;
}

std::optional<std::string_view> try_intern_key(std::string_view key) {
  static std::mutex mu;
  static std::deque<std::string> storage;
  static std::unordered_set<std::string_view> index;
  std::lock_guard lock(mu);
  auto it = index.find(key);
  if (it != index.end()) return *it;
  if (key.size() > kMaxInternedKeyBytes || index.size() >= kMaxInternedKeys) return std::nullopt;
  storage.emplace_back(key);
  std::string_view v = storage.back();
  index.insert(v);
  return v;
}

std::string_view intern_key(std::string_view key) {
  if (auto v = try_intern_key(key)) return *v;
  return kKeyLimitExceeded;  // a static string: as stable as an interned one
}

void Event::clear() {
  last_size_ = size_;
  in_order_ = true;
  size_ = 0;
  key_mask_ = {};
  raw.clear();
  classification_ = Classification::undetermined();
  source_ip_.reset();
  destination_ip_.reset();
  source_port_.reset();
  destination_port_.reset();
  time_source_.reset();
  time_observation_.reset();
  severity_ = Severity::kUnknown;
}

namespace {

// Keys are mostly interned views: equal pointers decide at once, different sizes too.
inline bool same_key(std::string_view a, std::string_view b) {
  return a.size() == b.size() && (a.data() == b.data() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

// A field name the program sets itself, interned once so that slot() finds it by address (a
// literal's address is not the interned one); the literal itself if the table refused it.
std::string_view own_key(std::string_view literal) {
  return try_intern_key(literal).value_or(literal);
}

}  // namespace

namespace {

// The bit of `key` in Event::key_mask_: a 256-bit filter over (size and three bytes) of the keys
// present. Most keys set on a fresh event are new, and the filter tells so without comparing against
// every field.
unsigned key_bit(std::string_view key) {
  if (key.empty()) return 0;
  const auto* k = reinterpret_cast<const unsigned char*>(key.data());
  const std::size_t n = key.size();
  return (static_cast<unsigned>(n) * 0x9Eu + k[n - 1] * 7u + k[n > 1 ? n - 2 : 0] * 13u + k[n / 2] * 3u) & 255u;
}

}  // namespace

void Event::leave_order() {
  in_order_ = false;
  for (std::size_t i = 0; i < size_; ++i) {
    const unsigned bit = key_bit(fields_[i].key);
    key_mask_[bit >> 6] |= std::uint64_t{1} << (bit & 63u);
  }
}

Field& Event::slot(std::string_view key) {
  if (in_order_) {
    // The last event's keys were distinct and the fields so far are its first ones: the key it had
    // next (the same interned view) is not among them.
    if (size_ < last_size_ && fields_[size_].key.data() == key.data() && fields_[size_].key.size() == key.size()) {
      return fields_[size_++];
    }
    leave_order();
  }
  const unsigned bit = key_bit(key);
  const std::uint64_t mask = std::uint64_t{1} << (bit & 63u);
  if ((key_mask_[bit >> 6] & mask) != 0) {
    for (std::size_t i = 0; i < size_; ++i) {
      if (same_key(fields_[i].key, key)) return fields_[i];
    }
  }
  key_mask_[bit >> 6] |= mask;
  if (size_ == fields_.size()) fields_.emplace_back();
  Field& f = fields_[size_++];
  // Events are reused with the same fields in the same order: the slot usually still holds this
  // key from the previous event, already interned (saves the locked intern table lookup).
  if (!same_key(f.key, key)) f.key = intern_key(key);
  return f;
}

void Event::set(std::string_view key, std::string_view value, JsonKind kind) {
  Field& f = slot(key);
  f.value.assign(value);
  f.kind = kind;
}

void Event::set_int(std::string_view key, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  set(key, std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)), JsonKind::kNumber);
}

void Event::set_float(std::string_view key, double v) {
  if (!std::isfinite(v)) {
    set(key, "null", JsonKind::kNumber);
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  set(key, std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)), JsonKind::kNumber);
}

void Event::set_bool(std::string_view key, bool v) {
  set(key, v ? "true" : "false", JsonKind::kBool);
}

bool Event::erase(std::string_view key) {
  if (in_order_) leave_order();  // the fields move
  for (std::size_t i = 0; i < size_; ++i) {
    if (fields_[i].key == key) {
      std::rotate(fields_.begin() + static_cast<std::ptrdiff_t>(i),
                  fields_.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                  fields_.begin() + static_cast<std::ptrdiff_t>(size_));
      --size_;
      return true;
    }
  }
  return false;
}

const Field* Event::find(std::string_view key) const {
  for (std::size_t i = 0; i < size_; ++i) {
    if (same_key(fields_[i].key, key)) return &fields_[i];
  }
  return nullptr;
}

std::optional<std::string_view> Event::get(std::string_view key) const {
  const Field* f = find(key);
  if (f == nullptr) return std::nullopt;
  return std::string_view(f->value);
}

void Event::set_classification(const Classification& c) {
  classification_ = c;
  static const std::string_view kTaxonomy = own_key("classification.taxonomy");
  static const std::string_view kType = own_key("classification.type");
  static const std::string_view kIdentifier = own_key("classification.identifier");
  set(kTaxonomy, core::to_string(c.taxonomy));
  set(kType, core::to_string(c.type));
  if (c.identifier.empty()) {
    erase(kIdentifier);
  } else {
    set(kIdentifier, c.identifier);
  }
}

void Event::set_source_ip(const IpAddress& ip) {
  source_ip_ = ip;
  static const std::string_view kKey = own_key("source.ip");
  Field& f = slot(kKey);
  f.value.clear();
  ip.append_to(f.value);
  f.kind = JsonKind::kString;
}

void Event::set_destination_ip(const IpAddress& ip) {
  destination_ip_ = ip;
  static const std::string_view kKey = own_key("destination.ip");
  Field& f = slot(kKey);
  f.value.clear();
  ip.append_to(f.value);
  f.kind = JsonKind::kString;
}

void Event::set_source_port(std::uint16_t p) {
  source_port_ = p;
  static const std::string_view kKey = own_key("source.port");
  set_int(kKey, p);
}

void Event::set_destination_port(std::uint16_t p) {
  destination_port_ = p;
  static const std::string_view kKey = own_key("destination.port");
  set_int(kKey, p);
}

void Event::set_time_source(Timestamp t) {
  time_source_ = t;
  static const std::string_view kKey = own_key("time.source");
  Field& f = slot(kKey);
  f.value.clear();
  t.append_iso(f.value);
  f.kind = JsonKind::kString;
}

void Event::set_time_observation(Timestamp t) {
  time_observation_ = t;
  static const std::string_view kKey = own_key("time.observation");
  Field& f = slot(kKey);
  f.value.clear();
  t.append_iso(f.value);
  f.kind = JsonKind::kString;
}

void Event::set_severity(Severity s) {
  severity_ = s;
  static const std::string_view kKey = own_key("severity");
  set(kKey, core::to_string(s));
}

namespace {

// A 128-bit hash as 32 lowercase hex digits, high half first (a byte -> two digits per lookup).
void write_hex128(XXH128_hash_t h, char out[32]) {
  static constexpr std::array<std::array<char, 2>, 256> kPairs = [] {
    constexpr char kHex[] = "0123456789abcdef";
    std::array<std::array<char, 2>, 256> t{};
    for (std::size_t i = 0; i < 256; ++i) t[i] = {kHex[i >> 4], kHex[i & 0xf]};
    return t;
  }();
  for (int i = 0; i < 8; ++i) {
    std::memcpy(out + 2 * i, kPairs[(h.high64 >> (56 - 8 * i)) & 0xff].data(), 2);
    std::memcpy(out + 16 + 2 * i, kPairs[(h.low64 >> (56 - 8 * i)) & 0xff].data(), 2);
  }
}

}  // namespace

std::string hex_hash128(std::string_view bytes) {
  std::string out(32, '0');
  write_hex128(XXH3_128bits(bytes.data(), bytes.size()), out.data());
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  // Fetched from the provider once: EVP_sha256() makes every digest look the algorithm up again.
  struct Sha256 {
    EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    ~Sha256() { EVP_MD_free(md); }
  };
  static const Sha256 kSha256;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, kSha256.md != nullptr ? kSha256.md : EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}

void EventIdHasher::StateFree::operator()(XXH3_state_s* s) const {
  XXH3_freeState(s);
}

EventIdHasher::EventIdHasher() : state_(XXH3_createState()) {
  if (state_ == nullptr) throw std::bad_alloc();
  XXH3_128bits_reset(state_.get());
}

EventIdHasher::EventIdHasher(const EventIdHasher& other) : EventIdHasher() {
  XXH3_copyState(state_.get(), other.state_.get());
}

EventIdHasher& EventIdHasher::operator=(const EventIdHasher& other) {
  if (this != &other) XXH3_copyState(state_.get(), other.state_.get());
  return *this;
}

EventIdHasher::~EventIdHasher() = default;

void EventIdHasher::start(std::string_view provider, std::string_view name) {
  XXH3_128bits_reset(state_.get());
  XXH3_128bits_update(state_.get(), provider.data(), provider.size());
  XXH3_128bits_update(state_.get(), "", 1);
  XXH3_128bits_update(state_.get(), name.data(), name.size());
  XXH3_128bits_update(state_.get(), "", 1);
}

void EventIdHasher::add_raw(std::string_view bytes) {
  XXH3_128bits_update(state_.get(), bytes.data(), bytes.size());
}

void EventIdHasher::finish(char hex[32]) const {
  write_hex128(XXH3_128bits_digest(state_.get()), hex);
}

namespace {

// XXH3-128 of provider \0 name \0 raw, as 32 hex digits into `out`. Streamed, so raw is not copied
// into a combined buffer (the streaming digest equals the one-shot hash of the concatenation).
void event_id_hex(std::string_view provider, std::string_view name, const Event& e, char out[32]) {
  if (provider.size() + name.size() + 2 + e.raw.size() <= 1024) {
    // Short input (a CSV row with its header line): one-shot on a stack buffer is cheaper than the
    // streaming state, and gives the same hash.
    char buf[1024];
    std::size_t n = 0;
    std::memcpy(buf, provider.data(), provider.size());
    n += provider.size();
    buf[n++] = '\0';
    std::memcpy(buf + n, name.data(), name.size());
    n += name.size();
    buf[n++] = '\0';
    std::memcpy(buf + n, e.raw.data(), e.raw.size());
    n += e.raw.size();
    write_hex128(XXH3_128bits(buf, n), out);
    return;
  }
  thread_local EventIdHasher hasher;
  hasher.start(provider, name);
  hasher.add_raw(e.raw);
  hasher.finish(out);
}

void event_id_hex(const Event& e, char out[32]) {
  // Interned once, so the lookups below compare addresses.
  static const std::string_view kProvider = intern_key("feed.provider");
  static const std::string_view kName = intern_key("feed.name");
  event_id_hex(e.get(kProvider).value_or(""), e.get(kName).value_or(""), e, out);
}

}  // namespace

std::string Event::id() const {
  char hex[32];
  event_id_hex(*this, hex);
  return std::string(hex, sizeof hex);
}

namespace {

// A field's value as JSON: a string, or its number/bool text as is.
char* write_json_value(char* o, const Field& f) {
  if (f.kind == JsonKind::kString) return write_json_string(o, f.value);
  std::memcpy(o, f.value.data(), f.value.size());
  return o + f.value.size();
}

// A per-thread scratch area of at least `n` bytes (grows, never shrinks).
char* scratch_area(std::size_t n) {
  thread_local std::string buf;
  if (buf.size() < n) buf.resize(std::max(n, 2 * buf.size()));
  return buf.data();
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  char* start = scratch_area(json_string_bound(s.size()));
  char* end = write_json_string(start, s);
  out.append(start, static_cast<std::size_t>(end - start));
}

void append_json_value(std::string& out, const Field& f) {
  char* start = scratch_area(json_string_bound(f.value.size()));
  char* end = write_json_value(start, f);
  out.append(start, static_cast<std::size_t>(end - start));
}

void append_base64(std::string& out, std::string_view bytes) {
  std::size_t old = out.size();
  out.resize(old + base64_size(bytes.size()));
  write_base64(out.data() + old, bytes);
}

std::string base64_decode(std::string_view text) {
  static const std::array<int, 256> kDecode = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(a[i])] = i;
    t['-'] = 62;  // URL-safe alphabet too
    t['_'] = 63;
    return t;
  }();
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char ch : text) {
    if (ch == '=') break;
    if (ch == '\n' || ch == '\r' || ch == ' ' || ch == '\t') continue;
    int v = kDecode[static_cast<unsigned char>(ch)];
    if (v < 0) break;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

namespace {

// A key append_json can write between bare quotes and a scanner reads back as the same string.
bool plain_key(std::string_view k) {
  for (char c : k) {
    if (c == '"' || c == '\\') return false;
  }
  return true;
}

// A number or boolean value a JSON scanner reads as one bare token ending where it ends.
bool plain_token(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v) {
    if (c == '"' || c == ',' || c == '{' || c == '}' || c == '[' || c == ']') return false;
  }
  return true;
}

}  // namespace

void Event::append_json(std::string& out) const {
  write_json(out, nullptr);
}

void Event::append_json_parts(std::string& out, JsonParts& parts) const {
  write_json(out, &parts);
}

void Event::write_json(std::string& out, JsonParts* parts) const {
  // Sort field pointers by key; "event.id" and "raw" are merged in at their sorted positions.
  // Streams of events share one key sequence, so the last order is reused when the keys (interned
  // views, compared by address) are the same as last time, and with it each member's ',"key":'
  // text, copied as one fixed-size block when short.
  constexpr std::size_t kKeyBlock = 32;
  struct KeyText {
    std::uint32_t text;  // offset in key_texts
    std::uint32_t size;
    bool skip;  // a field named "event.id" or "raw": the computed member replaces it
  };
  thread_local std::vector<const char*> last_keys;
  thread_local std::vector<std::uint32_t> last_order;
  thread_local std::vector<KeyText> key_at;                    // by sorted position
  thread_local std::string key_texts;                          // then kKeyBlock bytes of padding
  thread_local std::size_t last_id_pos = 0, last_raw_pos = 0;  // where "event.id" and "raw" go
  thread_local std::size_t provider_at = 0, name_at = 0;       // fields of the id; size_: none
  thread_local bool last_plain_keys = true;
  bool same = last_keys.size() == size_;
  for (std::size_t i = 0; same && i < size_; ++i) same = last_keys[i] == fields_[i].key.data();
  if (!same) {
    std::vector<const Field*> order(size_);
    for (std::size_t i = 0; i < size_; ++i) order[i] = &fields_[i];
    std::sort(order.begin(), order.end(), [](const Field* a, const Field* b) { return a->key < b->key; });
    last_keys.resize(size_);
    last_order.resize(size_);
    key_at.resize(size_);
    key_texts.clear();
    last_plain_keys = true;
    for (std::size_t i = 0; i < size_; ++i) {
      last_keys[i] = fields_[i].key.data();
      last_order[i] = static_cast<std::uint32_t>(order[i] - fields_.data());
      last_plain_keys = last_plain_keys && plain_key(fields_[i].key);
      const std::string_view k = order[i]->key;
      key_at[i] = {static_cast<std::uint32_t>(key_texts.size()), static_cast<std::uint32_t>(k.size() + 4),
                   k == "event.id" || k == "raw"};
      key_texts.append(",\"").append(k).append("\":");
    }
    key_texts.append(kKeyBlock, '\0');
    // The fields event_id_hex looks up (the first of each name, as Event::get finds it).
    provider_at = name_at = size_;
    for (std::size_t i = size_; i-- > 0;) {
      if (fields_[i].key == "feed.provider") provider_at = i;
      if (fields_[i].key == "feed.name") name_at = i;
    }
    last_id_pos = last_raw_pos = size_;
    for (std::size_t i = size_; i-- > 0;) {
      if (std::string_view("event.id") < order[i]->key) last_id_pos = i;
      if (std::string_view("raw") < order[i]->key) last_raw_pos = i;
    }
  }
  const std::size_t id_pos = last_id_pos, raw_pos = last_raw_pos;
  const bool empty_raw = parts != nullptr;
  std::uint32_t* member_end = nullptr;
  if (parts != nullptr) {
    parts->plain = last_plain_keys;
    if (parts->member_ends.size() < size_ + 2) parts->member_ends.resize(size_ + 2);
    member_end = parts->member_ends.data();
  }

  std::size_t bound = 128 + kKeyBlock + (empty_raw ? 0 : base64_size(raw.size()));
  for (std::size_t i = 0; i < size_; ++i)
    bound += fields_[i].key.size() + 6 + json_string_bound(fields_[i].value.size());
  char* const start = scratch_area(bound);
  char* o = start;

  char own_id[32];
  char* const event_id = parts != nullptr ? parts->id : own_id;
  event_id_hex(provider_at < size_ ? std::string_view(fields_[provider_at].value) : std::string_view(""),
               name_at < size_ ? std::string_view(fields_[name_at].value) : std::string_view(""), *this, event_id);
  // Every member starts with ','; the first one's becomes the '{' (an event always has an id).
  auto end_member = [&] {
    if (member_end != nullptr) *member_end++ = static_cast<std::uint32_t>(o - start);
  };
  auto write_id = [&] {
    static constexpr std::string_view kKey = ",\"event.id\":\"";
    std::memcpy(o, kKey.data(), kKey.size());
    o += kKey.size();
    std::memcpy(o, event_id, 32);
    o += 32;
    *o++ = '"';
    end_member();
  };
  auto write_raw = [&] {
    if (raw.empty()) return;
    static constexpr std::string_view kKey = ",\"raw\":\"";
    std::memcpy(o, kKey.data(), kKey.size());
    o += kKey.size();
    if (empty_raw) {
      *o++ = '"';
      end_member();
      return;
    }
    // Raw usually starts with the same header line as the previous event (CSV reports): reuse the
    // base64 of its 3-byte-aligned part, which encodes independently of what follows.
    thread_local std::string prefix, prefix_b64;
    std::string_view r = raw;
    if (prefix.empty() || r.size() < prefix.size() || std::memcmp(r.data(), prefix.data(), prefix.size()) != 0) {
      std::size_t nl = r.find('\n');
      std::size_t n = nl == std::string_view::npos || nl > 65536 ? 0 : (nl + 1) / 3 * 3;
      prefix.assign(r.substr(0, n));
      prefix_b64.resize(base64_size(n));
      write_base64(prefix_b64.data(), prefix);
    }
    if (!prefix.empty() && r.size() >= prefix.size() && std::memcmp(r.data(), prefix.data(), prefix.size()) == 0) {
      std::memcpy(o, prefix_b64.data(), prefix_b64.size());
      o += prefix_b64.size();
      r.remove_prefix(prefix.size());
    }
    o = write_base64(o, r);
    *o++ = '"';
    end_member();
  };
  const char* const texts = key_texts.data();
  for (std::size_t i = 0; i < size_; ++i) {
    if (i == id_pos) write_id();
    if (i == raw_pos) write_raw();
    const KeyText& k = key_at[i];
    if (k.skip) continue;
    const Field& f = fields_[last_order[i]];
    if (k.size <= kKeyBlock) {
      std::memcpy(o, texts + k.text, kKeyBlock);
    } else {
      std::memcpy(o, texts + k.text, k.size);
    }
    o += k.size;
    if (f.kind == JsonKind::kString) {
      o = write_json_string(o, f.value);
    } else {
      if (parts != nullptr && !plain_token(f.value)) parts->plain = false;
      std::memcpy(o, f.value.data(), f.value.size());
      o += f.value.size();
    }
    end_member();
  }
  if (id_pos == size_) write_id();
  if (raw_pos == size_) write_raw();
  *start = '{';
  *o++ = '}';
  if (parts != nullptr) parts->member_ends.resize(static_cast<std::size_t>(member_end - parts->member_ends.data()));
  out.append(start, static_cast<std::size_t>(o - start));
}

std::string Event::to_json() const {
  std::string s;
  append_json(s);
  return s;
}

Event Event::from_json(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json);
  if (!j.is_object()) throw std::runtime_error("event JSON is not an object");
  Event e;
  std::string taxonomy, type, identifier;
  for (auto& [k, v] : j.items()) {
    if (k == "raw") {
      e.raw = base64_decode(v.get<std::string>());
    } else if (k == "event.id" || k == "__type" || k == "raw_decoded") {
      continue;
    } else if (k == "classification.taxonomy") {
      taxonomy = v.get<std::string>();
    } else if (k == "classification.type") {
      type = v.get<std::string>();
    } else if (k == "classification.identifier") {
      identifier = v.get<std::string>();
    } else if (k == "source.ip" || k == "destination.ip") {
      auto ip = IpAddress::parse(v.get<std::string>());
      if (!ip) throw std::runtime_error("bad IP in event JSON: " + k);
      k == "source.ip" ? e.set_source_ip(*ip) : e.set_destination_ip(*ip);
    } else if ((k == "source.port" || k == "destination.port") && v.is_number_integer()) {
      auto p = v.get<std::int64_t>();
      if (p < 0 || p > 65535) throw std::runtime_error("bad port in event JSON: " + k);
      k == "source.port" ? e.set_source_port(static_cast<std::uint16_t>(p))
                         : e.set_destination_port(static_cast<std::uint16_t>(p));
    } else if (k == "time.source" || k == "time.observation") {
      auto t = Timestamp::parse(v.get<std::string>());
      if (!t) throw std::runtime_error("bad time in event JSON: " + k);
      k == "time.source" ? e.set_time_source(*t) : e.set_time_observation(*t);
    } else if (k == "severity" && v.is_string()) {
      e.set_severity(parse_severity(v.get<std::string>()).value_or(Severity::kUnknown));
    } else if (v.is_string()) {
      e.set(k, v.get<std::string>());
    } else if (v.is_boolean()) {
      e.set_bool(k, v.get<bool>());
    } else if (v.is_number()) {
      e.set(k, v.dump(), JsonKind::kNumber);
    } else {
      e.set(k, v.dump());
    }
  }
  if (!type.empty()) {
    auto c = Classification::parse(taxonomy, type, identifier);
    e.set_classification(c ? *c : Classification::undetermined(identifier));
  }
  return e;
}

}  // namespace klartext::core
