// Builds the letter's view of a case from normalized events (what the store keeps for each case).
#pragma once

#include <span>
#include <string>

#include "core/event.hpp"
#include "letters/letter.hpp"

namespace klartext::letters {

// How the reporter's original bytes in `event.raw` are to be shown: a CSV row under its header, a
// whole report mail, or a text record.
EvidenceKind evidence_kind(const core::Event& event);

// Whether `bytes` start like an RFC 5322 mail (header fields, then an empty line).
bool looks_like_mail(std::string_view bytes);

// The reporter's own name for the incident: the malware or tag it gave, else its classification label,
// else the report name.
std::string reported_as(const core::Event& event);

// A case from its events (all of one customer, classification and source address): classification,
// address, port, feed, evidence from the first event; counts, first/last seen and the highest severity
// over all. The store may then overwrite counts and times with its own totals.
Case case_from_events(std::string id, std::span<const core::Event> events);

}  // namespace klartext::letters
