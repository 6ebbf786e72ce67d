// `klartext verify`: probes the amplifier service of cases and records the measurement on each case.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "core/event.hpp"
#include "probe/verify.hpp"
#include "store/store.hpp"

namespace klartext::cli {
namespace {

struct VerifyArgs {
  std::vector<std::int64_t> case_ids;
  bool open = false;
  std::string source;
  std::string store_path;
  bool json = false;
  std::int64_t timeout_ms = -1;
  std::int64_t quiet_ms = -1;
  int retries = -1;
};

void run_verify(const VerifyArgs& a) {
  auto cfg = config::load(global_options().config_path);
  if (!a.store_path.empty()) {
    config::apply_store_option(cfg, a.store_path);
  }
  if (a.case_ids.empty() && !a.open) throw CommandFailed("give --case ID (repeatable) or --open", 2);
  auto store = store::Store::open(cfg);
  std::vector<std::int64_t> ids = a.case_ids;
  if (a.open) {
    for (auto id : probe::open_amplifier_cases(*store)) ids.push_back(id);
  }
  probe::EngineOptions opt;
  if (!a.source.empty()) {
    auto src = core::IpAddress::parse(a.source);
    if (!src) throw CommandFailed("--source " + a.source + ": not an IP address", 2);
    opt.source = *src;
  }
  opt.rate_pps = static_cast<double>(cfg.probe_rate_pps);
  opt.timeout = std::chrono::milliseconds(a.timeout_ms >= 0 ? a.timeout_ms : cfg.probe_timeout_ms);
  opt.quiet =
      std::chrono::milliseconds(a.quiet_ms >= 0 ? a.quiet_ms : std::min<std::int64_t>(500, opt.timeout.count()));
  opt.target_spacing = std::chrono::milliseconds(cfg.probe_target_spacing_ms);
  opt.retries = a.retries >= 0 ? a.retries : static_cast<int>(cfg.probe_retries);
  auto outcomes = probe::verify_cases(*store, cfg, ids, opt, cfg.data_dir);
  bool explicit_refused = false;
  for (const auto& o : outcomes) {
    if (a.json) {
      std::string line = fmt::format("{{\"case\":{},\"classification\":", o.case_id);
      core::append_json_string(line, o.classification);
      line += fmt::format(",\"target\":\"{}\",\"state_before\":\"{}\",\"state_after\":\"{}\",\"action\":\"{}\"",
                          o.target.to_string(), cases::to_string(o.before), cases::to_string(o.after), o.action);
      line += ",\"note\":";
      core::append_json_string(line, o.note);
      if (o.probe_result_id) line += fmt::format(",\"probe_result_id\":{}", *o.probe_result_id);
      if (o.result) line += ",\"measurement\":" + o.result->to_json();
      std::cout << line << "}\n";
    } else {
      std::cout << fmt::format("case {:>6}  {:<40} {:<22} {:>9} -> {:<9} {:<22} {}\n", o.case_id, o.classification,
                               o.target.to_string(), cases::to_string(o.before), cases::to_string(o.after), o.action,
                               o.result ? fmt::format("{} BAF {:.1f} PAF {:.1f} ({} B in {} pkts) {}",
                                                      probe::to_string(o.result->verdict), o.result->baf, o.result->paf,
                                                      o.result->response_bytes, o.result->response_packets, o.note)
                                        : o.note);
    }
    explicit_refused =
        explicit_refused || (o.action == "skipped" && o.note.find("probe.allowed_prefixes") != std::string::npos);
  }
  if (outcomes.empty()) std::cout << "no amplifier cases to verify\n";
  if (explicit_refused && !a.case_ids.empty() && !a.open) {
    throw CommandFailed("a case address is outside probe.allowed_prefixes; nothing was sent to it", 2);
  }
}

}  // namespace

void register_verify(CLI::App& app) {
  auto a = std::make_shared<VerifyArgs>();
  auto* cmd = app.add_subcommand(
      "verify",
      "Probe the amplifier service of cases and record time, verdict, BAF/PAF and details on each case. A case\n"
      "the customer marked resolved closes as verified fixed, or reopens with the new measurement.");
  cmd->add_option("--case", a->case_ids, "case id (repeatable)");
  cmd->add_flag("--open", a->open, "every active ddos-amplifier case");
  cmd->add_option("--source", a->source, "bind the probes to this local address");
  cmd->add_option("--store", a->store_path, "SQLite store file or PostgreSQL URI (overrides the configuration)");
  cmd->add_flag("--json", a->json, "one JSON object per case");
  cmd->add_option("--timeout-ms", a->timeout_ms, "wait this long for a first answer (default: probe.timeout_ms)");
  cmd->add_option("--quiet-ms", a->quiet_ms, "a measurement ends after this much silence (default 500)");
  cmd->add_option("--retries", a->retries, "resend a request that got no answer this often");
  cmd->callback([a] { run_verify(*a); });
}

}  // namespace klartext::cli
