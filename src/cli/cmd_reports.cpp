// `klartext reports`: lists stored reports with their kind and verdict, also the mails that made no events.
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "store/store.hpp"

namespace klartext::cli {
namespace {

constexpr const char* kKinds = "abuse-report, not-a-report, unreadable, empty";

struct ReportsArgs {
  std::string store_path;
  std::string kind;
  bool json = false;
};

nlohmann::json report_json(const store::Report& r) {
  return {{"id", r.id},           {"received", r.received.to_iso()},
          {"input", r.input},     {"format", r.format},
          {"detail", r.detail},   {"kind", r.kind},
          {"verdict", r.verdict}, {"events", r.events},
          {"issues", r.issues},   {"complete", r.complete},
          {"sha256", r.sha256}};
}

void run_reports(const ReportsArgs& args) {
  if (!args.kind.empty() && args.kind != "abuse-report" && args.kind != "not-a-report" && args.kind != "unreadable" &&
      args.kind != "empty") {
    throw CommandFailed("unknown kind '" + args.kind + "' (" + kKinds + ")", 2);
  }
  auto cfg = config::load(global_options().config_path);
  if (!args.store_path.empty()) config::apply_store_option(cfg, args.store_path);
  auto store = store::Store::open(cfg);
  std::vector<store::Report> reports;
  for (auto& r : store->list_reports()) {
    if (args.kind.empty() || r.kind == args.kind) reports.push_back(std::move(r));
  }
  if (args.json) {
    for (const auto& r : reports) std::cout << report_json(r).dump() << "\n";
    return;
  }
  if (reports.empty()) {
    std::cout << "no reports" << (args.kind.empty() ? "" : " of kind " + args.kind) << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : reports) {
    auto t = r.received.to_iso();  // 2026-11-27T02:14:09+00:00 -> 2026-11-27 02:14
    rows.push_back({std::to_string(r.id), t.size() >= 16 ? t.substr(0, 10) + " " + t.substr(11, 5) : t, r.input,
                    r.format.empty() ? "-" : r.format, r.kind.empty() ? "-" : r.kind,
                    r.verdict.empty() ? "-" : r.verdict, std::to_string(r.events), std::to_string(r.issues)});
  }
  print_table({"ID", "RECEIVED (UTC)", "INPUT", "FORMAT", "KIND", "VERDICT", "EVENTS", "ISSUES"}, rows);
}

}  // namespace

void register_reports(CLI::App& app) {
  auto args = std::make_shared<ReportsArgs>();
  auto* cmd = app.add_subcommand("reports",
                                 "List stored reports: kind (abuse report, not a report, unreadable), "
                                 "verdict, events and issues");
  cmd->add_option("--store", args->store_path, "SQLite store file or PostgreSQL URI (overrides the configuration)");
  cmd->add_option("--kind", args->kind, std::string("only reports of this kind: ") + kKinds);
  cmd->add_flag("--json", args->json,
                "JSON Lines: id, received, input, format, detail, kind, verdict, events, issues, "
                "complete, sha256");
  cmd->callback([args] { run_reports(*args); });
}

}  // namespace klartext::cli
