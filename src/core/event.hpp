// The normalized event: flat dotted fields (IntelMQ harmonization names) with typed core values.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip.hpp"
#include "core/taxonomy.hpp"
#include "core/timestamp.hpp"

struct XXH3_state_s;  // xxhash.h's streaming state

namespace klartext::core {

enum class JsonKind : std::uint8_t { kString, kNumber, kBool };

enum class Severity : std::uint8_t { kUnknown, kInfo, kLow, kMedium, kHigh, kCritical };
std::string_view to_string(Severity s);
std::optional<Severity> parse_severity(std::string_view s);  // case-insensitive

// Field names are a small set, interned for the whole program. Input can name columns (CSV headers),
// so the table is bounded: hostile headers must not grow memory without limit.
inline constexpr std::size_t kMaxInternedKeys = 65536;    // distinct field names per process
inline constexpr std::size_t kMaxInternedKeyBytes = 256;  // length of one field name
// Key that intern_key returns for a name it refuses (too long, or the table is full).
inline constexpr std::string_view kKeyLimitExceeded = "extra.key-limit-exceeded";

// Returns a stable view of `key` that lives for the whole program, or nullopt when `key` is new and
// longer than kMaxInternedKeyBytes or the table already holds kMaxInternedKeys names.
std::optional<std::string_view> try_intern_key(std::string_view key);
// Like try_intern_key, but a refused name becomes kKeyLimitExceeded (its data stays in `raw`);
// callers that take names from input should use try_intern_key and report the refusal.
std::string_view intern_key(std::string_view key);

struct Field {
  std::string_view key;  // interned
  std::string value;     // JSON text for kNumber/kBool, plain text for kString
  JsonKind kind = JsonKind::kString;
};

// What Event::append_json_parts tells about the JSON it wrote, for a store that keeps the evidence
// apart and the members as a delta (store::EventPreparer) without searching the text again.
struct JsonParts {
  char id[32];  // the event id (Event::id()) as written into the JSON
  // True when the text is plain enough that the member ends below are the ones a JSON scan finds:
  // no key holds '"' or '\\', and every number or boolean value is a non-empty bare token. When
  // false, member_ends is unspecified.
  bool plain = false;
  // Offsets (from the '{') of the end of each top-level member, in order.
  std::vector<std::uint32_t> member_ends;
};

class Event {
 public:
  // Forgets all fields but keeps allocated capacity (events are reused on hot paths).
  void clear();

  // Generic fields. Setting an existing key replaces its value.
  void set(std::string_view key, std::string_view value, JsonKind kind = JsonKind::kString);
  void set_int(std::string_view key, std::int64_t v);
  void set_float(std::string_view key, double v);
  void set_bool(std::string_view key, bool v);
  bool erase(std::string_view key);
  const Field* find(std::string_view key) const;
  std::optional<std::string_view> get(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // Fields in insertion order (serialization sorts by key).
  const Field* begin() const { return fields_.data(); }
  const Field* end() const { return fields_.data() + size_; }
  std::size_t size() const { return size_; }

  // Typed core fields; each also sets its text field.
  void set_classification(const Classification& c);
  const Classification& classification() const { return classification_; }
  void set_source_ip(const IpAddress& ip);
  std::optional<IpAddress> source_ip() const { return source_ip_; }
  void set_destination_ip(const IpAddress& ip);
  std::optional<IpAddress> destination_ip() const { return destination_ip_; }
  void set_source_port(std::uint16_t p);
  std::optional<std::uint16_t> source_port() const { return source_port_; }
  void set_destination_port(std::uint16_t p);
  std::optional<std::uint16_t> destination_port() const { return destination_port_; }
  void set_time_source(Timestamp t);
  std::optional<Timestamp> time_source() const { return time_source_; }
  void set_time_observation(Timestamp t);
  std::optional<Timestamp> time_observation() const { return time_observation_; }
  void set_severity(Severity s);
  Severity severity() const { return severity_; }

  // The original evidence, byte-exact (e.g. CSV header line + this row). Serialized as base64.
  std::string raw;

  // Stable identity: 128-bit hash of feed.provider, feed.name and raw, as 32 hex digits.
  std::string id() const;

  // One JSON object, keys sorted, no trailing newline; includes "event.id" and base64 "raw".
  void append_json(std::string& out) const;
  std::string to_json() const;
  // append_json with the "raw" value left empty ("raw":"") when raw is not empty, and `parts`
  // filled in (the id once, the member boundaries).
  void append_json_parts(std::string& out, JsonParts& parts) const;
  // Reads what append_json wrote (and IntelMQ events); throws std::runtime_error on bad input.
  static Event from_json(std::string_view json);

 private:
  Field& slot(std::string_view key);
  void leave_order();
  void write_json(std::string& out, JsonParts* parts) const;

  std::vector<Field> fields_;
  std::size_t size_ = 0;
  std::array<std::uint64_t, 4> key_mask_{};  // filter of keys present (see slot()); not kept while in_order_
  // Reused events get the same fields in the same order: while the fields set since clear() are the
  // last event's first ones (same interned keys, same places), the next key at its old place is new.
  std::size_t last_size_ = 0;  // fields the event had at clear(): their keys are still in fields_
  bool in_order_ = false;
  Classification classification_ = Classification::undetermined();
  std::optional<IpAddress> source_ip_, destination_ip_;
  std::optional<std::uint16_t> source_port_, destination_port_;
  std::optional<Timestamp> time_source_, time_observation_;
  Severity severity_ = Severity::kUnknown;
};

// The hash behind Event::id() (XXH3-128 of feed.provider \0 feed.name \0 raw), streamed: a
// serializer that knows the provider, the name and the start of raw for many events hashes them
// once and copies the hasher per event.
class EventIdHasher {
 public:
  EventIdHasher();
  EventIdHasher(const EventIdHasher& other);
  EventIdHasher& operator=(const EventIdHasher& other);
  ~EventIdHasher();

  // Starts over with `provider` and `name`; raw follows through add_raw.
  void start(std::string_view provider, std::string_view name);
  void add_raw(std::string_view bytes);
  // The id so far as 32 lowercase hex digits (the hasher stays usable).
  void finish(char hex[32]) const;

 private:
  struct StateFree {
    void operator()(XXH3_state_s* s) const;
  };
  std::unique_ptr<XXH3_state_s, StateFree> state_;
};

// JSON helpers used by every writer of JSON Lines.
void append_json_string(std::string& out, std::string_view s);  // with quotes; invalid UTF-8 -> U+FFFD
void append_json_value(std::string& out, const Field& f);       // as Event::append_json writes it
void append_base64(std::string& out, std::string_view bytes);
std::string base64_decode(std::string_view text);  // ignores whitespace; stops at invalid input
std::string hex_hash128(std::string_view bytes);   // XXH3-128 as 32 lowercase hex digits
std::string sha256_hex(std::string_view bytes);

}  // namespace klartext::core
