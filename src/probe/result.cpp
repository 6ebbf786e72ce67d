// JSON Lines and table output of probe results, and the verdict rule.
#include "probe/result.hpp"

#include <fmt/format.h>

#include "core/event.hpp"

namespace klartext::probe {

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::kAmplifier: return "amplifier";
    case Verdict::kResponds: return "responds";
    case Verdict::kNoAnswer: return "no-answer";
    case Verdict::kError: return "error";
  }
  return "error";
}

void judge(ProbeResult& r, bool abusable, double min_factor) {
  if (r.requests_sent > 0) {
    double sent_bytes = static_cast<double>(r.request.size()) * r.requests_sent;
    r.baf = sent_bytes > 0 ? static_cast<double>(r.response_bytes) / sent_bytes : 0;
    r.paf = static_cast<double>(r.response_packets) / r.requests_sent;
  }
  if (!r.error.empty()) {
    r.verdict = Verdict::kError;
  } else if (r.response_packets == 0) {
    r.verdict = Verdict::kNoAnswer;
  } else if (abusable && r.decoded.valid && r.decoded.open && (r.baf >= min_factor || r.paf >= 2.0)) {
    r.verdict = Verdict::kAmplifier;
  } else {
    r.verdict = Verdict::kResponds;
  }
}

namespace {

void append_hex(std::string& out, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : bytes) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(kHex[u >> 4]);
    out.push_back(kHex[u & 15]);
  }
}

std::string fixed(double v, int digits) {
  return fmt::format("{:.{}f}", v, digits);
}

}  // namespace

void ProbeResult::append_json(std::string& out) const {
  out += "{\"time\":\"";
  time.append_iso(out);
  out += "\",\"target\":\"";
  target.append_to(out);
  out += fmt::format("\",\"port\":{},\"probe\":", port);
  core::append_json_string(out, probe);
  out += ",\"variant\":";
  core::append_json_string(out, variant);
  out += ",\"service\":";
  core::append_json_string(out, service);
  out += ",\"source\":";
  core::append_json_string(out, source);
  out += ",\"verdict\":\"";
  out += to_string(verdict);
  out += "\"";
  if (!error.empty()) {
    out += ",\"error\":";
    core::append_json_string(out, error);
  }
  out += fmt::format(",\"icmp_unreachable\":{}", unreachable ? "true" : "false");
  out += fmt::format(",\"request_bytes\":{},\"requests_sent\":{},\"response_bytes\":{},\"response_packets\":{}",
                     request.size(), requests_sent, response_bytes, response_packets);
  out += ",\"baf\":" + fixed(baf, 2) + ",\"paf\":" + fixed(paf, 2);
  if (first_answer_ms) out += ",\"first_answer_ms\":" + fixed(*first_answer_ms, 3);
  out += ",\"duration_ms\":" + fixed(duration_ms, 1);
  out += fmt::format(",\"valid\":{},\"abusable_answer\":{}", decoded.valid ? "true" : "false",
                     decoded.open ? "true" : "false");
  out += ",\"details\":{";
  bool first = true;
  for (const auto& d : decoded.details) {
    if (!first) out += ",";
    first = false;
    core::append_json_string(out, d.key);
    out += ":";
    if (d.number) {
      out += d.value;
    } else {
      core::append_json_string(out, d.value);
    }
  }
  out += "},\"request_hex\":\"";
  append_hex(out, request);
  out += "\",\"evidence\":[";
  for (std::size_t i = 0; i < evidence.size(); ++i) {
    if (i) out += ",";
    out += "\"";
    core::append_base64(out, evidence[i]);
    out += "\"";
  }
  out += fmt::format("],\"evidence_omitted_packets\":{}}}", evidence_omitted);
}

std::string ProbeResult::to_json() const {
  std::string s;
  append_json(s);
  return s;
}

std::string format_table(const std::vector<ProbeResult>& results) {
  std::string out = fmt::format("{:<24} {:>5} {:<13} {:<10} {:>6} {:>9} {:>6} {:>9} {:>6} {:>9}  {}\n", "TARGET",
                                "PORT", "PROBE", "VERDICT", "REQ", "RESP", "PKTS", "BAF", "PAF", "FIRST_MS", "DETAILS");
  for (const auto& r : results) {
    std::string details;
    if (!r.error.empty()) details = "error: " + r.error;
    if (r.unreachable) details = "port unreachable (ICMP)";
    for (const auto& d : r.decoded.details) {
      if (details.size() > 100) break;
      if (!details.empty()) details += "; ";
      details += d.key + "=" + d.value;
    }
    out +=
        fmt::format("{:<24} {:>5} {:<13} {:<10} {:>6} {:>9} {:>6} {:>9} {:>6} {:>9}  {}\n", r.target.to_string(),
                    r.port, r.probe, to_string(r.verdict), r.request.size(), r.response_bytes, r.response_packets,
                    fixed(r.baf, 1), fixed(r.paf, 1), r.first_answer_ms ? fixed(*r.first_answer_ms, 2) : "-", details);
  }
  return out;
}

}  // namespace klartext::probe
