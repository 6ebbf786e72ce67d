// Event blocks (format in event_block.hpp).
#include "store/event_block.hpp"

#include "store/varint.hpp"

namespace klartext::store::detail {
namespace {

constexpr char kFormat = 1;

// Which fields a record has.
enum Flag : std::uint64_t {
  kEventId = 1 << 0,
  kNewClassification = 1 << 1,
  kSourceIp = 1 << 2,
  kSourcePort = 1 << 3,
  kNewSeverity = 1 << 4,
  kCustomer = 1 << 5,
  kCase = 1 << 6,
  kRawPrefix = 1 << 7,
  kRaw = 1 << 8,
  kJsonBase = 1 << 9,
  kAllFlags = (1 << 10) - 1,
};

// a - b and a + d with wrap-around: differences of any two int64 values encode and decode exactly.
std::int64_t wrapping_sub(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}
std::int64_t wrapping_add(std::int64_t a, std::int64_t d) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(d));
}

void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

bool get_string(std::string_view data, std::size_t& pos, std::string_view& s) {
  std::uint64_t n = 0;
  if (!get_varint(data, pos, n) || n > data.size() - pos) return false;
  s = data.substr(pos, n);
  pos += n;
  return true;
}

bool get_id(std::string_view data, std::size_t& pos, std::int64_t& id) {
  std::uint64_t n = 0;
  if (!get_varint(data, pos, n) || n == 0 || n > static_cast<std::uint64_t>(INT64_MAX)) return false;
  id = static_cast<std::int64_t>(n);
  return true;
}

}  // namespace

void BlockWriter::clear() {
  data_.assign(1, kFormat);
  count_ = 0;
  last_classification_.clear();
  last_severity_.clear();
  last_time_ = last_case_ = 0;
}

void BlockWriter::append(const BlockEvent& e) {
  std::uint64_t flags = 0;
  if (!e.event_id.empty()) flags |= kEventId;
  const bool new_class = count_ == 0 || e.classification != last_classification_;
  const bool new_severity = count_ == 0 || e.severity != last_severity_;
  if (new_class) flags |= kNewClassification;
  if (!e.source_ip.empty()) flags |= kSourceIp;
  if (e.source_port) flags |= kSourcePort;
  if (new_severity) flags |= kNewSeverity;
  if (!e.customer_id.empty()) flags |= kCustomer;
  if (e.case_id) flags |= kCase;
  if (e.raw_prefix_id != 0) flags |= kRawPrefix;
  if (e.raw) flags |= kRaw;
  if (e.json_base_id != 0) flags |= kJsonBase;
  put_varint(data_, flags);
  if (!e.event_id.empty()) put_string(data_, e.event_id);
  if (new_class) {
    put_string(data_, e.classification);
    last_classification_.assign(e.classification);
  }
  if (!e.source_ip.empty()) put_string(data_, e.source_ip);
  if (e.source_port) put_varint(data_, *e.source_port);
  put_svarint(data_, wrapping_sub(e.time, last_time_));
  last_time_ = e.time;
  if (new_severity) {
    put_string(data_, e.severity);
    last_severity_.assign(e.severity);
  }
  if (!e.customer_id.empty()) put_string(data_, e.customer_id);
  if (e.case_id) {
    put_svarint(data_, wrapping_sub(*e.case_id, last_case_));
    last_case_ = *e.case_id;
  }
  if (e.raw_prefix_id != 0) put_varint(data_, static_cast<std::uint64_t>(e.raw_prefix_id));
  if (e.raw) put_string(data_, *e.raw);
  if (e.json_base_id != 0) put_varint(data_, static_cast<std::uint64_t>(e.json_base_id));
  put_string(data_, e.json);
  ++count_;
}

bool BlockReader::start() {
  return !data.empty() && data[0] == kFormat && pos == 1;
}

bool BlockReader::next(BlockEvent& e) {
  std::uint64_t flags = 0;
  if (!get_varint(data, pos, flags) || (flags & ~static_cast<std::uint64_t>(kAllFlags)) != 0) return false;
  if ((flags & kEventId) != 0 && !get_string(data, pos, e.event_id)) return false;
  if ((flags & kNewClassification) != 0) {
    if (!get_string(data, pos, last_classification)) return false;
    have_classification = true;
  } else if (!have_classification) {
    return false;  // "same as before" in the first record
  }
  e.classification = last_classification;
  if ((flags & kSourceIp) != 0 && !get_string(data, pos, e.source_ip)) return false;
  if ((flags & kSourcePort) != 0) {
    std::uint64_t port = 0;
    if (!get_varint(data, pos, port) || port > 0xFFFF) return false;
    e.source_port = static_cast<std::uint16_t>(port);
  }
  std::int64_t dt = 0;
  if (!get_svarint(data, pos, dt)) return false;
  last_time = wrapping_add(last_time, dt);
  e.time = last_time;
  if ((flags & kNewSeverity) != 0) {
    if (!get_string(data, pos, last_severity)) return false;
    have_severity = true;
  } else if (!have_severity) {
    return false;
  }
  e.severity = last_severity;
  if ((flags & kCustomer) != 0 && !get_string(data, pos, e.customer_id)) return false;
  if ((flags & kCase) != 0) {
    std::int64_t d = 0;
    if (!get_svarint(data, pos, d)) return false;
    last_case = wrapping_add(last_case, d);
    e.case_id = last_case;
  }
  if ((flags & kRawPrefix) != 0 && !get_id(data, pos, e.raw_prefix_id)) return false;
  if ((flags & kRaw) != 0) {
    std::string_view raw;
    if (!get_string(data, pos, raw)) return false;
    e.raw = raw;
  }
  if ((flags & kJsonBase) != 0 && !get_id(data, pos, e.json_base_id)) return false;
  return get_string(data, pos, e.json);
}

}  // namespace klartext::store::detail
