// Event -> letter case mapping (field names are IntelMQ's harmonization names, see core/event.hpp).
#include "letters/from_events.hpp"

#include <algorithm>

namespace klartext::letters {
namespace {

std::string field(const core::Event& e, std::string_view key) {
  auto v = e.get(key);
  return v ? std::string(*v) : std::string();
}

}  // namespace

bool looks_like_mail(std::string_view raw) {
  // A mail starts with "Name: value" where the name has no spaces; CSV headers contain commas first.
  const std::size_t colon = raw.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 76) return false;
  for (char c : raw.substr(0, colon)) {
    if (c <= ' ' || c > '~' || c == ',') return false;
  }
  return raw.find("\n\n") != std::string_view::npos || raw.find("\r\n\r\n") != std::string_view::npos;
}

EvidenceKind evidence_kind(const core::Event& event) {
  if (auto fmt = event.get("raw.format")) {
    if (*fmt == "csv") return EvidenceKind::kCsvRow;
    if (*fmt == "mail" || *fmt == "rfc822") return EvidenceKind::kMail;
    return EvidenceKind::kText;
  }
  const std::string_view raw = event.raw;
  if (event.get("feed.provider").value_or("").starts_with("Shadowserver") || event.has("feed.code")) {
    if (raw.find('\n') != std::string_view::npos) return EvidenceKind::kCsvRow;
  }
  if (looks_like_mail(raw)) return EvidenceKind::kMail;
  const std::size_t nl = raw.find('\n');
  if (nl != std::string_view::npos && raw.substr(0, nl).find(',') != std::string_view::npos &&
      raw.substr(nl + 1).find(',') != std::string_view::npos) {
    return EvidenceKind::kCsvRow;
  }
  return EvidenceKind::kText;
}

std::string reported_as(const core::Event& event) {
  for (std::string_view key : {"malware.name", "feed.name", "classification.identifier"}) {
    if (auto v = event.get(key); v && !v->empty()) return std::string(*v);
  }
  return event.classification().to_string();
}

Case case_from_events(std::string id, std::span<const core::Event> events) {
  Case c;
  c.id = std::move(id);
  if (events.empty()) return c;
  const core::Event& e0 = events.front();
  c.classification = e0.classification();
  c.reported_as = reported_as(e0);
  c.malware = field(e0, "malware.name");
  if (auto ip = e0.source_ip()) c.source_ip = *ip;
  c.port = e0.source_port();
  c.transport = field(e0, "protocol.transport");
  c.feed_provider = field(e0, "feed.provider");
  c.feed_name = field(e0, "feed.name");
  c.feed_documentation_url = field(e0, "feed.documentation");
  c.event_count = events.size();
  bool have_time = false;
  for (const core::Event& e : events) {
    auto t = e.time_source() ? e.time_source() : e.time_observation();
    if (t) {
      if (!have_time || *t < c.first_seen) c.first_seen = *t;
      if (!have_time || *t > c.last_seen) c.last_seen = *t;
      have_time = true;
    }
    c.severity = std::max(c.severity, e.severity());
    if (!e.raw.empty()) {
      const EvidenceKind kind = evidence_kind(e);
      if (kind == EvidenceKind::kMail) {
        c.evidence.push_back(Evidence{EvidenceKind::kMail, {}, e.raw, c.feed_name});
      } else {
        c.evidence.push_back(evidence_from_raw(e.raw, kind == EvidenceKind::kCsvRow, c.feed_name));
      }
    }
  }
  return c;
}

}  // namespace klartext::letters
