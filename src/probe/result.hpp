// The measurement of one probe against one target: bytes, packets, BAF/PAF, verdict, details, evidence.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip.hpp"
#include "core/timestamp.hpp"
#include "probe/codec.hpp"

namespace klartext::probe {

enum class Verdict : std::uint8_t {
  kAmplifier,  // a genuine answer to the abusable request, amplifying (BAF or PAF >= the probe's minimum)
  kResponds,   // answers, but not as an amplifier (error reply, refusal, baseline, small reply)
  kNoAnswer,   // nothing within the timeout (closed, filtered, or restricted: the fixed state)
  kError,      // we could not probe (socket, bind, route errors)
};
std::string_view to_string(Verdict v);

// Bandwidth and packet amplification factors as Rossow (NDSS 2014) defines them: UDP payload
// bytes the amplifier sent / UDP payload bytes we sent, and IP packets received / packets sent.
// Both count every request we sent (retries included), so a late answer to a retry is not
// mistaken for amplification.
struct ProbeResult {
  core::IpAddress target;
  std::uint16_t port = 0;
  std::string probe;  // catalogue name
  std::string variant;
  std::string service;
  core::Timestamp time;  // when the first request left
  std::string source;    // local address:port the requests came from
  Verdict verdict = Verdict::kNoAnswer;
  std::string error;         // why, for kError
  bool unreachable = false;  // ICMP port unreachable came back (closed port)
  std::string request;       // request payload (sent `requests_sent` times)
  std::uint32_t requests_sent = 0;
  std::uint64_t response_bytes = 0;    // UDP payload bytes from the target port
  std::uint64_t response_packets = 0;  // datagrams from the target port
  double baf = 0;
  double paf = 0;
  std::optional<double> first_answer_ms;  // from the first request to the first datagram
  double duration_ms = 0;
  Decoded decoded;
  std::vector<std::string> evidence;  // first response datagrams (capped count and size)
  std::uint64_t evidence_omitted = 0;

  // One JSON object (no newline).
  void append_json(std::string& out) const;
  std::string to_json() const;
};

// Fills baf/paf/verdict from the counters and `decoded` (min_factor: see catalogue `min_baf`).
void judge(ProbeResult& r, bool abusable, double min_factor);

// A readable table, one row per result.
std::string format_table(const std::vector<ProbeResult>& results);

}  // namespace klartext::probe
