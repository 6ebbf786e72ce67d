// Events stored in blocks (schema version 9): the encoding of one event_blocks row's data.
//
// A bulk ingest wrote one SQL row per event, with an index entry per case: about 3.5 µs per event,
// most of an ingest. From version 9 the store keeps up to kBlockEvents events of one report in one
// row: the fields the events table had as columns, one record after another:
//   byte 1 (the format), then per event: varint flags, and the fields the flags name
//     event id (when not inside the JSON), classification (unless the same as the record before),
//     source ip text, source port, time (zigzag difference to the record before), severity (unless
//     the same), customer id, case id (zigzag difference to the last case id), raw prefix id, raw
//     evidence after the prefix, JSON base id, and the JSON (whole, or the delta to that base).
// Strings are a varint length and the bytes. The event ids of a block are its row id and on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace klartext::store::detail {

// Events per block: the reader of one case's evidence decodes whole blocks, so they stay small
// (256 Shadowserver rows are about 100 KB).
constexpr std::size_t kBlockEvents = 256;

// One event as stored (schema 4's event columns; views, valid while the data they point into is).
struct BlockEvent {
  std::string_view event_id;  // empty: the id is the JSON's "event.id"
  std::string_view classification;
  std::string_view source_ip;  // text; empty: none
  std::optional<std::uint16_t> source_port;
  std::int64_t time = 0;  // microseconds
  std::string_view severity;
  std::string_view customer_id;  // empty: unassigned
  std::optional<std::int64_t> case_id;
  std::int64_t raw_prefix_id = 0;       // event_raw_prefixes id; 0: none
  std::optional<std::string_view> raw;  // evidence after the prefix; nullopt: the JSON holds it
  std::int64_t json_base_id = 0;        // event_json_bases id; 0: `json` is whole
  std::string_view json;                // whole, or the delta to the base (json_delta.hpp)
};

// Builds one block's data.
class BlockWriter {
 public:
  BlockWriter() { clear(); }
  void append(const BlockEvent& e);
  std::size_t count() const { return count_; }
  std::string_view data() const { return data_; }
  void clear();

 private:
  std::string data_;
  std::size_t count_ = 0;
  std::string last_classification_, last_severity_;
  std::int64_t last_time_ = 0;
  std::int64_t last_case_ = 0;
};

// Calls fn(index, event) for each event of a block, in order. False when the data is not a block
// this build writes (unknown format, cut short, a length past the end): it never reads outside
// `data`; the events before the damage have been passed to fn.
template <typename Fn>
bool decode_block(std::string_view data, Fn&& fn);

// The decoder behind decode_block: one event at `pos` (advanced past it). False when corrupt.
struct BlockReader {
  std::string_view data;
  std::size_t pos = 1;
  std::string_view last_classification, last_severity;
  bool have_classification = false, have_severity = false;
  std::int64_t last_time = 0;
  std::int64_t last_case = 0;
  bool start();  // checks the format byte
  bool next(BlockEvent& e);
  bool done() const { return pos >= data.size(); }
};

template <typename Fn>
bool decode_block(std::string_view data, Fn&& fn) {
  BlockReader r{data};
  if (!r.start()) return false;
  for (std::size_t i = 0; !r.done(); ++i) {
    BlockEvent e;
    if (!r.next(e)) return false;
    fn(i, e);
  }
  return true;
}

}  // namespace klartext::store::detail
