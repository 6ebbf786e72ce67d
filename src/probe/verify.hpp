// Case verification: probes the service of amplifier cases, records the measurement on the case, and
// closes a case the customer marked resolved (verified fixed) or reopens it with the new evidence.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cases/case.hpp"
#include "config/config.hpp"
#include "probe/engine.hpp"
#include "probe/result.hpp"
#include "store/store.hpp"

namespace klartext::probe {

struct VerifyOutcome {
  std::int64_t case_id = 0;
  std::string classification;
  core::IpAddress target;
  cases::CaseState before = cases::CaseState::kOpen;
  cases::CaseState after = cases::CaseState::kOpen;
  std::string action;  // "recorded", "closed-verified-fixed", "reopened", "skipped"
  std::string note;    // why skipped, or the transition reason
  std::optional<ProbeResult> result;
  std::optional<std::int64_t> probe_result_id;  // row in the store
};

// Probes the given cases (ids) and applies the rules:
//  - every probe is stored on its case (store::ProbeResult: time, verdict, BAF, PAF, details_json =
//    the whole measurement as `klartext check --json` prints it);
//  - a kResolved case whose probe gets no answer, or an answer that does not amplify, is closed
//    ("verified fixed"); one that is still an amplifier goes back to kOpen with the measurement as
//    the reason;
//  - other active cases only get the measurement recorded (a confirmed amplifier stays open; the
//    customer has not claimed a fix);
//  - cases that are not amplifier cases, have no probe, are closed, or lie outside
//    probe.allowed_prefixes are skipped, before any packet, with the reason.
std::vector<VerifyOutcome> verify_cases(store::Store& store, const config::Config& cfg,
                                        const std::vector<std::int64_t>& case_ids, const EngineOptions& options,
                                        const std::string& data_dir = {});

// Ids of the active (not closed) cases of type vulnerable/ddos-amplifier.
std::vector<std::int64_t> open_amplifier_cases(store::Store& store);

}  // namespace klartext::probe
