// Stores an event's JSON as the difference to a base JSON of the same report (schema version 4).
//
// Events of one report share most members (classification, feed, amplifier facts, geolocation):
// for a Shadowserver row about 650 of 900 bytes. The store keeps the first event's JSON of a report
// once (event_json_bases) and per event only the members that differ. The delta is a list of ops
// over the base's top-level members, so the original bytes (member order included) come back
// exactly:
//   'c' n   copy the next n base members      's' n   skip the next n base members
//   'l' t   a member text t, base stays        'r' t   a member text t replacing the next base member
//   'v' t   the next base member's key with the value t (replacing that member)
// Encoders write 'v' where a member keeps the base member's key (an event's own id, address, time)
// and 'l' otherwise; 'r', written by earlier versions, is still read.
// n and the length of t are LEB128 varints. Base members left after the last op are not in the event.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace klartext::store::detail {

// The top-level member texts (`"key":value`) of a compact JSON object, in order. False (and `out`
// unspecified) unless `json` is exactly '{' + members joined by ',' + '}' (what core::Event writes).
bool split_members(std::string_view json, std::vector<std::string_view>& out);

// Appends the delta of `json` against `base` to `out`. False when `json` cannot be split: then it
// must be stored whole.
bool encode_delta(const std::vector<std::string_view>& base, std::string_view json, std::string& out);

// The same delta for a JSON whose top-level members are known to end at `member_ends` (offsets
// from the '{', as core::JsonParts gives them when plain): no member is scanned. The keys of
// `base` must be distinct (distinct_keys), as those of an event's JSON are.
void encode_delta(const std::vector<std::string_view>& base, std::string_view json,
                  std::span<const std::uint32_t> member_ends, std::string& out);

// True when the members (from split_members) have distinct keys.
bool distinct_keys(const std::vector<std::string_view>& members);

// Appends the JSON that `delta` describes against `base` to `out`. False when the delta is corrupt.
bool decode_delta(const std::vector<std::string_view>& base, std::string_view delta, std::string& out);

}  // namespace klartext::store::detail
