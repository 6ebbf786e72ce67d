// Case verification by probing (klartext verify).
#include "probe/verify.hpp"

#include <fmt/format.h>

#include "cases/case_book.hpp"
#include "knowledge/knowledge.hpp"
#include "probe/catalogue.hpp"
#include "probe/policy.hpp"

namespace klartext::probe {
namespace {

constexpr std::string_view kAmplifierPrefix = "vulnerable/ddos-amplifier/";

// The catalogue probe that verifies an amplifier identifier: the knowledge base's `probe` field,
// else a catalogue entry of the same name.
const ProbeSpec* probe_for(const core::Classification& c, const Catalogue& cat, const std::string& data_dir) {
  try {
    if (const auto* a = knowledge::KnowledgeBase::instance(data_dir).find_amplifier(c.identifier)) {
      if (!a->probe.empty()) return cat.find(a->probe);
    }
  } catch (const std::exception&) {
    // A broken knowledge file must not stop verification of the entries the catalogue knows.
  }
  return cat.find(c.identifier);
}

std::string measurement_text(const ProbeResult& r) {
  return fmt::format("{} request of {} B to {}:{} got {} B in {} packets (BAF {:.1f}, PAF {:.1f}): {}", r.probe,
                     r.request.size(), r.target.to_string(), r.port, r.response_bytes, r.response_packets, r.baf, r.paf,
                     to_string(r.verdict));
}

}  // namespace

std::vector<std::int64_t> open_amplifier_cases(store::Store& store) {
  store::CaseFilter f;
  f.active_only = true;
  f.classification_prefix = std::string(kAmplifierPrefix);
  std::vector<std::int64_t> ids;
  for (const auto& c : store.list_cases(f)) ids.push_back(c.id);
  return ids;
}

std::vector<VerifyOutcome> verify_cases(store::Store& store, const config::Config& cfg,
                                        const std::vector<std::int64_t>& case_ids, const EngineOptions& options,
                                        const std::string& data_dir) {
  const auto& cat = Catalogue::instance(data_dir);
  auto policy = TargetPolicy::from_config(cfg.probe_allowed_prefixes);
  std::vector<VerifyOutcome> out;
  std::vector<ProbeJob> jobs;
  std::vector<std::size_t> job_outcome;  // job index -> outcome index
  for (auto id : case_ids) {
    VerifyOutcome o;
    o.case_id = id;
    auto c = store.get_case(id);
    if (!c) {
      o.action = "skipped";
      o.note = "no such case";
      out.push_back(std::move(o));
      continue;
    }
    o.classification = c->classification.to_string();
    o.target = c->source_ip;
    o.before = o.after = c->state;
    const ProbeSpec* spec = nullptr;
    if (!o.classification.starts_with(kAmplifierPrefix)) {
      o.note = "not an amplifier case";
    } else if (c->state == cases::CaseState::kClosed) {
      o.note = "case is closed";
    } else if ((spec = probe_for(c->classification, cat, data_dir)) == nullptr) {
      o.note = "no probe for " + c->classification.identifier;
    } else if (!policy) {
      o.note = policy.error().message;
    } else if (auto t = expand_targets({c->source_ip.to_string()}, *policy); !t) {
      o.note = t.error().message;
    }
    if (!o.note.empty()) {
      o.action = "skipped";
      out.push_back(std::move(o));
      continue;
    }
    std::uint16_t port = c->source_port.value_or(spec->port);
    jobs.push_back({c->source_ip, port, spec, &spec->variants.front(), spec->variants.front().params});
    job_outcome.push_back(out.size());
    out.push_back(std::move(o));
  }
  if (jobs.empty()) return out;

  // Map results back by (target, port, probe): each case has its own job, but two cases can share
  // an address (different classifications), so match on all three.
  std::vector<ProbeResult> results;
  Engine(options).run(jobs, [&](ProbeResult&& r) { results.push_back(std::move(r)); });
  std::vector<bool> used(results.size(), false);
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    for (std::size_t k = 0; k < results.size(); ++k) {
      if (!used[k] && results[k].target == jobs[j].target && results[k].port == jobs[j].port &&
          results[k].probe == jobs[j].spec->name) {
        used[k] = true;
        out[job_outcome[j]].result = std::move(results[k]);
        break;
      }
    }
  }

  cases::CaseBook book(store, cfg);
  auto tx = store.transaction();
  for (auto& o : out) {
    if (!o.result) continue;
    const ProbeResult& r = *o.result;
    store::ProbeResult row;
    row.case_id = o.case_id;
    row.time = r.time;
    row.verdict = std::string(to_string(r.verdict));
    if (r.requests_sent > 0) {
      row.baf = r.baf;
      row.paf = r.paf;
    }
    row.details_json = r.to_json();
    o.probe_result_id = store.add_probe_result(row);
    o.action = "recorded";
    auto now = core::Timestamp::now();
    if (o.before != cases::CaseState::kResolved || r.verdict == Verdict::kError) continue;
    if (r.verdict == Verdict::kAmplifier) {
      // Reopen with the new evidence (open again, or escalated per the configured threshold).
      o.note = "re-probe after resolution: still an amplifier: " + measurement_text(r);
      o.after = book.reopen(o.case_id, o.note, now);
      o.action = "reopened";
    } else {
      o.note = "verified fixed: " + measurement_text(r);
      book.close(o.case_id, o.note, now);
      o.after = cases::CaseState::kClosed;
      o.action = "closed-verified-fixed";
    }
  }
  tx.commit();
  return out;
}

}  // namespace klartext::probe
