// `klartext cases`: lists cases (or unassigned events) as a table or JSON Lines; resolves and closes cases.
#include <nlohmann/json.hpp>

#include <iomanip>
#include <iostream>
#include <map>
#include <memory>

#include "cases/case_book.hpp"
#include "cli/commands.hpp"
#include "config/config.hpp"
#include "store/store.hpp"

namespace klartext::cli {
namespace {

struct CasesArgs {
  std::string customer;
  std::string state;
  bool unassigned = false;
  bool json = false;
  bool all = false;
  bool history = false;
  std::string store_path;
  std::int64_t case_id = 0;
  std::string reason;
};

config::Config load_config(const std::string& store_path) {
  auto cfg = config::load(global_options().config_path);
  if (!store_path.empty()) {
    config::apply_store_option(cfg, store_path);
  }
  return cfg;
}

std::string short_time(core::Timestamp t) {
  auto s = t.to_iso();  // 2026-11-27T02:14:09+00:00
  return s.size() >= 19 ? s.substr(0, 10) + " " + s.substr(11, 5) : s;
}

nlohmann::json case_json(store::Store& store, const cases::Case& c, bool history) {
  nlohmann::json j;
  j["id"] = c.id;
  j["customer_id"] = c.customer_id;
  if (auto cu = store.customer(c.customer_id)) j["customer_name"] = cu->name;
  j["state"] = std::string(cases::to_string(c.state));
  j["classification"] = c.classification.to_string();
  j["classification_taxonomy"] = std::string(core::to_string(c.classification.taxonomy));
  j["classification_type"] = std::string(core::to_string(c.classification.type));
  j["classification_identifier"] = c.classification.identifier;
  j["source_ip"] = c.source_ip.to_string();
  if (c.source_port) j["source_port"] = *c.source_port;
  j["event_count"] = c.event_count;
  j["first_seen"] = c.first_seen.to_iso();
  j["last_seen"] = c.last_seen.to_iso();
  j["severity"] = std::string(core::to_string(c.severity));
  j["notifications"] = c.notifications;
  j["last_notified"] = c.last_notified ? nlohmann::json(c.last_notified->to_iso()) : nlohmann::json(nullptr);
  j["created"] = c.created.to_iso();
  j["updated"] = c.updated.to_iso();
  nlohmann::json ev = nlohmann::json::array();
  for (const auto& e : store.case_events(c.id, 50)) ev.push_back(e.event_id);
  j["event_ids"] = ev;
  if (history) {
    nlohmann::json h = nlohmann::json::array();
    for (const auto& t : store.case_history(c.id)) {
      h.push_back({{"from", t.from ? nlohmann::json(std::string(cases::to_string(*t.from))) : nlohmann::json(nullptr)},
                   {"to", std::string(cases::to_string(t.to))},
                   {"time", t.time.to_iso()},
                   {"reason", t.reason}});
    }
    j["history"] = h;
  }
  return j;
}

void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  auto cols = [](const std::string& s) {  // display width: UTF-8 code points
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  for (std::size_t i = 0; i < header.size(); ++i) width[i] = cols(header[i]);
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], cols(r[i]));
  }
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (std::size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      if (i + 1 < r.size()) out.append(width[i] - cols(r[i]) + 2, ' ');
    }
    std::cout << out << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
}

void list_unassigned(store::Store& store, const CasesArgs& args) {
  auto events = store.unassigned_events();
  if (args.json) {
    for (const auto& e : events) {
      nlohmann::json j;
      j["event_id"] = e.event_id;
      j["report_id"] = e.report_id;
      j["classification"] = e.classification;
      j["source_ip"] = e.source_ip ? nlohmann::json(e.source_ip->to_string()) : nlohmann::json(nullptr);
      j["source_port"] = e.source_port ? nlohmann::json(*e.source_port) : nlohmann::json(nullptr);
      j["time"] = e.time.to_iso();
      j["severity"] = std::string(core::to_string(e.severity));
      std::cout << j.dump() << "\n";
    }
    return;
  }
  if (events.empty()) {
    std::cout << "no unassigned events\n";
    return;
  }
  std::map<std::int64_t, std::string> inputs;
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : events) {
    auto it = inputs.find(e.report_id);
    if (it == inputs.end()) {
      auto r = store.report(e.report_id);
      it = inputs.emplace(e.report_id, r ? r->input : "?").first;
    }
    rows.push_back({short_time(e.time), e.source_ip ? e.source_ip->to_string() : "-",
                    e.source_port ? std::to_string(*e.source_port) : "-", e.classification, it->second});
  }
  std::cout << events.size() << " unassigned events (no customer held the address at that time)\n";
  print_table({"TIME (UTC)", "SOURCE", "PORT", "CLASSIFICATION", "REPORT"}, rows);
}

void run_cases(const CasesArgs& args) {
  auto cfg = load_config(args.store_path);
  auto store = store::Store::open(cfg);
  if (args.unassigned) {
    list_unassigned(*store, args);
    return;
  }
  store::CaseFilter f;
  f.customer_id = args.customer;
  f.active_only = !args.all;
  if (!args.state.empty()) {
    f.state = cases::parse_case_state(args.state);
    if (!f.state)
      throw CommandFailed("unknown state '" + args.state + "' (open, notified, resolved, escalated, closed)", 2);
    f.active_only = false;
  }
  auto list = store->list_cases(f);
  if (args.json) {
    for (const auto& c : list) std::cout << case_json(*store, c, args.history).dump() << "\n";
    return;
  }
  if (list.empty()) {
    std::cout << "no cases\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : list) {
      std::string source = c.source_ip.to_string();
      if (c.source_port)
        source +=
            c.source_ip.is_v4() ? ":" + std::to_string(*c.source_port) : " port " + std::to_string(*c.source_port);
      rows.push_back({std::to_string(c.id), c.customer_id, std::string(cases::to_string(c.state)),
                      c.classification.to_string(), source, std::to_string(c.event_count), short_time(c.first_seen),
                      short_time(c.last_seen), std::string(core::to_string(c.severity))});
    }
    print_table({"CASE", "CUSTOMER", "STATE", "CLASSIFICATION", "SOURCE", "EVENTS", "FIRST SEEN (UTC)",
                 "LAST SEEN (UTC)", "SEVERITY"},
                rows);
    if (args.history) {
      for (const auto& c : list) {
        for (const auto& t : store->case_history(c.id)) {
          std::cout << "  case " << c.id << " " << short_time(t.time) << " "
                    << (t.from ? cases::to_string(*t.from) : std::string_view("-")) << " -> " << cases::to_string(t.to)
                    << ": " << t.reason << "\n";
        }
      }
    }
  }
  auto unassigned = store->unassigned_events().size();
  if (unassigned > 0 && args.customer.empty()) {
    std::cout << unassigned << " events without a holder: klartext cases --unassigned\n";
  }
}

void run_transition(const CasesArgs& args, cases::CaseState to) {
  auto cfg = load_config(args.store_path);
  auto store = store::Store::open(cfg);
  cases::CaseBook book(*store, cfg);
  auto now = core::Timestamp::now();
  auto tx = store->transaction();
  if (!store->get_case(args.case_id)) throw CommandFailed("no case " + std::to_string(args.case_id), 2);
  if (to == cases::CaseState::kResolved) {
    book.resolve(args.case_id, args.reason.empty() ? "customer reports it fixed" : args.reason, now);
  } else {
    book.close(args.case_id, args.reason.empty() ? "closed by the abuse desk" : args.reason, now);
  }
  tx.commit();
  auto c = store->get_case(args.case_id);
  std::cout << "case " << c->id << ": " << cases::to_string(c->state) << "\n";
}

void run_close_quiet(const CasesArgs& args) {
  auto cfg = load_config(args.store_path);
  auto store = store::Store::open(cfg);
  cases::CaseBook book(*store, cfg);
  auto tx = store->transaction();
  auto n = book.close_quiet(core::Timestamp::now());
  tx.commit();
  std::cout << "closed " << n << " quiet cases\n";
}

}  // namespace

void register_cases(CLI::App& app) {
  auto args = std::make_shared<CasesArgs>();
  auto* cmd = app.add_subcommand("cases", "List cases (active ones by default) or events without a holder");
  cmd->add_option("--customer", args->customer, "only this customer's cases");
  cmd->add_option("--state", args->state, "only cases in this state (open, notified, resolved, escalated, closed)");
  cmd->add_flag("--all", args->all, "include closed cases");
  cmd->add_flag("--unassigned", args->unassigned, "list events whose holder is unknown instead");
  cmd->add_flag("--json", args->json, "JSON Lines instead of a table");
  cmd->add_flag("--history", args->history, "include every state transition with time and reason");
  cmd->add_option("--store", args->store_path, "SQLite store file or PostgreSQL URI (overrides the configuration)");
  cmd->require_subcommand(0, 1);

  auto* resolve = cmd->add_subcommand("resolve", "Mark a case resolved (the customer says it is fixed)");
  resolve->add_option("case", args->case_id, "case id")->required();
  resolve->add_option("--reason", args->reason, "why (recorded in the case history)");
  resolve->callback([args] { run_transition(*args, cases::CaseState::kResolved); });
  auto* close = cmd->add_subcommand("close", "Close a case (verified fixed)");
  close->add_option("case", args->case_id, "case id")->required();
  close->add_option("--reason", args->reason, "why (recorded in the case history)");
  close->callback([args] { run_transition(*args, cases::CaseState::kClosed); });
  auto* quiet = cmd->add_subcommand("close-quiet", "Close notified/resolved cases quiet for close_after_quiet_seconds");
  quiet->callback([args] { run_close_quiet(*args); });
  for (auto* sub : {resolve, close, quiet}) {
    sub->add_option("--store", args->store_path, "SQLite store file or PostgreSQL URI (overrides the configuration)");
  }

  cmd->callback([args, cmd] {
    if (!cmd->get_subcommands().empty()) return;
    run_cases(*args);
  });
}

}  // namespace klartext::cli
