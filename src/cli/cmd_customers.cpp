// `klartext customers`: import the customer directory (CSV, FreeRADIUS detail) and look up holders.
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "customers/holder_index.hpp"
#include "customers/import.hpp"
#include "intake/file_source.hpp"
#include "store/store.hpp"

namespace klartext::cli {
namespace {

struct CustomersArgs {
  std::vector<std::string> customers, assignments, sessions, radius;
  std::string store_path;
  // lookup
  std::string ip, time;
  int port = -1;
};

std::unique_ptr<store::Store> open_store(const std::string& override_path) {
  auto cfg = config::load(global_options().config_path);
  if (!override_path.empty()) {
    config::apply_store_option(cfg, override_path);
  }
  return store::Store::open(cfg);
}

void run_import(const CustomersArgs& args) {
  if (args.customers.empty() && args.assignments.empty() && args.sessions.empty() && args.radius.empty()) {
    throw CommandFailed("nothing to import: give --customers, --assignments, --sessions or --radius-detail", 2);
  }
  auto store = open_store(args.store_path);
  std::size_t issues = 0;
  auto on_issue = [&](const formats::ParseIssue& i) {
    ++issues;
    store->add_issue(std::nullopt, i);
    std::cerr << i.input << ":" << i.line << ": " << i.code << ": " << i.reason << "\n";
  };
  using Importer =
      customers::ImportStats (*)(store::Store&, std::string_view, std::string_view, const customers::IssueFn&);
  auto run = [&](const std::vector<std::string>& files, Importer fn, const char* what) {
    for (const auto& f : files) {
      auto data = intake::read_file(f);
      auto tx = store->transaction();
      auto st = fn(*store, data, f, on_issue);
      tx.commit();
      std::cout << f << ": " << st.records << " " << what << " read, " << st.added << " added or updated, " << st.issues
                << " issues\n";
    }
  };
  // Customers first: assignments and sessions refer to them.
  run(args.customers, customers::import_customers_csv, "customers");
  run(args.assignments, customers::import_assignments_csv, "assignments");
  run(args.sessions, customers::import_sessions_csv, "sessions");
  run(args.radius, customers::import_radius_detail, "RADIUS records");
  std::cout << "customers: " << store->list_customers().size() << " customers, " << store->list_assignments().size()
            << " static assignments, " << store->count_sessions() << " sessions in the store\n";
  // The holder index for the next ingest, built now and saved with the data (from_store keeps it
  // when the data has not changed since).
  auto tx = store->transaction();
  auto index = customers::HolderIndex::from_store(*store);
  tx.commit();
  std::cout << "customers: holder index of " << index.sessions() << " sessions and " << index.statics()
            << " static assignments saved (" << (index.memory_bytes() >> 20) << " MB)\n";
  if (issues > 0) std::cout << "customers: " << issues << " issues (see above)\n";
}

void run_lookup(const CustomersArgs& args) {
  auto ip = core::IpAddress::parse(args.ip);
  if (!ip) throw CommandFailed("not an IP address: " + args.ip, 2);
  auto t = args.time.empty() ? core::Timestamp::now() : core::Timestamp::parse(args.time).value_or(core::Timestamp{});
  if (!args.time.empty() && !core::Timestamp::parse(args.time)) throw CommandFailed("not a time: " + args.time, 2);
  auto store = open_store(args.store_path);
  auto index = customers::HolderIndex::from_store(*store);
  std::optional<std::uint16_t> port;
  if (args.port >= 0) port = static_cast<std::uint16_t>(args.port);
  auto h = index.lookup(*ip, t, port);
  if (!h) {
    std::cout << ip->to_string() << " at " << t.to_iso() << ": no holder (unassigned)\n";
    return;
  }
  const auto& id = index.customer_id(h->customer);
  auto c = store->customer(id);
  std::cout << ip->to_string() << " at " << t.to_iso() << ": " << id << " " << (c ? c->name : std::string("?")) << " ("
            << (h->kind == customers::HolderKind::kSession ? "session" : "static assignment") << ")\n";
}

}  // namespace

void register_customers(CLI::App& app) {
  auto args = std::make_shared<CustomersArgs>();
  auto* cmd = app.add_subcommand("customers", "Manage the customer directory (who held which address when)");
  cmd->require_subcommand(1);
  auto* imp = cmd->add_subcommand("import", "Import customers, static assignments and sessions (docs/customers.md)");
  imp->add_option("--customers", args->customers, "customers CSV (id,name,emails,language,time_zone,accounts)");
  imp->add_option("--assignments", args->assignments, "static assignments CSV (customer,prefix,valid_from,valid_to)");
  imp->add_option("--sessions", args->sessions,
                  "dynamic sessions CSV (customer,address,port_from,port_to,start,stop,session_id)");
  imp->add_option("--radius-detail", args->radius, "FreeRADIUS detail accounting file (Start/Stop/Interim-Update)");
  imp->add_option("--store", args->store_path, "SQLite store file or PostgreSQL URI (overrides the configuration)");
  imp->callback([args] { run_import(*args); });

  auto* look = cmd->add_subcommand("lookup", "Show who held an address at a time");
  look->add_option("ip", args->ip, "IPv4 or IPv6 address")->required();
  look->add_option("time", args->time, "instant (ISO 8601, UTC if no zone); default: now");
  look->add_option("--port", args->port, "source port (for CGNAT port ranges)");
  look->add_option("--store", args->store_path, "SQLite store file or PostgreSQL URI (overrides the configuration)");
  look->callback([args] { run_lookup(*args); });
}

}  // namespace klartext::cli
